"""A loopback server speaking the OpenAI Responses API (POST /v1/responses) and Anthropic's Messages API
(POST /v1/messages), for whole runs of API models.

The real SDKs talk to it unchanged (point them at it with OPENAI_BASE_URL / ANTHROPIC_BASE_URL, so a model
config stays as the official harness ships it). Answers come from a function of the last user text; a request
with structured output (``text.format``) is answered by ``verdict``. The first ``fail_first`` requests get
HTTP 429 with ``Retry-After: 0``. Every answer carries reasoning (a summary, a thinking block).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeVendors:
    url: str
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [body for sent_path, body in self.requests if sent_path == path]


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
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "thought about it"}]},
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
            {"type": "thinking", "thinking": "thought about it", "signature": "sig"},
            {"type": "text", "text": text},
        ],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 3},
    }


@contextlib.contextmanager
def fake_vendors(
    reply: Callable[[str], str], verdict: Callable[[str], str] = lambda _: "{}", fail_first: int = 0
) -> Iterator[FakeVendors]:
    lock = threading.Lock()
    failures = {"left": fail_first}
    state = FakeVendors(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            path = self.path.split("?")[0]
            with lock:
                state.requests.append((path, body))
                limited = failures["left"] > 0
                failures["left"] -= int(limited)
            if limited:
                self._send(429, {"error": {"message": "slow down", "type": "rate_limit_error"}}, {"Retry-After": "0"})
            elif path == "/v1/responses":
                text = last_user_text(body["input"])
                answer = verdict(text) if "format" in (body.get("text") or {}) else reply(text)
                self._send(200, responses_answer(body, answer))
            elif path == "/v1/messages":
                self._send(200, _messages_answer(body, reply(last_user_text(body["messages"]))))
            else:
                self._send(404, {"error": {"message": f"no route {path}"}})

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
