"""A local OpenAI-compatible HTTP server (POST /v1/chat/completions) for tests.

It speaks the real wire protocol, so the `openai` package talks to it unchanged.
Replies come from a function of the last user message; the first `fail_first`
requests get HTTP 429 (rate limited) to exercise retries.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextlib.contextmanager
def fake_openai(reply: Callable[[str], str], fail_first: int = 0) -> Iterator[dict[str, Any]]:
    state: dict[str, Any] = {"requests": [], "failures_left": fail_first, "lock": threading.Lock()}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state["lock"]:
                state["requests"].append(body)
                rate_limited = state["failures_left"] > 0
                state["failures_left"] -= int(rate_limited)
            if rate_limited:
                self._send(429, {"error": {"message": "slow down", "type": "rate_limit", "code": "rate_limit"}})
                return
            last_user = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
            text = reply(last_user)
            self._send(
                200,
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
                },
            )

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["base_url"] = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
