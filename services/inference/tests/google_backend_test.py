"""The google backend: the real google-genai SDK against a loopback server speaking Gemini's v1beta REST API."""

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from vendor_http import Answer, FakeAPI, Sent, failure, fake_api, no_proxies, require_sdk, run

from nejumi_inference.backends.google_genai import GoogleBackend
from nejumi_proto.v1 import inference_pb2, types_pb2

MODEL = "gemini-2.5-flash"
API_KEY = "local-gemini-key"
USAGE = {"promptTokenCount": 9, "candidatesTokenCount": 3, "thoughtsTokenCount": 5, "totalTokenCount": 17}


def _route(sent: Sent) -> Answer:
    prompt = json.dumps(sent.body["contents"], ensure_ascii=False)
    if "rate" in prompt:
        retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}
        error = {
            "code": 429,
            "message": "Resource has been exhausted",
            "status": "RESOURCE_EXHAUSTED",
            "details": [retry],
        }
        return Answer(429, {"error": error})
    if "broken" in prompt:
        return Answer(500, {"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}})
    if "slow" in prompt:
        return Answer(200, {}, delay_s=2.0)
    if "forbidden" in prompt:
        return Answer(200, {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4}})
    if "unsafe" in prompt:
        return Answer(200, {"candidates": [{"finishReason": "SAFETY", "index": 0}], "usageMetadata": USAGE})
    if "flaky" in prompt and sum("flaky" in json.dumps(s.body) for s in _received) < 3:
        return Answer(
            200, {"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP"}]}
        )
    parts = [{"text": "6 x 7 is 42", "thought": True}, {"text": "42"}]
    candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
    return Answer(200, {"candidates": [candidate], "usageMetadata": USAGE, "modelVersion": "gemini-2.5-flash-001"})


_received: list[Sent] = []


@pytest.fixture(scope="module")
def api() -> Iterator[FakeAPI]:
    require_sdk("google.genai", "google-genai==3.3.0")

    def recording(sent: Sent) -> Answer:
        _received.append(sent)
        return _route(sent)

    with fake_api(recording) as running:
        yield running


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    no_proxies(monkeypatch)
    monkeypatch.setenv("GOOGLE_API_KEY", API_KEY)
    _received.clear()


async def _ask(
    api: FakeAPI, request: inference_pb2.GenerateRequest, timeout_s: float | None = None, **config: Any
) -> types_pb2.Response:
    backend = GoogleBackend.from_config(MODEL, {"base_url": api.url, **config})
    await backend.start()
    try:
        return await backend.generate(request, timeout_s)
    finally:
        await backend.close()


def _chat(text: str, extra: dict[str, Any] | None = None, **params: Any) -> inference_pb2.GenerateRequest:
    return inference_pb2.GenerateRequest(
        messages=[
            types_pb2.ChatMessage(role="system", content="Answer in Japanese."),
            types_pb2.ChatMessage(role="user", content=text),
            types_pb2.ChatMessage(role="assistant", content="はい"),
            types_pb2.ChatMessage(role="user", content="続けて"),
        ],
        params=types_pb2.GenerationParams(extra_json=json.dumps(extra or {}), **params),
    )


def test_round_trip_thoughts_apart_and_upstreams_request(api: FakeAPI) -> None:
    request = _chat("6 x 7?", {"top_k": 40, "presence_penalty": 0.5}, temperature=0.2, max_tokens=64, stop=["\n\n"])
    request.tools.append(types_pb2.Tool(name="get_weather", parameters_json='{"type": "object"}'))
    response = run(_ask(api, request))
    assert (response.text, response.reasoning_text, response.finish_reason) == ("42", "6 x 7 is 42", "stop")
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (9, 8, 17)
    assert response.model == "gemini-2.5-flash-001"
    [sent] = _received
    assert sent.path == f"/v1beta/models/{MODEL}:generateContent"
    assert sent.headers["x-goog-api-key"] == API_KEY
    assert sent.body["contents"] == [
        {"role": "user", "parts": [{"text": "Answer in Japanese.\n\n6 x 7?"}]},
        {"role": "model", "parts": [{"text": "はい"}]},
        {"role": "user", "parts": [{"text": "続けて"}]},
    ]
    assert "systemInstruction" not in sent.body and "tools" not in sent.body
    # presence_penalty is not on upstream's allow-list; thinking is off without model.thinking_budget.
    assert sent.body["generationConfig"] == {
        "temperature": 0.2,
        "topK": 40.0,  # the SDK types top_k as a float
        "maxOutputTokens": 64,
        "stopSequences": ["\n\n"],
        "thinkingConfig": {"thinking_budget": 0},  # the SDK sends these fields in snake case
    }


def test_thinking_budget_safety_settings_and_corrected_mode(api: FakeAPI) -> None:
    safety = [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}]
    run(
        _ask(
            api,
            _chat("hi", {"presence_penalty": 0.5}),
            thinking_budget=-1,
            safety_settings=safety,
            compatibility="corrected",
        )
    )
    run(_ask(api, _chat("hi", {"thinking_config": {"include_thoughts": True}}), thinking_budget=1024))
    automatic, capped = (sent.body for sent in _received)
    assert automatic["safetySettings"] == safety
    assert automatic["generationConfig"] == {"presencePenalty": 0.5, "thinkingConfig": {}}  # -1: ThinkingConfig()
    assert capped["generationConfig"]["thinkingConfig"] == {"thinking_budget": 1024, "include_thoughts": True}


def test_empty_answers_are_asked_again_three_times(api: FakeAPI) -> None:
    response = run(_ask(api, _chat("flaky")))
    assert response.text == "42"
    assert len(_received) == 3


@pytest.mark.parametrize("text", ["unsafe", "forbidden"])
def test_a_safety_block_is_a_content_filter_after_upstreams_retries(api: FakeAPI, text: str) -> None:
    response = run(_ask(api, _chat(text)))
    assert (response.text, response.finish_reason) == ("", "content_filter")
    assert len(_received) == 4  # the first try and upstream's 3 retries of an empty answer


def test_rate_limit_carries_the_retry_delay(api: FakeAPI) -> None:
    error = failure(_ask(api, _chat("rate me")))
    assert (error.code, error.retry_after_s) == (grpc.StatusCode.RESOURCE_EXHAUSTED, 37.0)
    assert "Resource has been exhausted" in error.message
    assert len(_received) == 1  # the SDK does not retry: the queue does


def test_server_error_and_timeout_are_retryable(api: FakeAPI) -> None:
    assert failure(_ask(api, _chat("broken"))).code == grpc.StatusCode.UNAVAILABLE
    assert failure(_ask(api, _chat("slow"), timeout_s=0.3)).code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_bad_options_and_missing_key(api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    from nejumi_inference.backends.options import OptionsError

    with pytest.raises(OptionsError, match="safety_settings"):
        GoogleBackend.from_config(MODEL, {"safety_settings": "BLOCK_NONE"})
    monkeypatch.delenv("GOOGLE_API_KEY")
    error = failure(GoogleBackend.from_config(MODEL, {}).start())
    assert error.code == grpc.StatusCode.UNAUTHENTICATED and "$GOOGLE_API_KEY" in error.message


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
