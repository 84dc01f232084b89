"""The mistral backend: the real mistralai SDK against a loopback server speaking Mistral's chat completions API."""

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from vendor_http import Answer, FakeAPI, Sent, failure, fake_api, no_proxies, require_sdk, run

from nejumi_inference.backends.mistral_api import MistralBackend
from nejumi_proto.v1 import inference_pb2, types_pb2

MODEL = "magistral-medium-2509"
API_KEY = "local-mistral-key"


def _completion(message: dict[str, Any], finish_reason: str) -> dict[str, Any]:
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 6, "total_tokens": 26},
    }


def _route(sent: Sent) -> Answer:
    prompt = sent.body["messages"][-1]["content"] or ""
    if "rate" in prompt:
        return Answer(429, {"object": "error", "message": "Requests rate limit exceeded"}, {"Retry-After": "5"})
    if "broken" in prompt:
        return Answer(503, {"object": "error", "message": "Service unavailable"})
    if "slow" in prompt:
        return Answer(200, {}, delay_s=2.0)
    if "guarded" in prompt:
        return Answer(403, {"object": "error", "message": "Request blocked by guardrails", "type": "guardrail"})
    if "weather" in prompt:
        call = {
            "id": "call_m1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Osaka"}'},
        }
        return Answer(200, _completion({"content": "", "tool_calls": [call]}, "tool_calls"))
    thinking = {"type": "thinking", "thinking": [{"type": "text", "text": "6 x 7 = 42"}]}
    return Answer(200, _completion({"content": [thinking, {"type": "text", "text": "42"}]}, "stop"))


@pytest.fixture(scope="module")
def api() -> Iterator[FakeAPI]:
    require_sdk("mistralai", "mistralai==3.7.0")
    with fake_api(_route) as running:
        yield running


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, api: FakeAPI) -> None:
    no_proxies(monkeypatch)
    monkeypatch.setenv("MISTRAL_API_KEY", API_KEY)
    api.received.clear()


async def _ask(
    api: FakeAPI, request: inference_pb2.GenerateRequest, timeout_s: float | None = None, **config: Any
) -> types_pb2.Response:
    backend = MistralBackend.from_config(MODEL, {"base_url": api.url, **config})  # server_url's alias
    await backend.start()
    try:
        return await backend.generate(request, timeout_s)
    finally:
        await backend.close()


def _chat(text: str, extra: dict[str, Any] | None = None, **params: Any) -> inference_pb2.GenerateRequest:
    return inference_pb2.GenerateRequest(
        messages=[types_pb2.ChatMessage(role="user", content=text)],
        params=types_pb2.GenerationParams(extra_json=json.dumps(extra or {}), **params),
    )


def test_thinking_chunks_are_the_reasoning_and_upstreams_request(api: FakeAPI) -> None:
    request = _chat(
        "6 x 7?",
        {"presence_penalty": 0.3, "stream": True},
        temperature=0.7,
        top_p=0.95,
        max_tokens=99,
        seed=1,
        stop=["END"],
    )
    response = run(_ask(api, request))
    assert (response.text, response.reasoning_text, response.finish_reason) == ("42", "6 x 7 = 42", "stop")
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (20, 6, 26)
    [sent] = api.received
    assert (sent.path, sent.headers["authorization"]) == ("/v1/chat/completions", f"Bearer {API_KEY}")
    body = {k: v for k, v in sent.body.items() if k != "messages"}
    # seed is renamed random_seed; presence_penalty is off upstream's allow-list; stream is never used.
    assert body == {
        "model": MODEL,
        "temperature": 0.7,
        "top_p": 0.95,
        "max_tokens": 99,
        "random_seed": 1,
        "stop": ["END"],
        "stream": False,
    }


def test_corrected_sends_what_upstream_drops(api: FakeAPI) -> None:
    run(_ask(api, _chat("hi", {"presence_penalty": 0.3}), compatibility="corrected"))
    assert api.received[0].body["presence_penalty"] == 0.3


def test_tool_calls_both_ways(api: FakeAPI) -> None:
    request = inference_pb2.GenerateRequest(
        messages=[
            types_pb2.ChatMessage(role="user", content="Earlier"),
            types_pb2.ChatMessage(
                role="assistant", tool_calls=[types_pb2.ToolCall(id="c0", name="lookup", arguments_json='{"q": 1}')]
            ),
            types_pb2.ChatMessage(role="tool", tool_call_id="c0", content="found"),
            types_pb2.ChatMessage(role="user", content="And the weather?"),
        ],
        tools=[types_pb2.Tool(name="get_weather", description="Weather", parameters_json='{"type": "object"}')],
        params=types_pb2.GenerationParams(tool_choice=types_pb2.ToolChoice(mode=types_pb2.ToolChoice.REQUIRED)),
    )
    response = run(_ask(api, request))
    assert response.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments_json) for c in response.tool_calls] == [
        ("call_m1", "get_weather", '{"city": "Osaka"}')
    ]
    body = api.received[0].body
    assert body["tools"] == [
        {
            "type": "function",
            "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}},
        }
    ]
    assert body["tool_choice"] == "required"
    assert body["messages"][1]["tool_calls"] == [
        {"id": "c0", "type": "function", "function": {"name": "lookup", "arguments": '{"q": 1}'}, "index": 0}
    ]
    assert body["messages"][2] == {"role": "tool", "content": "found", "tool_call_id": "c0"}


def test_rate_limit_server_error_and_timeout_are_retryable(api: FakeAPI) -> None:
    limited = failure(_ask(api, _chat("rate")))
    assert (limited.code, limited.retry_after_s) == (grpc.StatusCode.RESOURCE_EXHAUSTED, 5.0)
    assert "Requests rate limit exceeded" in limited.message
    assert len(api.received) == 1  # the SDK does not retry: the queue does
    assert failure(_ask(api, _chat("broken"))).code == grpc.StatusCode.UNAVAILABLE
    assert failure(_ask(api, _chat("slow"), timeout_s=0.3)).code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_a_guardrail_block_fails_without_retry(api: FakeAPI) -> None:
    blocked = failure(_ask(api, _chat("guarded question")))
    assert blocked.code == grpc.StatusCode.PERMISSION_DENIED
    assert "blocked by guardrails" in blocked.message


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY")
    error = failure(MistralBackend.from_config(MODEL, {}).start())
    assert error.code == grpc.StatusCode.UNAUTHENTICATED and "$MISTRAL_API_KEY" in error.message


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
