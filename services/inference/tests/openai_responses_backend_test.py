"""The openai_responses backend: the real openai SDK against a loopback server speaking the Responses API."""

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from vendor_http import Answer, FakeAPI, Sent, failure, fake_api, no_proxies, run

from nejumi_inference.backends import Backend, create_backend
from nejumi_proto.v1 import inference_pb2, types_pb2

KEY_ENV = "NEJUMI_TEST_RESPONSES_KEY"
SCHEMA = {"type": "object", "properties": {"rating": {"type": "string"}}, "required": ["rating"]}


def _response(output: list[dict[str, Any]], status: str = "completed", **fields: Any) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "model": "o3-2025-04-16",
        "status": status,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 12,
            "output_tokens": 30,
            "total_tokens": 42,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 20},
        },
        **fields,
    }


def _message(text: str) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": []}
    return {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": [part]}


def _call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"type": "function_call", "id": f"fc_{call_id}", "call_id": call_id, "name": name, "arguments": arguments}


REASONING = {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "6 x 7 = 42"}]}


def _route(sent: Sent) -> Answer:
    if sent.path.endswith("/responses/input_tokens"):
        return Answer(payload={"object": "response.input_tokens", "input_tokens": 9})
    prompt = json.dumps(sent.body["input"])
    if "rate" in prompt:
        return Answer(429, {"error": {"message": "Rate limit reached", "type": "requests"}}, {"Retry-After": "7"})
    if "crash" in prompt:
        return Answer(500, {"error": {"message": "The server had an error", "type": "server_error"}})
    if "slow" in prompt:
        return Answer(payload=_response([_message("late")]), delay_s=2.0)
    if "forbidden" in prompt:
        details = {"reason": "content_filter"}
        return Answer(payload=_response([], status="incomplete", incomplete_details=details))
    if "weather" in prompt:
        calls = [_call("call_1", "get_weather", '{"city": "Osaka"'), _call("call_2", "get_time", "Tokyo")]
        return Answer(payload=_response(calls))
    return Answer(payload=_response([REASONING, _message("42")]))


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAPI]:
    no_proxies(monkeypatch)
    monkeypatch.setenv(KEY_ENV, "sk-responses")
    with fake_api(_route) as server:
        yield server


def _backend(api: FakeAPI, **options: Any) -> Backend:
    config = {"base_url": f"{api.url}/v1", "api_key_env": KEY_ENV, "max_retries": 0, **options}
    return create_backend("openai_responses", "o3-2025-04-16", config)


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


# An official o3-style generator section: reasoning both top-level and under extra_body, plus keys upstream drops.
GENERATOR = {
    "reasoning": {"effort": "high", "summary": "auto"},
    "extra_body": {"reasoning": {"effort": "low"}},
    "top_k": 5,
    "temparature": "None",
    "include": ["reasoning.encrypted_content"],
}


def test_official_request_and_an_answer_with_reasoning(api: FakeAPI) -> None:
    request = _request("What is 6 x 7?", GENERATOR, temperature=0.6, top_p=0.95, max_tokens=8, seed=1)
    response = run(_generate(_backend(api), request))
    assert (response.text, response.reasoning_text, response.finish_reason) == ("42", "6 x 7 = 42", "stop")
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (12, 30, 42)
    assert response.model == "o3-2025-04-16"
    [sent] = api.received
    assert (sent.path, sent.headers["authorization"]) == ("/v1/responses", "Bearer sk-responses")
    # temperature/top_p/seed and the keys off the allow-list are dropped; extra_body.reasoning is not promoted.
    assert sent.body == {
        "model": "o3-2025-04-16",
        "input": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 6 x 7?"}],
        "max_output_tokens": 16,
        "reasoning": {"effort": "high", "summary": "auto"},
        "top_logprobs": 5,
    }


def test_corrected_sends_sampling_and_promotes_extra_body_reasoning(api: FakeAPI) -> None:
    extras = {"extra_body": {"reasoning": {"effort": "high"}}}
    request = _request("What is 6 x 7?", extras, temperature=0.6, top_p=0.95, max_tokens=100000)
    run(_generate(_backend(api, compatibility="corrected"), request))
    body = api.received[0].body
    assert (body["temperature"], body["top_p"], body["max_output_tokens"]) == (0.6, 0.95, 100000)
    assert body["reasoning"] == {"effort": "high"}


def test_tool_calls_both_ways(api: FakeAPI) -> None:
    history = [
        types_pb2.ChatMessage(role="user", content="Earlier question"),
        types_pb2.ChatMessage(
            role="assistant", tool_calls=[types_pb2.ToolCall(id="call_0", name="lookup", arguments_json='{"q": 1}')]
        ),
        types_pb2.ChatMessage(role="tool", tool_call_id="call_0", content="found"),
        types_pb2.ChatMessage(role="user", content="And the weather?"),
    ]
    tool = types_pb2.Tool(name="get_weather", description="Weather by city", parameters_json='{"type": "object"}')
    request = inference_pb2.GenerateRequest(messages=history, tools=[tool])
    request.params.tool_choice.mode = types_pb2.ToolChoice.NAMED
    request.params.tool_choice.name = "get_weather"
    response = run(_generate(_backend(api), request))
    # Upstream's argument reading: a missing closing brace is added, anything else kept as _raw.
    assert [(c.id, c.name, json.loads(c.arguments_json)) for c in response.tool_calls] == [
        ("call_1", "get_weather", {"city": "Osaka"}),
        ("call_2", "get_time", {"_raw": "Tokyo"}),
    ]
    assert (response.text, response.finish_reason) == ("", "tool_calls")
    body = api.received[0].body
    assert body["input"][1:3] == [
        {"type": "function_call", "call_id": "call_0", "name": "lookup", "arguments": '{"q": 1}'},
        {"type": "function_call_output", "call_id": "call_0", "output": "found"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather by city",
            "parameters": {"type": "object"},
            "strict": False,
        }
    ]
    assert body["tool_choice"] == {"type": "function", "name": "get_weather"}


def test_structured_output_is_a_json_schema_text_format(api: FakeAPI) -> None:
    request = _request("judge it", {"text": {"verbosity": "low"}}, max_tokens=2048)
    request.params.json_schema.name = "JudgeSingle"
    request.params.json_schema.strict = True
    request.params.json_schema.schema.update(SCHEMA)
    run(_generate(_backend(api), request))
    assert api.received[0].body["text"] == {
        "verbosity": "low",
        "format": {"type": "json_schema", "name": "JudgeSingle", "schema": SCHEMA, "strict": True},
    }


def test_content_filter_answers_empty_text(api: FakeAPI) -> None:
    response = run(_generate(_backend(api), _request("something forbidden")))
    assert (response.text, response.finish_reason) == ("", "content_filter")


def test_rate_limit_server_error_and_timeout_are_retryable_codes(api: FakeAPI) -> None:
    limited = failure(_generate(_backend(api), _request("please rate limit me")))
    crashed = failure(_generate(_backend(api), _request("crash now")))
    late = failure(_generate(_backend(api, timeout_s=0.3), _request("be slow")))
    assert (limited.code, limited.retry_after_s) == (grpc.StatusCode.RESOURCE_EXHAUSTED, 7.0)
    assert "HTTP 429: Rate limit reached" in limited.message
    assert crashed.code == grpc.StatusCode.UNAVAILABLE and "HTTP 500" in crashed.message
    assert late.code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_count_tokens_asks_the_input_tokens_endpoint(api: FakeAPI) -> None:
    backend = _backend(api)

    async def count() -> inference_pb2.CountTokensResponse:
        await backend.start()
        try:
            return await backend.count_tokens(inference_pb2.CountTokensRequest(messages=_request("hi").messages))
        finally:
            await backend.close()

    assert run(count()).prompt_tokens == 9
    [sent] = api.received
    assert sent.path == "/v1/responses/input_tokens"
    assert sent.body["input"][1] == {"role": "user", "content": "hi"}


def test_azure_resource_as_upstreams_judge_reaches_it(api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEJUMI_TEST_AZURE_ENDPOINT", api.url)
    options = {"azure_endpoint_env": "NEJUMI_TEST_AZURE_ENDPOINT", "api_version": "2025-03-01-preview"}
    config = {"api_key_env": KEY_ENV, "max_retries": 0, **options}
    backend = create_backend("openai_responses", "gpt-4.1-judge", config)
    assert run(_generate(backend, _request("What is 6 x 7?"))).text == "42"
    [sent] = api.received
    assert sent.path.startswith("/openai/") and "api-version=2025-03-01-preview" in sent.path
    assert sent.headers["api-key"] == "sk-responses"
    assert sent.body["model"] == "gpt-4.1-judge"


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
