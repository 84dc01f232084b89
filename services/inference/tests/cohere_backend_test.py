"""The cohere backend: the real cohere SDK against a loopback server speaking Cohere's v1 and v2 chat APIs."""

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from vendor_http import Answer, FakeAPI, Sent, failure, fake_api, no_proxies, require_sdk, run

from nejumi_inference.backends.cohere_api import CohereBackend
from nejumi_proto.v1 import inference_pb2, types_pb2

V2_MODEL = "command-a-03-2025"
V1_MODEL = "command-r-plus-08-2024"
API_KEY = "local-cohere-key"
USAGE = {"billed_units": {"input_tokens": 30, "output_tokens": 8}, "tokens": {"input_tokens": 31, "output_tokens": 9}}


def _route(sent: Sent) -> Answer:
    prompt = json.dumps(sent.body, ensure_ascii=False)
    if "rate" in prompt:
        return Answer(429, {"message": "You are using a Trial key, which is limited"}, {"Retry-After": "11"})
    if "broken" in prompt:
        return Answer(500, {"message": "internal server error"})
    if "slow" in prompt:
        return Answer(200, {}, delay_s=2.0)
    if sent.path == "/v1/chat":
        reason = "ERROR_TOXIC" if "toxic" in prompt else "COMPLETE"
        return Answer(
            200,
            {
                "text": "" if reason == "ERROR_TOXIC" else "Paris",
                "generation_id": "g1",
                "finish_reason": reason,
                "meta": {"billed_units": USAGE["billed_units"]},
            },
        )
    if "weather" in prompt:
        call = {"id": "tc_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Osaka"}'}}
        message = {"role": "assistant", "tool_plan": "I will look it up.", "tool_calls": [call]}
        return Answer(200, {"id": "r1", "finish_reason": "TOOL_CALL", "message": message, "usage": USAGE})
    content = [{"type": "thinking", "thinking": "6 x 7 = 42"}, {"type": "text", "text": "42"}]
    return Answer(
        200,
        {"id": "r1", "finish_reason": "COMPLETE", "message": {"role": "assistant", "content": content}, "usage": USAGE},
    )


@pytest.fixture(scope="module")
def api() -> Iterator[FakeAPI]:
    require_sdk("cohere", "cohere==7.3.1")
    with fake_api(_route) as running:
        yield running


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, api: FakeAPI) -> None:
    no_proxies(monkeypatch)
    monkeypatch.setenv("COHERE_API_KEY", API_KEY)
    api.received.clear()


async def _ask(
    api: FakeAPI, model: str, request: inference_pb2.GenerateRequest, timeout_s: float | None = None, **config: Any
) -> types_pb2.Response:
    backend = CohereBackend.from_config(model, {"base_url": api.url, **config})
    await backend.start()
    try:
        return await backend.generate(request, timeout_s)
    finally:
        await backend.close()


def _chat(text: str, extra: dict[str, Any] | None = None, **params: Any) -> inference_pb2.GenerateRequest:
    return inference_pb2.GenerateRequest(
        messages=[
            types_pb2.ChatMessage(role="system", content="Be brief."),
            types_pb2.ChatMessage(role="user", content=text),
        ],
        params=types_pb2.GenerationParams(extra_json=json.dumps(extra or {}), **params),
    )


def _weather() -> inference_pb2.GenerateRequest:
    request = _chat("weather in Osaka?")
    request.tools.append(types_pb2.Tool(name="get_weather", description="Weather", parameters_json='{"type":"object"}'))
    return request


def test_v2_reasoning_apart_and_upstreams_allow_list(api: FakeAPI) -> None:
    request = _chat(
        "6 x 7?", {"top_k": 5, "logit_bias": {}}, temperature=0.3, top_p=0.9, max_tokens=50, seed=3, stop=["END"]
    )
    response = run(_ask(api, V2_MODEL, request))
    assert (response.text, response.reasoning_text, response.finish_reason) == ("42", "6 x 7 = 42", "stop")
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (31, 9, 40)
    [sent] = api.received
    assert (sent.path, sent.headers["authorization"]) == ("/v2/chat", f"Bearer {API_KEY}")
    # top_p/top_k renamed p/k; stop and logit_bias are not on upstream's allow-list.
    assert sent.body == {
        "model": V2_MODEL,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "6 x 7?"}],
        "temperature": 0.3,
        "p": 0.9,
        "k": 5,
        "max_tokens": 50,
        "seed": 3,
        "stream": False,
    }


def test_v2_corrected_sends_stop_and_tools_and_reads_tool_calls(api: FakeAPI) -> None:
    request = _weather()
    request.params.stop.append("END")
    request.params.tool_choice.mode = types_pb2.ToolChoice.REQUIRED
    response = run(_ask(api, V2_MODEL, request, compatibility="corrected"))
    assert response.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments_json) for c in response.tool_calls] == [
        ("tc_1", "get_weather", '{"city":"Osaka"}')
    ]
    body = api.received[0].body
    assert (body["stop_sequences"], body["tool_choice"]) == (["END"], "REQUIRED")
    assert body["tools"] == [
        {
            "type": "function",
            "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}},
        }
    ]


def test_official_sends_no_tools(api: FakeAPI) -> None:
    run(_ask(api, V2_MODEL, _weather()))
    assert "tools" not in api.received[0].body


def test_older_models_use_v1_chat(api: FakeAPI) -> None:
    request = _chat("Capital of France?", temperature=0.0)
    request.messages.insert(1, types_pb2.ChatMessage(role="user", content="Hello"))
    request.messages.insert(2, types_pb2.ChatMessage(role="assistant", content="Hi"))
    response = run(_ask(api, V1_MODEL, request))
    assert (response.text, response.finish_reason, response.usage.total_tokens) == ("Paris", "stop", 38)
    [sent] = api.received
    assert sent.path == "/v1/chat"
    assert sent.body == {
        "model": V1_MODEL,
        "message": "Capital of France?",
        "preamble": "Be brief.",
        "chat_history": [{"role": "USER", "message": "Hello"}, {"role": "CHATBOT", "message": "Hi"}],
        "temperature": 0.0,
        "stream": False,
    }


def test_a_toxic_answer_is_a_content_filter(api: FakeAPI) -> None:
    response = run(_ask(api, V1_MODEL, _chat("something toxic")))
    assert (response.text, response.finish_reason) == ("", "content_filter")


def test_rate_limit_server_error_and_timeout_are_retryable(api: FakeAPI) -> None:
    limited = failure(_ask(api, V2_MODEL, _chat("rate")))
    assert (limited.code, limited.retry_after_s) == (grpc.StatusCode.RESOURCE_EXHAUSTED, 11.0)
    assert "Trial key" in limited.message
    assert len(api.received) == 1  # the SDK does not retry: the queue does
    assert failure(_ask(api, V2_MODEL, _chat("broken"))).code == grpc.StatusCode.UNAVAILABLE
    slow = failure(_ask(api, V2_MODEL, _chat("slow"), read_timeout_s=0.3))
    assert slow.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert failure(_ask(api, V1_MODEL, _chat("slow"), timeout_s=0.3)).code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_v1_refuses_tools_under_corrected(api: FakeAPI) -> None:
    error = failure(_ask(api, V1_MODEL, _weather(), compatibility="corrected"))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT and "v2 models" in error.message
    assert not api.received


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
