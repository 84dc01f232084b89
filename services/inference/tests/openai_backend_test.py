"""The openai backend against a local OpenAI-compatible HTTP server (http.server on 127.0.0.1)."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import grpc
import pytest
from harness import code_value, inference_stub, running_server, user_request

from nejumi_inference.launcher import ServerProcess
from nejumi_proto.v1 import inference_pb2, types_pb2

API_KEY = "sk-local-test"


def _completion(message: dict[str, Any], finish_reason: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "upstream-model-2025",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


class FakeOpenAI(BaseHTTPRequestHandler):
    """Answers POST /v1/chat/completions by the last user message; records every request body."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeOpenAI.received.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        prompt = body["messages"][-1].get("content") or ""
        if self.path != "/v1/chat/completions":
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
        elif "rate" in prompt:
            self._send(429, {"error": {"message": "Rate limit reached for requests", "type": "requests"}})
        elif "too long" in prompt:
            message = "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens."
            self._send(400, {"error": {"message": message, "type": "invalid_request_error"}})
        elif "weather" in prompt:
            call = {
                "id": "call_7",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Osaka"}'},
            }
            self._send(200, _completion({"content": None, "tool_calls": [call]}, "tool_calls"))
        else:
            self._send(200, _completion({"content": "42", "reasoning_content": "6 x 7 = 42"}, "stop"))

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    http = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    config = {
        "base_url": f"http://127.0.0.1:{http.server_port}/v1",
        "api_key_env": "NEJUMI_TEST_OPENAI_KEY",
        "max_retries": 0,
    }
    args = ["--backend", "openai", "--model", "gpt-test", "--backend-config", json.dumps(config)]
    env = _env_without_proxies()
    env["NEJUMI_TEST_OPENAI_KEY"] = API_KEY
    try:
        with running_server(args, env=env, log_path=Path(tmp_path_factory.mktemp("openai")) / "server.log") as running:
            yield running
    finally:
        http.shutdown()


def test_text_reasoning_usage_and_the_request_sent_upstream(server: ServerProcess) -> None:
    FakeOpenAI.received.clear()
    request = inference_pb2.GenerateRequest(
        request_id="q",
        messages=[
            types_pb2.ChatMessage(role="system", content="Be brief."),
            types_pb2.ChatMessage(role="user", content="What is 6 x 7?"),
        ],
        params=types_pb2.GenerationParams(
            temperature=0.1, top_p=0.9, max_tokens=64, stop=["\n\n"], seed=7, extra_json='{"top_k": 20}'
        ),
    )
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(request)
    assert (response.text, response.reasoning_text, response.finish_reason) == ("42", "6 x 7 = 42", "stop")
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (11, 7, 18)
    assert response.model == "upstream-model-2025"
    [sent] = FakeOpenAI.received
    assert sent["auth"] == f"Bearer {API_KEY}"
    assert sent["body"] == {
        "model": "gpt-test",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 6 x 7?"}],
        "temperature": 0.1,
        "top_p": 0.9,
        "max_tokens": 64,
        "stop": ["\n\n"],
        "seed": 7,
        "top_k": 20,
    }


def test_tool_calls_both_ways(server: ServerProcess) -> None:
    FakeOpenAI.received.clear()
    history = [
        types_pb2.ChatMessage(role="user", content="Earlier question"),
        types_pb2.ChatMessage(
            role="assistant", tool_calls=[types_pb2.ToolCall(id="call_1", name="lookup", arguments_json='{"q": 1}')]
        ),
        types_pb2.ChatMessage(role="tool", tool_call_id="call_1", content="found"),
        types_pb2.ChatMessage(role="user", content="And the weather?"),
    ]
    tool = types_pb2.Tool(
        name="get_weather", description="Weather by city", parameters_json='{"type": "object", "properties": {}}'
    )
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(inference_pb2.GenerateRequest(messages=history, tools=[tool]))
    assert response.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments_json) for c in response.tool_calls] == [
        ("call_7", "get_weather", '{"city":"Osaka"}')
    ]
    body = FakeOpenAI.received[0]["body"]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather by city",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]
    assert body["messages"][1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": 1}'}}],
    }
    assert body["messages"][2] == {"role": "tool", "content": "found", "tool_call_id": "call_1"}


def test_upstream_errors_map_to_status_codes(server: ServerProcess) -> None:
    with inference_stub(server.address) as stub:
        with pytest.raises(grpc.RpcError) as limited:
            stub.GenerateOne(user_request("r", "please rate limit me"))
        with pytest.raises(grpc.RpcError) as rejected:
            stub.GenerateOne(user_request("b", "this is too long"))
        results = {r.request_id: r for r in stub.Generate(iter([user_request("s1", "rate"), user_request("s2", "ok")]))}
    assert limited.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "HTTP 429: Rate limit reached for requests" in limited.value.details()
    assert rejected.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "maximum context length is 4096 tokens" in rejected.value.details()
    assert results["s1"].error_code == code_value(grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert results["s2"].response.text == "42"


def test_unreachable_upstream_is_unavailable(tmp_path: Path) -> None:
    config = {"base_url": "http://127.0.0.1:9/v1", "max_retries": 0}
    args = ["--backend", "openai", "--model", "gpt-test", "--backend-config", json.dumps(config)]
    with (
        running_server(args, env=_env_without_proxies()) as server,
        inference_stub(server.address) as stub,
        pytest.raises(grpc.RpcError) as failure,
    ):
        stub.GenerateOne(user_request("x", "hi"))
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "cannot reach http://127.0.0.1:9/v1" in failure.value.details()


def _env_without_proxies() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
