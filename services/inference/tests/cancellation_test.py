"""Work stops when its client stops waiting: a cancelled call, a killed client process, a passed deadline."""

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from harness import inference_stub, read_log, running_server, scripted_args, user_request, wait_for

from nejumi_inference.launcher import ServerProcess
from nejumi_proto.v1 import inference_pb2

SLOW_S = 5.0


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    workdir = tmp_path_factory.mktemp("slow")
    log = workdir / "requests.jsonl"
    with running_server(
        scripted_args(workdir, {"default": "late", "delay_s": SLOW_S, "request_log": str(log)})
    ) as server:
        yield server, log


def _status_of(log: Path, request_id: str) -> str | None:
    return next((r["status"] for r in read_log(log) if r["request_id"] == request_id), None)


def _in_flight(stub: object) -> int:
    return stub.Health(inference_pb2.HealthRequest()).in_flight  # type: ignore[attr-defined]


def test_cancelled_unary_call_cancels_the_request(slow_server: tuple[ServerProcess, Path]) -> None:
    server, log = slow_server
    with inference_stub(server.address) as stub:
        call = stub.GenerateOne.future(user_request("unary-1", "hi"))
        wait_for(lambda: _in_flight(stub) == 1, what="the request to be in flight")
        call.cancel()
        assert wait_for(lambda: _status_of(log, "unary-1"), timeout_s=3, what="the log line") == "cancelled"
        wait_for(lambda: _in_flight(stub) == 0, timeout_s=3, what="the queue to empty")


def test_client_killed_mid_stream_cancels_its_requests(slow_server: tuple[ServerProcess, Path], tmp_path: Path) -> None:
    server, log = slow_server
    client = tmp_path / "client.py"
    client.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            import grpc
            from nejumi_proto.v1 import inference_pb2, inference_pb2_grpc, types_pb2

            def requests():
                for i in range(3):
                    yield inference_pb2.GenerateRequest(
                        request_id=f"killed-{{i}}", messages=[types_pb2.ChatMessage(role="user", content="hi")]
                    )
                print("sent", flush=True)
                time.sleep(60)

            stub = inference_pb2_grpc.InferenceStub(grpc.insecure_channel({server.address!r}))
            for result in stub.Generate(requests()):
                print(result, flush=True)
            """
        )
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    process = subprocess.Popen([sys.executable, str(client)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "sent"
        with inference_stub(server.address) as stub:
            wait_for(lambda: _in_flight(stub) == 3, what="three requests in flight")
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            statuses = wait_for(
                lambda: (
                    all(_status_of(log, f"killed-{i}") for i in range(3))
                    and [_status_of(log, f"killed-{i}") for i in range(3)]
                ),
                timeout_s=3,
                what="log lines of the killed client's requests",
            )
            assert statuses == ["cancelled"] * 3
            wait_for(lambda: _in_flight(stub) == 0, timeout_s=3, what="the queue to empty")
    finally:
        process.kill()
        process.wait()


def test_deadline_is_honoured(slow_server: tuple[ServerProcess, Path]) -> None:
    server, log = slow_server
    with inference_stub(server.address) as stub:
        with pytest.raises(grpc.RpcError) as failure:
            stub.GenerateOne(user_request("deadline-1", "hi"), timeout=0.5)
        assert failure.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert wait_for(lambda: _status_of(log, "deadline-1"), timeout_s=3, what="the log line") == "cancelled"


def test_sigterm_stops_the_server_and_removes_its_port_file(tmp_path: Path) -> None:
    with running_server(scripted_args(tmp_path, {"default": "ok"})) as server:
        assert server.port_file.read_text().strip() == str(server.port)
    assert server.process.returncode == 0
    assert not server.port_file.exists()


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
