"""API list prices, for `nejumi plan`'s cost estimate. An estimate, not a quote.

USD per 1M input and per 1M output tokens, for standard requests (no batch discount,
no prompt caching, the lowest context tier), as the vendors published them around
PRICES_AS_OF. They cover the models the official Nejumi Leaderboard 4 model configs
name and the default judges (gpt-4.1-2025-04-14, o3-mini-2025-01-31). Reasoning
tokens are billed as output. Prices change: check the vendor's page before you budget.
A model not listed here has an unknown cost (never 0). Amazon Bedrock's on-demand
prices for Claude match Anthropic's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PRICES_AS_OF = "2025-09-16"


@dataclass(frozen=True)
class Price:
    input_per_million: float
    output_per_million: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_million + output_tokens * self.output_per_million) / 1_000_000


# Keyed by the normalised model name (see `normalise`).
PRICES: dict[str, Price] = {
    # OpenAI
    "gpt-4.1-2025-04-14": Price(2.00, 8.00),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini-2025-04-14": Price(0.40, 1.60),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano-2025-04-14": Price(0.10, 0.40),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4o-2024-11-20": Price(2.50, 10.00),
    "gpt-4o-2024-08-06": Price(2.50, 10.00),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini-2024-07-18": Price(0.15, 0.60),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-5-2025-08-07": Price(1.25, 10.00),
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini-2025-08-07": Price(0.25, 2.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano-2025-08-07": Price(0.05, 0.40),
    "gpt-5-nano": Price(0.05, 0.40),
    "o1-2024-12-17": Price(15.00, 60.00),
    "o1": Price(15.00, 60.00),
    "o3-2025-04-16": Price(2.00, 8.00),
    "o3": Price(2.00, 8.00),
    "o3-mini-2025-01-31": Price(1.10, 4.40),
    "o3-mini": Price(1.10, 4.40),
    "o4-mini-2025-04-16": Price(1.10, 4.40),
    "o4-mini": Price(1.10, 4.40),
    # Anthropic (direct, Bedrock and OpenRouter names)
    "claude-opus-4-1-20250805": Price(15.00, 75.00),
    "claude-opus-4.1": Price(15.00, 75.00),
    "claude-opus-4-20250514": Price(15.00, 75.00),
    "claude-opus-4": Price(15.00, 75.00),
    "claude-sonnet-4-20250514": Price(3.00, 15.00),
    "claude-sonnet-4": Price(3.00, 15.00),
    "claude-3-7-sonnet-20250219": Price(3.00, 15.00),
    "claude-3.7-sonnet": Price(3.00, 15.00),
    "claude-3-5-sonnet-20241022": Price(3.00, 15.00),
    "claude-3-5-sonnet-20240620": Price(3.00, 15.00),
    "claude-3.5-sonnet": Price(3.00, 15.00),
    "claude-3-5-haiku-20241022": Price(0.80, 4.00),
    "claude-3.5-haiku": Price(0.80, 4.00),
    "claude-3-haiku-20240307": Price(0.25, 1.25),
    # Amazon Nova (Bedrock, us-east-1)
    "nova-pro": Price(0.80, 3.20),
    "nova-lite": Price(0.06, 0.24),
    "nova-micro": Price(0.035, 0.14),
    # Google Gemini (prompts up to 200k tokens)
    "gemini-2.5-pro": Price(1.25, 10.00),
    "gemini-2.5-flash": Price(0.30, 2.50),
    "gemini-2.5-flash-lite": Price(0.10, 0.40),
    # Mistral
    "mistral-large-2411": Price(2.00, 6.00),
    "mistral-medium-2505": Price(0.40, 2.00),
    "mistral-small-2503": Price(0.10, 0.30),
    # Cohere
    "command-a-03-2025": Price(2.50, 10.00),
    # xAI
    "grok-4-0709": Price(3.00, 15.00),
    "grok-4": Price(3.00, 15.00),
    "grok-3": Price(3.00, 15.00),
    "grok-3-mini": Price(0.30, 0.50),
}

# Bedrock model ids: a cross-region prefix, the vendor, the name, a version suffix
# ("us.anthropic.claude-sonnet-4-20250514-v1:0", "us.amazon.nova-lite-v1:0").
_BEDROCK = re.compile(
    r"^(?:(?:us|eu|apac|global)\.)?(?:anthropic|amazon|meta|mistral|cohere)\.(.+?)(?:-v\d+(?::\d+)?)?$"
)


def normalise(model: str) -> str:
    """The key a model name is priced under: lower case, without an OpenRouter-style
    `vendor/` prefix or Bedrock's region, vendor and version parts."""
    name = model.strip().lower().rsplit("/", 1)[-1]
    bedrock = _BEDROCK.match(name)
    return bedrock.group(1) if bedrock else name


def price_of(model: str) -> Price | None:
    """The list price of `model`, or None when it is not in the table (cost unknown)."""
    return PRICES.get(normalise(model))
