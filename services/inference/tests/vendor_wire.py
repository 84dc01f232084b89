"""What Gemini's generateContent and Bedrock runtime's InvokeModel/Converse answer on the wire, shared by the
backend tests (routes of vendor_http.fake_api) and the whole-run fake (tests/support/fake_vendors.py), so both
speak one version of each protocol."""

import urllib.parse
from typing import Any

from vendor_http import Answer

GEMINI_USAGE = {"promptTokenCount": 9, "candidatesTokenCount": 3, "thoughtsTokenCount": 5, "totalTokenCount": 17}


def gemini_path(model: str) -> str:
    return f"/v1beta/models/{model}:generateContent"


def gemini_prompt(body: dict[str, Any]) -> str:
    """The text of the last user turn of a generateContent request."""
    turn = next(c for c in reversed(body["contents"]) if c.get("role") == "user")
    return "".join(part.get("text", "") for part in turn["parts"])


def gemini_answer(text: str, thought: str | None = None, model_version: str | None = None) -> dict[str, Any]:
    parts = ([{"text": thought, "thought": True}] if thought else []) + [{"text": text}]
    candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
    answer: dict[str, Any] = {"candidates": [candidate], "usageMetadata": GEMINI_USAGE}
    if model_version:
        answer["modelVersion"] = model_version
    return answer


def gemini_rate_limit(retry_delay: str) -> Answer:
    """A 429 whose wait is in google.rpc.RetryInfo, as Gemini sends it (no Retry-After header)."""
    retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
    error = {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED", "details": [retry]}
    return Answer(429, {"error": error})


def bedrock_call(path: str) -> tuple[str, str]:
    """(model id, operation) of a Bedrock runtime path: /model/<url-quoted id>/invoke or /converse."""
    model, operation = urllib.parse.unquote(path).removeprefix("/model/").rsplit("/", 1)
    return model, operation


def bedrock_prompt(body: dict[str, Any]) -> str:
    """The last user text of a Claude Messages or Converse body, or a Llama prompt as sent."""
    if "prompt" in body:
        return str(body["prompt"])
    turn = next(m for m in reversed(body["messages"]) if m.get("role") == "user")
    content = turn["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content)


def bedrock_claude_answer(text: str, thinking: str | None = None) -> dict[str, Any]:
    content = ([{"type": "thinking", "thinking": thinking, "signature": "sig"}] if thinking else []) + [
        {"type": "text", "text": text}
    ]
    usage = {"input_tokens": 12, "output_tokens": 5}
    return {"content": content, "stop_reason": "end_turn", "usage": usage, "model": "claude-sonnet-4"}


def bedrock_llama_answer(text: str) -> dict[str, Any]:
    return {"generation": text, "prompt_token_count": 9, "generation_token_count": 2, "stop_reason": "stop"}


def converse_answer(text: str, reasoning: str | None = None) -> dict[str, Any]:
    content = ([{"reasoningContent": {"reasoningText": {"text": reasoning}}}] if reasoning else []) + [{"text": text}]
    usage = {"inputTokens": 10, "outputTokens": 4, "totalTokens": 14}
    return {"output": {"message": {"role": "assistant", "content": content}}, "stopReason": "end_turn", "usage": usage}


def bedrock_throttle(retry_after_s: str) -> Answer:
    """Bedrock's throttling answer: the error's name travels in x-amzn-ErrorType."""
    error = {"message": "Too many requests, please wait before trying again."}
    return Answer(429, error, {"x-amzn-ErrorType": "ThrottlingException", "Retry-After": retry_after_s})
