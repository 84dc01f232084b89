"""A loopback judge that speaks OpenAI's Responses API and Chat Completions, with scripted verdicts.

The real `openai` SDK talks to it unchanged. A request asks for structured output (Responses
`text.format`, Chat `response_format`); the judge answers with a valid instance of that JSON
schema (first enum value, `true`, 80, "ok"), unless a rule matching the request's prompt says
otherwise for that attempt: an invalid verdict, an HTTP 429 with Retry-After, or a delay
longer than the client waits (a timeout). Every request is recorded with its prompt text,
so tests count judge calls at the server.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from support.fake_vendors import responses_answer


@dataclass(frozen=True)
class Reply:
    """What one attempt of a matching prompt gets; None fields: the schema's valid verdict."""

    text: str | None = None  # verbatim output text (e.g. an invalid verdict)
    status: int = 200  # an HTTP error status (429, 500) instead of an answer
    retry_after_s: float | None = None
    delay_s: float = 0.0  # wait before answering (longer than the client's timeout: a timeout)


@dataclass
class FakeJudge:
    base_url: str
    # (path, prompt text, schema name) of every request, in arrival order.
    requests: list[tuple[str, str, str]] = field(default_factory=list)

    def prompts(self) -> list[str]:
        return [prompt for _, prompt, _ in self.requests]

    def schemas(self) -> Counter[str]:
        return Counter(schema for _, _, schema in self.requests)


def valid_instance(schema: Mapping[str, Any]) -> Any:
    """A value the JSON schema accepts, as a judge that always answers well would give."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: valid_instance(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "boolean":
        return True
    if kind == "integer":
        return 80
    if kind == "number":
        return 0.8
    if kind == "array":
        return []
    return "ok"


def prompt_text(body: Mapping[str, Any]) -> str:
    """The user messages' text, joined (what differs between two judgements; the system prompt and
    its place, `instructions` or a message, depend on the protocol)."""
    messages = body.get("input") or body.get("messages") or []
    texts = []
    for message in messages:
        if message.get("role") != "user":
            continue
        content = message.get("content", "")
        if isinstance(content, list):
            content = "".join(str(part.get("text", "")) for part in content)
        texts.append(str(content))
    return "\n".join(texts)


def requested_schema(body: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """(name, schema) of the structured output a request asks for; ("", {}) for free text."""
    form = (body.get("text") or {}).get("format") or {}
    if form.get("type") == "json_schema":
        return str(form.get("name", "")), form.get("schema", {})
    chat = (body.get("response_format") or {}).get("json_schema") or {}
    return str(chat.get("name", "")), chat.get("schema", {})


def chat_answer(body: Mapping[str, Any], text: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": text}
    return {
        "id": "chatcmpl-judge",
        "object": "chat.completion",
        "created": 0,
        "model": body["model"],
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
    }


@contextlib.contextmanager
def fake_judge(rules: Mapping[str, Sequence[Reply]] | None = None, delay_s: float = 0.0) -> Iterator[FakeJudge]:
    """`rules`: prompt substring -> the replies of its 1st, 2nd, ... attempt (later attempts: valid).
    `delay_s`: how long every answer takes (a slow judge, so a test can stop a run mid-judging)."""
    rules = rules or {}
    lock = threading.Lock()
    attempts: Counter[tuple[str, str]] = Counter()
    judge = FakeJudge(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prompt = prompt_text(body)
            name, schema = requested_schema(body)
            reply = Reply()
            with lock:
                judge.requests.append((self.path, prompt, name))
                for needle, replies in rules.items():
                    if needle in prompt:
                        attempt = attempts[(needle, prompt)]
                        attempts[(needle, prompt)] += 1
                        if attempt < len(replies):
                            reply = replies[attempt]
                        break
            time.sleep(max(delay_s, reply.delay_s))
            if reply.status != 200:
                headers = {} if reply.retry_after_s is None else {"Retry-After": str(reply.retry_after_s)}
                self._send(reply.status, {"error": {"message": "scripted failure", "type": "judge_error"}}, headers)
                return
            text = reply.text if reply.text is not None else json.dumps(valid_instance(schema), ensure_ascii=False)
            answer = responses_answer(body, text) if self.path.endswith("/responses") else chat_answer(body, text)
            self._send(200, answer)

        def _send(self, status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            # The client may have given up (a scripted timeout): its socket is gone.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    judge.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield judge
    finally:
        server.shutdown()
        server.server_close()
