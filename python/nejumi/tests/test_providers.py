"""The providers against real things: GrpcProvider against the real inference service on loopback (scripted and
openai backends), BackendProvider (its openai backend in-process) against a local OpenAI-compatible HTTP server.
Errors must reach the request queue as ProviderErrors with the right transience, code and Retry-After."""

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from nejumi.providers.backend_provider import BackendProvider
from nejumi.providers.base import ProviderError
from nejumi.providers.grpc_provider import GrpcProvider
from nejumi_inference.launcher import ServerProcess, start_server_process
from nejumi_proto.v1 import inference_pb2, types_pb2

ToolChoice = types_pb2.ToolChoice
KEY_ENV = "NEJUMI_TEST_PROVIDER_KEY"

SCRIPT = {
    "rules": [
        {"match": "think", "reply": "42", "reasoning": "six times seven"},
        {"match": "weather", "reply": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Tokyo"}}]},
    ],
    "default": "echo",
    "fail_first": 1,
    "max_model_len": 2048,
}


class FakeUpstream(BaseHTTPRequestHandler):
    """An OpenAI-compatible server with vLLM's /tokenize; anything mentioning "rate" is rate limited."""

    received: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeUpstream.received.append((self.path, body))
        if "rate" in json.dumps(body):
            self._send(429, {"error": {"message": "Rate limit reached", "type": "requests"}}, {"Retry-After": "3"})
        elif self.path == "/v1/chat/completions":
            message = {"role": "assistant", "content": '{"city": "Osaka"}', "reasoning_content": "looked it up"}
            self._send(200, _completion({"index": 0, "message": message, "finish_reason": "stop"}, "chat.completion"))
        elif self.path == "/v1/completions":
            choice = {"index": 0, "text": " Paris", "finish_reason": "length", "logprobs": None}
            self._send(200, _completion(choice, "text_completion"))
        elif self.path == "/tokenize":
            text = body.get("prompt") or " ".join(m["content"] for m in body["messages"])
            self._send(200, {"count": len(text.split()), "max_model_len": 8192, "tokens": []})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

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


def _completion(choice: dict[str, Any], kind: str) -> dict[str, Any]:
    usage = {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
    return {"id": "x", "object": kind, "created": 0, "model": "upstream", "choices": [choice], "usage": usage}


@pytest.fixture(scope="module")
def upstream_url() -> Iterator[str]:
    http = ThreadingHTTPServer(("127.0.0.1", 0), FakeUpstream)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{http.server_port}/v1"
    finally:
        http.shutdown()
        http.server_close()


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback servers only: a proxy from the environment would not reach them."""
    for name in [k for k in os.environ if "proxy" in k.lower()]:
        monkeypatch.delenv(name)


@contextlib.contextmanager
def _server(args: list[str], tmp_path: Path) -> Iterator[ServerProcess]:
    server = start_server_process(args, timeout_s=60, log_path=tmp_path / "server.log")
    try:
        yield server
    finally:
        assert server.stop(timeout_s=20) == 0, server.log_tail()


@pytest.fixture(scope="module")
def scripted_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("scripted")
    config = json.dumps({"script": SCRIPT})
    with _server(["--backend", "scripted", "--model", "scripted-model", "--backend-config", config], workdir) as server:
        yield server.address


def _user(text: str) -> inference_pb2.GenerateRequest:
    return inference_pb2.GenerateRequest(messages=[types_pb2.ChatMessage(role="user", content=text)])


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_grpc_provider_generates_counts_and_describes(scripted_address: str) -> None:
    async def scenario() -> tuple[Any, ...]:
        provider = GrpcProvider(scripted_address)
        try:
            with pytest.raises(ProviderError) as first:  # the script's fail_first
                await provider.generate("r0", _user("hello"))
            chat, thought, called, raw = await asyncio.gather(
                provider.generate("r1", _user("hello there")),
                provider.generate("r2", _user("think about it")),
                provider.generate("r3", _user("weather in Tokyo?")),
                provider.generate("r4", inference_pb2.GenerateRequest(request_id="ignored", prompt="<s> raw text")),
            )
            counted = await provider.count_tokens(inference_pb2.CountTokensRequest(prompt="one two three"))
            info = await provider.model_info()
        finally:
            await provider.close()
        return first.value, chat, thought, called, raw, counted, info

    first, chat, thought, called, raw, counted, info = _run(scenario())
    assert (first.transient, first.code) == (True, "UNAVAILABLE")
    assert chat.text == "hello there"
    assert (thought.text, thought.reasoning_text) == ("42", "six times seven")
    assert [(c.name, c.arguments_json) for c in called.tool_calls] == [("get_weather", '{"city": "Tokyo"}')]
    assert (raw.text, raw.usage.prompt_tokens) == ("<s> raw text", 3)
    assert (counted.prompt_tokens, counted.max_model_len) == (3, 2048)
    assert (info.backend, info.model, info.max_model_len) == ("scripted", "scripted-model", 2048)


def test_grpc_provider_reports_invalid_requests_naming_the_field(scripted_address: str) -> None:
    async def scenario() -> tuple[ProviderError, ProviderError]:
        provider = GrpcProvider(scripted_address)
        both = _user("hi")
        both.prompt = "hi"
        choice = _user("hi")
        choice.params.tool_choice.CopyFrom(ToolChoice(mode=ToolChoice.NAMED, name="f"))
        try:
            with pytest.raises(ProviderError) as generating:
                await provider.generate("bad", choice)
            with pytest.raises(ProviderError) as counting:
                await provider.count_tokens(inference_pb2.CountTokensRequest(messages=both.messages, prompt="hi"))
        finally:
            await provider.close()
        return generating.value, counting.value

    generating, counting = _run(scenario())
    assert (generating.transient, generating.code) == (False, "INVALID_ARGUMENT")
    assert str(generating) == "INVALID_ARGUMENT: params.tool_choice: mode NAMED needs tools"
    assert (counting.transient, counting.code, counting.retry_after_s) == (False, "INVALID_ARGUMENT", None)
    assert str(counting) == "INVALID_ARGUMENT: prompt: set either messages or prompt, not both"


def test_grpc_provider_carries_the_upstreams_retry_after(upstream_url: str, tmp_path: Path) -> None:
    config = json.dumps({"base_url": upstream_url, "max_retries": 0})

    async def scenario(address: str) -> tuple[ProviderError, ProviderError, inference_pb2.CountTokensResponse]:
        provider = GrpcProvider(address)
        try:
            with pytest.raises(ProviderError) as limited:
                await provider.count_tokens(inference_pb2.CountTokensRequest(prompt="please rate limit"))
            # Generate goes over the stream: the wait travels in the GenerateResult.
            with pytest.raises(ProviderError) as streamed:
                await provider.generate("r1", inference_pb2.GenerateRequest(prompt="please rate limit"))
            counted = await provider.count_tokens(inference_pb2.CountTokensRequest(prompt="a b"))
            return limited.value, streamed.value, counted
        finally:
            await provider.close()

    with _server(["--backend", "openai", "--model", "m", "--backend-config", config], tmp_path) as server:
        limited, streamed, counted = _run(scenario(server.address))
    for error in (limited, streamed):
        assert (error.transient, error.code, error.retry_after_s) == (True, "RESOURCE_EXHAUSTED", 3.0)
        assert "HTTP 429: Rate limit reached" in str(error)
    assert (counted.prompt_tokens, counted.max_model_len) == (2, 8192)


def test_openai_provider_maps_structured_output_completions_and_counts(
    upstream_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test")
    structured = _user("where?")
    structured.params.json_schema.name = "place"
    structured.params.json_schema.schema.update({"type": "object", "properties": {"city": {"type": "string"}}})
    structured.params.max_tokens = 16
    raw = inference_pb2.GenerateRequest(prompt="The capital of France is", params=types_pb2.GenerationParams(seed=1))

    async def scenario() -> tuple[Any, ...]:
        provider = BackendProvider("openai", "gpt-test", {"base_url": upstream_url, "api_key_env": KEY_ENV})
        try:
            answers = await asyncio.gather(provider.generate("s", structured), provider.generate("c", raw))
            counted = await provider.count_tokens(inference_pb2.CountTokensRequest(messages=structured.messages))
            return (*answers, counted, await provider.model_info())
        finally:
            await provider.close()

    FakeUpstream.received.clear()
    answer, completed, counted, info = _run(scenario())
    assert (answer.text, answer.reasoning_text, answer.model) == ('{"city": "Osaka"}', "looked it up", "upstream")
    assert (completed.text, completed.finish_reason, completed.usage.total_tokens) == (" Paris", "length", 11)
    assert (counted.prompt_tokens, counted.max_model_len) == (1, 8192)
    assert (info.backend, info.model, info.details["base_url"]) == ("openai", "gpt-test", upstream_url)
    bodies = dict(FakeUpstream.received)
    assert bodies["/v1/chat/completions"]["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "place",
            "schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            "strict": False,
        },
    }
    assert bodies["/v1/completions"] == {"model": "gpt-test", "prompt": "The capital of France is", "seed": 1}
    assert bodies["/tokenize"] == {
        "model": "gpt-test",
        "messages": [{"role": "user", "content": "where?"}],
        "add_generation_prompt": True,
    }


def test_openai_provider_rate_limit_is_transient_with_retry_after(upstream_url: str) -> None:
    async def scenario() -> tuple[ProviderError, ProviderError]:
        provider = BackendProvider("openai", "gpt-test", {"base_url": upstream_url})
        try:
            with pytest.raises(ProviderError) as generating:
                await provider.generate("r", _user("please rate limit me"))
            with pytest.raises(ProviderError) as counting:
                await provider.count_tokens(inference_pb2.CountTokensRequest(prompt="rate"))
        finally:
            await provider.close()
        return generating.value, counting.value

    generating, counting = _run(scenario())
    for error in (generating, counting):
        assert (error.transient, error.code, error.retry_after_s) == (True, "RESOURCE_EXHAUSTED", 3.0)
    assert "HTTP 429: Rate limit reached" in str(generating)


def test_openai_provider_without_tokenize_is_unimplemented(upstream_url: str) -> None:
    async def scenario() -> ProviderError:
        provider = BackendProvider("openai", "gpt-test", {"base_url": upstream_url.replace("/v1", "/other/v1")})
        try:
            with pytest.raises(ProviderError) as failure:
                await provider.count_tokens(inference_pb2.CountTokensRequest(prompt="hi"))
        finally:
            await provider.close()
        return failure.value

    failure = _run(scenario())
    assert (failure.transient, failure.code) == (False, "UNIMPLEMENTED")
    assert "does not offer /tokenize" in str(failure)
