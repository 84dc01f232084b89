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

ToolChoice = types_pb2.ToolChoice
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
    """Answers chat completions by the last user message, completions by the prompt, and vLLM's /tokenize with
    whitespace words; records every request body."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeOpenAI.received.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.path == "/v1/chat/completions":
            self._chat(body["messages"][-1].get("content") or "")
        elif self.path == "/v1/completions":
            completion = _completion({}, "length")
            completion["object"] = "text_completion"
            completion["choices"] = [{"index": 0, "text": " Paris", "finish_reason": "length", "logprobs": None}]
            self._send(200, completion)
        elif self.path == "/tokenize":
            text = body.get("prompt") or " ".join(m["content"] or "" for m in body["messages"])
            self._send(200, {"count": len(text.split()), "max_model_len": 4096, "tokens": []})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def _chat(self, prompt: str) -> None:
        if "rate" in prompt:
            error = {"error": {"message": "Rate limit reached for requests", "type": "requests"}}
            self._send(429, error, {"Retry-After": "7"})
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
        pass


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    http = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield http.server_port
    finally:
        http.shutdown()


@pytest.fixture(scope="module")
def server(http_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    config = {
        "base_url": f"http://127.0.0.1:{http_port}/v1",
        "api_key_env": "NEJUMI_TEST_OPENAI_KEY",
        "max_retries": 0,
        # Every configured key is sent (vLLM's top_k here); openai_chat_policy_test checks the official allow-list.
        "compatibility": "corrected",
    }
    args = ["--backend", "openai", "--model", "gpt-test", "--backend-config", json.dumps(config)]
    env = _env_without_proxies()
    env["NEJUMI_TEST_OPENAI_KEY"] = API_KEY
    with running_server(args, env=env, log_path=Path(tmp_path_factory.mktemp("openai")) / "server.log") as running:
        yield running


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


def test_structured_output_and_tool_choice_on_the_wire(server: ServerProcess) -> None:
    FakeOpenAI.received.clear()
    schema = {"type": "object", "properties": {"cities": {"type": "array", "minItems": 1}}, "required": ["cities"]}
    tool = types_pb2.Tool(name="get_weather", parameters_json='{"type": "object"}')
    choices = [
        ToolChoice(mode=ToolChoice.AUTO),
        ToolChoice(mode=ToolChoice.NONE),
        ToolChoice(mode=ToolChoice.REQUIRED),
        ToolChoice(mode=ToolChoice.NAMED, name="get_weather"),
    ]
    with inference_stub(server.address) as stub:
        structured = user_request("j", "cities as JSON")
        structured.params.json_schema.name = "cities"
        structured.params.json_schema.schema.update(schema)
        structured.params.json_schema.strict = True
        stub.GenerateOne(structured)
        for choice in choices:
            request = user_request("t", "which tool?")
            request.tools.append(tool)
            request.params.tool_choice.CopyFrom(choice)
            stub.GenerateOne(request)
    bodies = [sent["body"] for sent in FakeOpenAI.received]
    assert bodies[0]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "cities", "schema": schema, "strict": True},
    }
    assert "tool_choice" not in bodies[0]
    assert [body["tool_choice"] for body in bodies[1:]] == [
        "auto",
        "none",
        "required",
        {"type": "function", "function": {"name": "get_weather"}},
    ]


def test_reasoning_of_earlier_turns_is_not_sent(server: ServerProcess) -> None:
    FakeOpenAI.received.clear()
    history = [
        types_pb2.ChatMessage(role="user", content="What is 6 x 7?"),
        types_pb2.ChatMessage(role="assistant", content="42", reasoning_text="6 x 7 = 42"),
        types_pb2.ChatMessage(role="user", content="And 7 x 6?"),
    ]
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(inference_pb2.GenerateRequest(messages=history))
    assert response.reasoning_text == "6 x 7 = 42"
    assert FakeOpenAI.received[0]["body"]["messages"][1] == {"role": "assistant", "content": "42"}


def test_raw_prompt_goes_to_the_completions_api(server: ServerProcess) -> None:
    FakeOpenAI.received.clear()
    request = inference_pb2.GenerateRequest(
        prompt="<|user|>Capital of France?<|assistant|>",
        params=types_pb2.GenerationParams(max_tokens=3, temperature=0.0, stop=["<|"], extra_json='{"top_k": 1}'),
    )
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(request)
    assert (response.text, response.finish_reason, response.model) == (" Paris", "length", "upstream-model-2025")
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (11, 7)
    [sent] = FakeOpenAI.received
    assert (sent["path"], sent["auth"]) == ("/v1/completions", f"Bearer {API_KEY}")
    assert sent["body"] == {
        "model": "gpt-test",
        "prompt": "<|user|>Capital of France?<|assistant|>",
        "max_tokens": 3,
        "temperature": 0.0,
        "stop": ["<|"],
        "top_k": 1,
    }


def test_count_tokens_asks_vllms_tokenize_endpoint(server: ServerProcess) -> None:
    FakeOpenAI.received.clear()
    tool = types_pb2.Tool(name="get_weather", parameters_json='{"type": "object"}')
    messages = [types_pb2.ChatMessage(role="user", content="weather in Osaka?")]
    with inference_stub(server.address) as stub:
        chat = stub.CountTokens(inference_pb2.CountTokensRequest(messages=messages, tools=[tool]))
        raw = stub.CountTokens(inference_pb2.CountTokensRequest(prompt="<s> one two"))
    assert (chat.prompt_tokens, chat.max_model_len, raw.prompt_tokens) == (3, 4096, 3)
    sent = FakeOpenAI.received
    assert [(s["path"], s["auth"]) for s in sent] == [("/tokenize", f"Bearer {API_KEY}")] * 2
    assert sent[0]["body"] == {
        "model": "gpt-test",
        "messages": [{"role": "user", "content": "weather in Osaka?"}],
        "add_generation_prompt": True,
        "tools": [
            {
                "type": "function",
                "function": {"name": "get_weather", "description": "", "parameters": {"type": "object"}},
            }
        ],
    }
    assert sent[1]["body"] == {"model": "gpt-test", "prompt": "<s> one two"}


def test_upstream_without_tokenize_is_unimplemented(http_port: int) -> None:
    config = {"base_url": f"http://127.0.0.1:{http_port}/elsewhere/v1", "max_retries": 0}
    args = ["--backend", "openai", "--model", "gpt-test", "--backend-config", json.dumps(config)]
    with (
        running_server(args, env=_env_without_proxies()) as server,
        inference_stub(server.address) as stub,
        pytest.raises(grpc.RpcError) as failure,
    ):
        stub.CountTokens(inference_pb2.CountTokensRequest(prompt="hi"))
    assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert failure.value.details().startswith(f"http://127.0.0.1:{http_port}/elsewhere/v1 does not offer /tokenize")


def test_upstream_errors_map_to_status_codes(server: ServerProcess) -> None:
    with inference_stub(server.address) as stub:
        with pytest.raises(grpc.RpcError) as limited:
            stub.GenerateOne(user_request("r", "please rate limit me"))
        with pytest.raises(grpc.RpcError) as rejected:
            stub.GenerateOne(user_request("b", "this is too long"))
        results = {r.request_id: r for r in stub.Generate(iter([user_request("s1", "rate"), user_request("s2", "ok")]))}
    assert limited.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "HTTP 429: Rate limit reached for requests" in limited.value.details()
    assert ("retry-after", "7") in limited.value.trailing_metadata()
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
