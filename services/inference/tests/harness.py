"""Helpers for the service tests: start the real server, build requests, read the scripted request log."""

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import grpc

from nejumi_inference.launcher import ServerProcess, start_server_process
from nejumi_proto.v1 import inference_pb2, inference_pb2_grpc, types_pb2

T = TypeVar("T")


@contextlib.contextmanager
def running_server(args: Sequence[str], **kwargs: Any) -> Iterator[ServerProcess]:
    """The real server as a child process; on exit it must stop cleanly on SIGTERM."""
    server = start_server_process(args, timeout_s=60, **kwargs)
    try:
        yield server
    finally:
        code = server.stop(timeout_s=20)
        assert code == 0, f"the server exited with {code}:\n{server.log_tail()}"


def scripted_args(workdir: Path, script: dict[str, Any], *extra: str) -> list[str]:
    path = workdir / "script.json"
    path.write_text(json.dumps(script), encoding="utf-8")
    config = json.dumps({"script": str(path)})
    return ["--backend", "scripted", "--model", "scripted-model", "--backend-config", config, *extra]


@contextlib.contextmanager
def inference_stub(address: str) -> Iterator[inference_pb2_grpc.InferenceStub]:
    with grpc.insecure_channel(address) as channel:
        yield inference_pb2_grpc.InferenceStub(channel)


def user_request(request_id: str, text: str, **params: Any) -> inference_pb2.GenerateRequest:
    return inference_pb2.GenerateRequest(
        request_id=request_id,
        messages=[types_pb2.ChatMessage(role="user", content=text)],
        params=types_pb2.GenerationParams(**params),
    )


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def wait_for(probe: Callable[[], T], timeout_s: float = 10.0, what: str = "a condition") -> T:
    """Poll ``probe`` until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def code_value(code: grpc.StatusCode) -> int:
    return code.value[0]
