"""A loopback HTTP server for the vendor-SDK backend tests: the test gives it a function that answers each request
as the vendor's API would, and it records what the real SDK sent."""

import asyncio
import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest

from nejumi_inference.errors import BackendError

T = TypeVar("T")


@dataclass
class Sent:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Answer:
    status: int = 200
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep before answering (a timeout test)


Route = Callable[[Sent], Answer]


@dataclass
class FakeAPI:
    port: int
    received: list[Sent]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def fake_api(route: Route) -> Iterator[FakeAPI]:
    received: list[Sent] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            sent = Sent("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, _json(raw))
            received.append(sent)
            answer = route(sent)
            if answer.delay_s:
                time.sleep(answer.delay_s)
            data = json.dumps(answer.payload).encode()
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout tests)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeAPI(server.server_port, received)
    finally:
        server.shutdown()
        server.server_close()


def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback requests must not go to a proxy the environment names."""
    for name in list(os.environ):
        if "proxy" in name.lower():
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def require_sdk(module: str, install: str) -> None:
    """Skip without the vendor SDK, an optional extra; under CI=true its absence fails the test."""
    try:
        __import__(module)
    except ImportError:
        reason = f"the optional extra {module!r} is not installed (pip install {install})"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(reason + " — required when CI=true")
        pytest.skip(reason)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def failure(coroutine: Coroutine[Any, Any, Any]) -> BackendError:
    """The BackendError the coroutine raises."""
    with pytest.raises(BackendError) as raised:
        asyncio.run(coroutine)
    return raised.value


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")
