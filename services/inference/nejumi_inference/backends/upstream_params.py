"""Upstream's per-client parameter allow-lists (spec §12.2): what each official client passes to its API.

Upstream builds every client with ``**cfg.generator`` and forwards only the keys on its client's list, dropping
the rest silently. Under ``compatibility: official`` the backends do the same, so a config behaves as it does
upstream (a typo such as ``temparature`` is not sent); under ``corrected`` they send what upstream dropped only
where docs/compatibility.md says so.
"""

import json
import logging
from collections.abc import Collection, Mapping
from typing import Any

from nejumi_inference.backends.options import OptionsError
from nejumi_proto.v1 import types_pb2

log = logging.getLogger(__name__)

COMPATIBILITY_MODES = ("official", "corrected")

# OpenAIClient (Chat Completions): parallel_tool_calls, timeout, model and reasoning are dropped.
OPENAI_CHAT = frozenset(
    {
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "max_tokens",
        "n",
        "presence_penalty",
        "response_format",
        "seed",
        "stop",
        "stream",
        "temperature",
        "top_p",
        "tools",
        "tool_choice",
        "user",
        "extra_body",
        "functions",
        "function_call",
    }
)
# OpenAIResponsesClient, after its renames (max_tokens -> max_output_tokens, top_k -> top_logprobs).
OPENAI_RESPONSES = frozenset(
    {
        "instructions",
        "max_output_tokens",
        "max_tool_calls",
        "metadata",
        "parallel_tool_calls",
        "previous_response_id",
        "reasoning",
        "service_tier",
        "store",
        "stream",
        "text",
        "text_format",
        "tool_choice",
        "tools",
        "top_logprobs",
        "truncation",
        "user",
    }
)
AZURE_OPENAI_CHAT = frozenset(
    {
        "temperature",
        "top_p",
        "n",
        "stream",
        "stop",
        "max_tokens",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "user",
        "response_format",
        "seed",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
    }
)
ANTHROPIC = frozenset({"temperature", "top_p", "top_k", "max_tokens", "stop_sequences", "stream"})


def check_mode(mode: str, backend: str) -> str:
    if mode not in COMPATIBILITY_MODES:
        raise OptionsError(
            f"--backend-config: compatibility of the {backend} backend must be one of "
            f"{', '.join(COMPATIBILITY_MODES)} (got {mode!r})"
        )
    return mode


def request_extras(params: types_pb2.GenerationParams) -> dict[str, Any]:
    """``params.extra_json`` as the keyword arguments upstream's client received beside the typed fields."""
    return dict(json.loads(params.extra_json)) if params.extra_json.strip() else {}


def allowed(extras: Mapping[str, Any], allow_list: Collection[str], client: str) -> dict[str, Any]:
    """The keys of ``extras`` that upstream's ``client`` forwards; the dropped ones are logged once per call."""
    kept = {key: value for key, value in extras.items() if key in allow_list}
    dropped = sorted(set(extras) - set(kept))
    if dropped:
        log.debug("%s: not sent (upstream's allow-list drops them): %s", client, ", ".join(dropped))
    return kept
