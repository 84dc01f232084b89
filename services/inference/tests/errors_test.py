"""Failures a client sees: exact status codes and messages naming the field, a full queue, a backend that is
loading or down, and the shared-token check."""

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2
from harness import code_value, inference_stub, running_server, scripted_args, user_request, wait_for

from nejumi_inference.launcher import ServerStartError, start_server_process
from nejumi_proto.v1 import inference_pb2, types_pb2

USER = types_pb2.ChatMessage(role="user", content="hi")


def _request(messages: list[types_pb2.ChatMessage] | None = None, **fields: object) -> inference_pb2.GenerateRequest:
    return inference_pb2.GenerateRequest(request_id="x", messages=[USER] if messages is None else messages, **fields)


WEATHER = types_pb2.Tool(name="get_weather", parameters_json='{"type": "object"}')
SCHEMA = struct_pb2.Struct(fields={"type": struct_pb2.Value(string_value="object")})
ToolChoice = types_pb2.ToolChoice

BAD_REQUESTS = [
    (_request(messages=[]), "messages: must not be empty (or set prompt for a raw completion)"),
    (_request(prompt="<|user|>hi"), "prompt: set either messages or prompt, not both"),
    (
        _request(messages=[], prompt="<|user|>hi", tools=[WEATHER]),
        "tools: not allowed with prompt (render the tools into the prompt text)",
    ),
    (
        _request(messages=[USER, types_pb2.ChatMessage(role="user", content="x", reasoning_text="hmm")]),
        "messages[1].reasoning_text: only assistant messages may carry reasoning",
    ),
    (
        _request(params=types_pb2.GenerationParams(json_schema=types_pb2.JsonSchemaFormat(schema=SCHEMA))),
        "params.json_schema.name: must not be empty",
    ),
    (
        _request(params=types_pb2.GenerationParams(json_schema=types_pb2.JsonSchemaFormat(name="answer"))),
        "params.json_schema.schema: must be set (a JSON Schema object)",
    ),
    (
        _request(params=types_pb2.GenerationParams(tool_choice=ToolChoice(mode=ToolChoice.REQUIRED))),
        "params.tool_choice: mode REQUIRED needs tools",
    ),
    (
        _request(
            tools=[WEATHER],
            params=types_pb2.GenerationParams(tool_choice=ToolChoice(mode=ToolChoice.NAMED, name="get_time")),
        ),
        'params.tool_choice.name: must name one of the tools (get_weather; got "get_time")',
    ),
    (
        _request(tools=[WEATHER], params=types_pb2.GenerationParams(tool_choice=ToolChoice(name="get_weather"))),
        "params.tool_choice.name: only for mode NAMED (mode is AUTO)",
    ),
    (
        _request(messages=[USER, types_pb2.ChatMessage(role="bot", content="hello")]),
        'messages[1].role: must be one of system, user, assistant, tool (got "bot")',
    ),
    (_request(params=types_pb2.GenerationParams(max_tokens=0)), "params.max_tokens: must be > 0 (got 0)"),
    (_request(params=types_pb2.GenerationParams(top_p=1.5)), "params.top_p: must be in (0, 1] (got 1.5)"),
    (_request(params=types_pb2.GenerationParams(top_p=0)), "params.top_p: must be in (0, 1] (got 0.0)"),
    (_request(params=types_pb2.GenerationParams(temperature=-1)), "params.temperature: must be >= 0 (got -1.0)"),
    (_request(params=types_pb2.GenerationParams(extra_json="[1, 2]")), "params.extra_json: not a JSON object"),
    (_request(params=types_pb2.GenerationParams(extra_json="{oops")), "params.extra_json: not a JSON object"),
    (_request(params=types_pb2.GenerationParams(stop=["a", ""])), "params.stop[1]: must not be empty"),
    (
        _request(tools=[types_pb2.Tool(name="f", parameters_json="not json")]),
        "tools[0].parameters_json: not a JSON object",
    ),
    (
        _request(messages=[types_pb2.ChatMessage(role="user", tool_calls=[types_pb2.ToolCall(name="f")])]),
        "messages[0].tool_calls: only assistant messages may carry tool calls",
    ),
]


@pytest.fixture(scope="module")
def server_address(tmp_path_factory: pytest.TempPathFactory) -> object:
    with running_server(scripted_args(tmp_path_factory.mktemp("errors"), {"default": "echo"})) as server:
        yield server.address


@pytest.mark.parametrize(("request_", "message"), BAD_REQUESTS)
def test_bad_request_names_the_field(
    server_address: str, request_: inference_pb2.GenerateRequest, message: str
) -> None:
    with inference_stub(server_address) as stub:
        with pytest.raises(grpc.RpcError) as failure:
            stub.GenerateOne(request_)
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert failure.value.details() == message
        [result] = stub.Generate(iter([request_]))
    assert (result.error_code, result.error_message) == (code_value(grpc.StatusCode.INVALID_ARGUMENT), message)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (inference_pb2.CountTokensRequest(), "messages: must not be empty (or set prompt for a raw completion)"),
        (
            inference_pb2.CountTokensRequest(messages=[USER], prompt="hi"),
            "prompt: set either messages or prompt, not both",
        ),
        (
            inference_pb2.CountTokensRequest(messages=[types_pb2.ChatMessage(role="bot")]),
            'messages[0].role: must be one of system, user, assistant, tool (got "bot")',
        ),
        (
            inference_pb2.CountTokensRequest(messages=[USER], tools=[types_pb2.Tool(name="")]),
            "tools[0].name: must not be empty",
        ),
    ],
)
def test_bad_count_tokens_request_names_the_field(
    server_address: str, request_: inference_pb2.CountTokensRequest, message: str
) -> None:
    with inference_stub(server_address) as stub, pytest.raises(grpc.RpcError) as failure:
        stub.CountTokens(request_)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.details() == message


def test_full_queue_answers_resource_exhausted(tmp_path: Path) -> None:
    with (
        running_server([*scripted_args(tmp_path, {"default": "done", "delay_s": 1.0}), "--max-queue", "1"]) as server,
        inference_stub(server.address) as stub,
    ):
        first = stub.GenerateOne.future(user_request("first", "x"))
        wait_for(lambda: stub.Health(inference_pb2.HealthRequest()).in_flight == 1, what="one request in flight")
        with pytest.raises(grpc.RpcError) as failure:
            stub.GenerateOne(user_request("second", "x"))
        assert failure.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "--max-queue 1" in failure.value.details()
        assert first.result(timeout=10).text == "done"


def test_stream_stops_reading_while_the_queue_is_full(tmp_path: Path) -> None:
    args = [*scripted_args(tmp_path, {"default": "echo", "delay_s": 0.15}), "--max-queue", "2"]
    with running_server(args) as server, inference_stub(server.address) as stub:
        seen: list[int] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                seen.append(stub.Health(inference_pb2.HealthRequest()).in_flight)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            results = list(stub.Generate(iter([user_request(str(i), f"n{i}") for i in range(8)]), timeout=30))
        finally:
            done.set()
            watcher.join()
    assert sorted(r.response.text for r in results) == [f"n{i}" for i in range(8)]
    assert max(seen) == 2


def test_down_backend_answers_unavailable_saying_why(tmp_path: Path) -> None:
    with (
        running_server(scripted_args(tmp_path, {"down": "the GPU fell off the bus"})) as server,
        inference_stub(server.address) as stub,
    ):
        health = stub.Health(inference_pb2.HealthRequest())
        with pytest.raises(grpc.RpcError) as failure:
            stub.GenerateOne(user_request("x", "hi"))
        [result] = stub.Generate(iter([user_request("x", "hi")]))
        with pytest.raises(grpc.RpcError) as counting:
            stub.CountTokens(inference_pb2.CountTokensRequest(prompt="hi"))
    assert health.state == inference_pb2.HealthResponse.DOWN
    assert health.message == "the GPU fell off the bus"
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    assert failure.value.details() == "the scripted backend is down: the GPU fell off the bus"
    assert result.error_code == code_value(grpc.StatusCode.UNAVAILABLE)
    assert (counting.value.code(), counting.value.details()) == (failure.value.code(), failure.value.details())


def test_loading_backend_answers_unavailable_saying_so(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = scripted_args(tmp_path, {"default": "ready now", "start_delay_s": 2.0})
    command = [sys.executable, "-m", "nejumi_inference", *args, "--port", str(port)]
    process = subprocess.Popen(command, env=_child_env(), stderr=subprocess.PIPE)
    try:
        with inference_stub(f"127.0.0.1:{port}") as stub:
            health = wait_for(lambda: _health_or_none(stub), what="the server to answer Health")
            assert health.state == inference_pb2.HealthResponse.STARTING
            with pytest.raises(grpc.RpcError) as failure:
                stub.GenerateOne(user_request("x", "hi"))
            assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "still loading" in failure.value.details()
            wait_for(
                lambda: stub.Health(inference_pb2.HealthRequest()).state == inference_pb2.HealthResponse.SERVING,
                what="SERVING",
            )
            assert stub.GenerateOne(user_request("x", "hi")).text == "ready now"
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_backend_that_cannot_start_exits_with_its_error(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError) as failure:
        start_server_process(scripted_args(tmp_path, {"fail_start": "the weights are corrupt"}), timeout_s=30)
    assert "exited with code 1" in str(failure.value)
    assert "the weights are corrupt" in str(failure.value)


def test_unknown_backend_option_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError) as failure:
        start_server_process(["--backend", "scripted", "--backend-config", '{"scrpt": "x.json"}'], timeout_s=30)
    assert "exited with code 2" in str(failure.value)
    assert "unknown option 'scrpt' for the scripted backend" in str(failure.value)


def test_non_loopback_bind_without_token_is_refused(tmp_path: Path) -> None:
    env = _child_env()
    env.pop("NEJUMI_INFERENCE_TOKEN", None)
    command = [sys.executable, "-m", "nejumi_inference", *scripted_args(tmp_path, {}), "--host", "0.0.0.0"]
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30, check=False)
    assert finished.returncode == 2
    assert "refusing to listen on 0.0.0.0 without a token" in finished.stderr


def test_token_is_required_on_every_rpc(tmp_path: Path) -> None:
    with (
        running_server(scripted_args(tmp_path, {"default": "echo"}), token="s3cret") as server,
        inference_stub(server.address) as stub,
    ):
        calls = {
            "Health": lambda metadata: stub.Health(inference_pb2.HealthRequest(), metadata=metadata),
            "ModelInfo": lambda metadata: stub.ModelInfo(inference_pb2.ModelInfoRequest(), metadata=metadata),
            "GenerateOne": lambda metadata: stub.GenerateOne(user_request("u", "hi"), metadata=metadata),
            "CountTokens": lambda metadata: stub.CountTokens(
                inference_pb2.CountTokensRequest(prompt="hi"), metadata=metadata
            ),
            "Generate": lambda metadata: list(stub.Generate(iter([user_request("s", "hi")]), metadata=metadata)),
        }
        for name, call in calls.items():
            for metadata, why in [((), "missing metadata"), ((("authorization", "Bearer nope"),), "wrong token")]:
                with pytest.raises(grpc.RpcError) as failure:
                    call(metadata)
                assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED, name
                assert why in failure.value.details(), name
            assert call((("authorization", "Bearer s3cret"),)), name


def _health_or_none(stub: object) -> inference_pb2.HealthResponse | None:
    try:
        return stub.Health(inference_pb2.HealthRequest(), timeout=1)  # type: ignore[attr-defined]
    except grpc.RpcError:
        return None


def _child_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
