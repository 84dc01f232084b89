"""A tokenizer-free estimate of how many tokens a text is, for `nejumi plan`'s budgets.

`nejumi plan` sends nothing and loads no model, so it cannot ask the real tokenizer.
The rule below is close to the BPE tokenizers of current LLMs (OpenAI's o200k,
Llama 3, Qwen, Claude's) on Japanese and English text, and errs high on Japanese:

- a run of ASCII letters is one token per 6 letters (rounded up): "the" is 1, "tokenization" 2;
- a run of digits is one token per 3 digits, as those tokenizers group digits;
- every other non-space character is one token: punctuation, kana, kanji (current
  tokenizers spend about 0.7 to 1.1 tokens per Japanese character);
- spaces cost nothing (they merge into the next word);
- each chat message adds 4 tokens of role framing.

Real counts differ by model; treat the totals as estimates within about ±30%.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from nejumi_proto.v1 import types_pb2

LETTERS_PER_TOKEN = 6
DIGITS_PER_TOKEN = 3
MESSAGE_OVERHEAD = 4

_LETTERS = re.compile(r"[A-Za-z]+")
_DIGITS = re.compile(r"[0-9]+")
_OTHER = re.compile(r"[^\sA-Za-z0-9]")


def estimate_tokens(text: str) -> int:
    """The estimated token count of `text` (see the module docstring for the rule)."""
    letters = sum(-(-len(word) // LETTERS_PER_TOKEN) for word in _LETTERS.findall(text))
    digits = sum(-(-len(number) // DIGITS_PER_TOKEN) for number in _DIGITS.findall(text))
    return letters + digits + len(_OTHER.findall(text))


def request_tokens(
    messages: Sequence[types_pb2.ChatMessage], prompt: str = "", tools: Sequence[types_pb2.Tool] = ()
) -> int:
    """The estimated prompt tokens of one request: its messages (or raw prompt) and tool definitions."""
    total = estimate_tokens(prompt)
    for message in messages:
        total += MESSAGE_OVERHEAD + estimate_tokens(message.content)
        for call in message.tool_calls:
            total += estimate_tokens(call.name) + estimate_tokens(call.arguments_json)
    for tool in tools:
        total += estimate_tokens(tool.name) + estimate_tokens(tool.description) + estimate_tokens(tool.parameters_json)
    return total
