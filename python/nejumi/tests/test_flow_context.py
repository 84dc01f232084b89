"""The flow Context's code execution: the sandbox client over real gRPC on loopback.

The sandbox service itself arrives with the code-execution work; this servicer speaks its
protocol (nejumi.v1.Sandbox) and really runs the code in a Python subprocess.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from nejumi.flow import Caller, FlowContext, Judges
from nejumi.request_key import ModelIdentity
from nejumi.request_queue import FailurePolicy, RequestQueue
from nejumi.sandbox_client import SandboxClient
from nejumi.store import Store
from nejumi_proto.v1 import inference_pb2, sandbox_pb2, sandbox_pb2_grpc, types_pb2


class SubprocessSandbox(sandbox_pb2_grpc.SandboxServicer):
    async def Execute(self, request: sandbox_pb2.ExecuteRequest, context: object) -> sandbox_pb2.ExecuteResponse:
        started = time.monotonic()
        try:
            done = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-c", request.code],
                input=request.stdin,
                capture_output=True,
                text=True,
                timeout=request.timeout_s or 10,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return sandbox_pb2.ExecuteResponse(timed_out=True, duration_s=time.monotonic() - started)
        return sandbox_pb2.ExecuteResponse(
            exit_code=done.returncode, stdout=done.stdout, stderr=done.stderr, duration_s=time.monotonic() - started
        )


class NoModel:
    async def generate(self, request_id: str, request: inference_pb2.GenerateRequest) -> types_pb2.Response:
        raise AssertionError("this flow asks no model")

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        raise AssertionError("this flow counts no tokens")

    async def model_info(self) -> inference_pb2.ModelInfoResponse:
        return inference_pb2.ModelInfoResponse()

    async def close(self) -> None:
        return None


class CodeBenchmark:
    name = "code"
    generation = types_pb2.GenerationParams()
    policy = FailurePolicy()


async def run_code(tmp_path: Path, code: str, sandbox: bool = True) -> tuple[sandbox_pb2.ExecuteResponse, object]:
    server = grpc.aio.server()
    sandbox_pb2_grpc.add_SandboxServicer_to_server(SubprocessSandbox(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    store = Store(tmp_path / "s.sqlite")
    try:
        provider = NoModel()
        caller = Caller(RequestQueue(provider, store, 1), provider, ModelIdentity("scripted", "none"))
        client = SandboxClient(f"127.0.0.1:{port}")
        sample = types_pb2.Sample(benchmark="code", task="t", id="0")
        ctx = FlowContext(
            CodeBenchmark(),
            sample,  # type: ignore[arg-type]
            caller,
            Judges({}, {}),
            client if sandbox else None,
        )
        response = await ctx.execute(code, stdin="4\n", timeout_s=5)
        await client.close()
        return response, ctx.finish(response.stdout)
    finally:
        store.close()
        await server.stop(None)


def test_execute_runs_code_in_the_sandbox_and_records_it(tmp_path: Path) -> None:
    response, transcript = asyncio.run(run_code(tmp_path, "import sys\nprint(int(sys.stdin.read()) ** 2)"))
    assert (response.exit_code, response.stdout) == (0, "16\n")
    (event,) = transcript.events
    assert event.execution.request.code.startswith("import sys")
    assert event.execution.response.stdout == "16\n"
    assert len(event.execution.key) == 64


def test_a_failing_program_is_a_result_not_an_error(tmp_path: Path) -> None:
    response, _ = asyncio.run(run_code(tmp_path, "raise SystemExit(3)"))
    assert response.exit_code == 3


def test_without_a_sandbox_the_error_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"code/t/0shot/#0 needs the code-execution sandbox: set nejumi.sandbox"):
        asyncio.run(run_code(tmp_path, "print(1)", sandbox=False))
