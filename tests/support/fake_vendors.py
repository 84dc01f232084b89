"""A loopback server speaking four vendor APIs, for whole runs of API models: OpenAI Responses (POST /v1/responses),
Anthropic Messages (POST /v1/messages), Gemini generateContent (POST /v1beta/models/<model>:generateContent) and
Bedrock runtime (POST /model/<id>/invoke for Claude and Llama, /model/<id>/converse for Nova).

The real SDKs talk to it unchanged (point them at it with OPENAI_BASE_URL, ANTHROPIC_BASE_URL,
GOOGLE_GEMINI_BASE_URL, AWS_ENDPOINT_URL_BEDROCK_RUNTIME, so a model config stays as the official harness ships
it). Answers come from a function of the last user text; a Responses request with structured output
(``text.format``) is answered by ``verdict``. The first ``fail_first`` requests get each API's rate-limit answer
with a zero wait. Every answer carries reasoning (a summary, a thinking block, a thought part, reasoning content).
The HTTP server and the Gemini/Bedrock answers are the backend tests' own (services/inference/tests).
"""

from __future__ import annotations

import contextlib
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from vendor_http import Answer, FakeAPI, Sent, fake_api
from vendor_wire import (
    bedrock_call,
    bedrock_claude_answer,
    bedrock_llama_answer,
    bedrock_prompt,
    bedrock_throttle,
    converse_answer,
    gemini_answer,
    gemini_prompt,
    gemini_rate_limit,
)

THOUGHT = "thought about it"


@dataclass
class FakeVendors:
    api: FakeAPI

    @property
    def url(self) -> str:
        return self.api.url

    def bodies(self, path: str) -> list[dict[str, Any]]:
        """The bodies sent to ``path`` (unquoted, without the query), in arrival order."""
        return [sent.body for sent in self.api.received if _plain(sent.path) == path]


def last_user_text(messages: list[dict[str, Any]]) -> str:
    content = next(m["content"] for m in reversed(messages) if m.get("role") == "user")
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content)
    return str(content)


def responses_answer(body: dict[str, Any], text: str) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": []}
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 0,
        "model": body["model"],
        "status": "completed",
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": THOUGHT}]},
            {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": [part]},
        ],
        "usage": {"input_tokens": 10, "output_tokens": 3, "total_tokens": 13},
    }


def _messages_answer(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [
            {"type": "thinking", "thinking": THOUGHT, "signature": "sig"},
            {"type": "text", "text": text},
        ],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 3},
    }


def _plain(path: str) -> str:
    return urllib.parse.unquote(path.split("?", maxsplit=1)[0])


def _answer(sent: Sent, reply: Callable[[str], str], verdict: Callable[[str], str]) -> Answer:
    path, body = _plain(sent.path), sent.body
    if path == "/v1/responses":
        text = last_user_text(body["input"])
        answer = verdict(text) if "format" in (body.get("text") or {}) else reply(text)
        return Answer(200, responses_answer(body, answer))
    if path == "/v1/messages":
        return Answer(200, _messages_answer(body, reply(last_user_text(body["messages"]))))
    if path.startswith("/v1beta/models/") and path.endswith(":generateContent"):
        return Answer(200, gemini_answer(reply(gemini_prompt(body)), thought=THOUGHT))
    if path.startswith("/model/"):
        model, operation = bedrock_call(path)
        text = reply(bedrock_prompt(body))
        if operation == "converse":
            return Answer(200, converse_answer(text, reasoning=THOUGHT))
        if "llama" in model:
            return Answer(200, bedrock_llama_answer(text))
        return Answer(200, bedrock_claude_answer(text, thinking=THOUGHT))
    return Answer(404, {"error": {"message": f"no route {path}"}})


def _rate_limited(path: str) -> Answer:
    if path.startswith("/v1beta/"):
        return gemini_rate_limit("0s")
    if path.startswith("/model/"):
        return bedrock_throttle("0")
    return Answer(429, {"error": {"message": "slow down", "type": "rate_limit_error"}}, {"Retry-After": "0"})


@contextlib.contextmanager
def fake_vendors(
    reply: Callable[[str], str], verdict: Callable[[str], str] = lambda _: "{}", fail_first: int = 0
) -> Iterator[FakeVendors]:
    lock = threading.Lock()
    failures = {"left": fail_first}

    def route(sent: Sent) -> Answer:
        with lock:
            limited = failures["left"] > 0
            failures["left"] -= int(limited)
        return _rate_limited(_plain(sent.path)) if limited else _answer(sent, reply, verdict)

    with fake_api(route) as api:
        yield FakeVendors(api)
