"""The anthropic backend: the real anthropic SDK against a loopback server speaking the Messages API."""

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from vendor_http import Answer, FakeAPI, Sent, failure, fake_api, no_proxies, require_sdk, run

from nejumi_inference.backends import SDKS, Backend, MissingSdkError, create_backend
from nejumi_proto.v1 import inference_pb2, types_pb2

KEY_ENV = "NEJUMI_TEST_ANTHROPIC_KEY"


@pytest.fixture(autouse=True)
def sdk() -> None:
    require_sdk("anthropic", "anthropic==2.10.0")


def _message(content: list[dict[str, Any]], stop_reason: str = "end_turn") -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test-1",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 21, "output_tokens": 13},
    }


THINKING = {"type": "thinking", "thinking": "6 x 7 = 42", "signature": "sig"}


def _route(sent: Sent) -> Answer:
    if sent.path == "/v1/messages/count_tokens":
        return Answer(payload={"input_tokens": 17})
    prompt = json.dumps(sent.body["messages"])
    if "rate" in prompt:
        error = {"type": "error", "error": {"type": "rate_limit_error", "message": "Number of requests exceeded"}}
        return Answer(429, error, {"retry-after": "9"})
    if "overload" in prompt:
        return Answer(529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    if "crash" in prompt:
        return Answer(500, {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}})
    if "slow" in prompt:
        return Answer(payload=_message([{"type": "text", "text": "late"}]), delay_s=2.0)
    if "forbidden" in prompt:
        return Answer(payload=_message([], stop_reason="refusal"))
    if "weather" in prompt:
        blocks = [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Osaka"}},
        ]
        return Answer(payload=_message(blocks, stop_reason="tool_use"))
    return Answer(payload=_message([THINKING, {"type": "text", "text": "42"}]))


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAPI]:
    no_proxies(monkeypatch)
    monkeypatch.setenv(KEY_ENV, "sk-ant-test")
    with fake_api(_route) as server:
        yield server


def _backend(api: FakeAPI, **options: Any) -> Backend:
    config = {"base_url": api.url, "api_key_env": KEY_ENV, "max_retries": 0, **options}
    return create_backend("anthropic", "claude-test-1", config)


async def _generate(backend: Backend, request: inference_pb2.GenerateRequest) -> types_pb2.Response:
    await backend.start()
    try:
        return await backend.generate(request, None)
    finally:
        await backend.close()


def _request(text: str, extras: dict[str, Any] | None = None, **params: Any) -> inference_pb2.GenerateRequest:
    return inference_pb2.GenerateRequest(
        messages=[
            types_pb2.ChatMessage(role="system", content="Be brief."),
            types_pb2.ChatMessage(role="user", content=text),
        ],
        params=types_pb2.GenerationParams(extra_json=json.dumps(extras or {}), **params),
    )


def test_request_as_upstreams_client_sends_it(api: FakeAPI) -> None:
    extras = {"top_k": 40, "tool_choice": "auto", "parallel_tool_calls": True}
    request = _request("What is 6 x 7?", extras, temperature=0.1, top_p=1.0, stop=["\n\n"], seed=3)
    response = run(_generate(_backend(api), request))
    assert (response.text, response.reasoning_text, response.finish_reason) == ("42", "6 x 7 = 42", "stop")
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (21, 13, 34)
    [sent] = api.received
    assert (sent.path, sent.headers["authorization"]) == ("/v1/messages", "Bearer sk-ant-test")
    # System to `system`, stop as stop_sequences, max_tokens 1024 by default; seed and off-list keys dropped.
    assert sent.body == {
        "model": "claude-test-1",
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "What is 6 x 7?"}],
        "max_tokens": 1024,
        "stop_sequences": ["\n\n"],
        "temperature": 0.1,
        "top_p": 1.0,
        "top_k": 40,
    }


def test_thinking_adds_its_budget_and_forces_temperature_one(api: FakeAPI) -> None:
    request = _request("What is 6 x 7?", temperature=0.0, max_tokens=4096)
    response = run(_generate(_backend(api, thinking={"budget_tokens": 8192}), request))
    assert response.reasoning_text == "6 x 7 = 42"
    body = api.received[0].body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 8192}
    assert (body["max_tokens"], body["temperature"]) == (4096 + 8192, 1.0)
    run(_generate(_backend(api, thinking={}), _request("What is 6 x 7?")))
    body = api.received[1].body
    assert (body["thinking"]["budget_tokens"], body["max_tokens"]) == (16384, 2048 + 16384)


def test_tool_calls_both_ways(api: FakeAPI) -> None:
    history = [
        types_pb2.ChatMessage(role="user", content="Earlier question"),
        types_pb2.ChatMessage(
            role="assistant",
            content="Looking.",
            tool_calls=[
                types_pb2.ToolCall(id="toolu_a", name="lookup", arguments_json='{"q": 1}'),
                types_pb2.ToolCall(id="toolu_b", name="lookup", arguments_json='{"q": 2}'),
            ],
        ),
        types_pb2.ChatMessage(role="tool", tool_call_id="toolu_a", content="one"),
        types_pb2.ChatMessage(role="tool", tool_call_id="toolu_b", content="two"),
        types_pb2.ChatMessage(role="user", content="And the weather?"),
    ]
    tool = types_pb2.Tool(name="get_weather", description="Weather by city", parameters_json='{"type": "object"}')
    request = inference_pb2.GenerateRequest(messages=history, tools=[tool])
    request.params.tool_choice.mode = types_pb2.ToolChoice.REQUIRED
    response = run(_generate(_backend(api), request))
    assert (response.text, response.finish_reason) == ("Let me check.", "tool_calls")
    assert [(c.id, c.name, json.loads(c.arguments_json)) for c in response.tool_calls] == [
        ("toolu_1", "get_weather", {"city": "Osaka"})
    ]
    body = api.received[0].body
    assert body["messages"][1:3] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Looking."},
                {"type": "tool_use", "id": "toolu_a", "name": "lookup", "input": {"q": 1}},
                {"type": "tool_use", "id": "toolu_b", "name": "lookup", "input": {"q": 2}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_a", "content": "one"},
                {"type": "tool_result", "tool_use_id": "toolu_b", "content": "two"},
            ],
        },
    ]
    assert body["tools"] == [
        {"name": "get_weather", "description": "Weather by city", "input_schema": {"type": "object"}}
    ]
    assert body["tool_choice"] == {"type": "any"}


def test_a_refusal_is_an_empty_content_filtered_answer(api: FakeAPI) -> None:
    response = run(_generate(_backend(api), _request("something forbidden")))
    assert (response.text, response.finish_reason) == ("", "content_filter")


def test_errors_are_retryable_where_upstreams_became_type_errors(api: FakeAPI) -> None:
    limited = failure(_generate(_backend(api), _request("please rate limit me")))
    overloaded = failure(_generate(_backend(api), _request("overload")))
    crashed = failure(_generate(_backend(api), _request("crash now")))
    late = failure(_generate(_backend(api, timeout_s=0.3), _request("be slow")))
    assert (limited.code, limited.retry_after_s) == (grpc.StatusCode.RESOURCE_EXHAUSTED, 9.0)
    assert "HTTP 429: Number of requests exceeded" in limited.message
    assert overloaded.code == crashed.code == grpc.StatusCode.UNAVAILABLE
    assert late.code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_count_tokens(api: FakeAPI) -> None:
    backend = _backend(api)

    async def count() -> inference_pb2.CountTokensResponse:
        await backend.start()
        try:
            return await backend.count_tokens(inference_pb2.CountTokensRequest(messages=_request("hi").messages))
        finally:
            await backend.close()

    assert run(count()).prompt_tokens == 17
    assert api.received[0].body == {
        "model": "claude-test-1",
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "hi"}],
    }


def test_a_missing_sdk_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SDKS, "anthropic", ("nejumi_no_such_sdk", "anthropic==2.10.0"))
    with pytest.raises(MissingSdkError, match=r"pip install anthropic==2\.10\.0"):
        create_backend("anthropic", "claude-test-1", {})


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
