"""The OpenAI-chat apis of upstream (openai, openai_chat, openai-compatible, vllm-external, xai, upstage): the
real openai SDK against a loopback Chat Completions server, with upstream's allow-list, key variables, context
overflow retry and content-filter answer."""

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from vendor_http import Answer, FakeAPI, Sent, failure, fake_api, no_proxies, run

from nejumi_inference.backends import Backend, create_backend
from nejumi_proto.v1 import inference_pb2, types_pb2

OVERFLOW = (
    "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens "
    "(3000 in the messages, 2000 in the completion). Please reduce the length of the messages or completion."
)


def _completion(content: str, finish_reason: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "upstream-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 3000, "completion_tokens": 5, "total_tokens": 3005},
    }


def _route(sent: Sent) -> Answer:
    prompt = json.dumps(sent.body["messages"])
    if "rate" in prompt:
        return Answer(429, {"error": {"message": "Rate limit reached", "type": "requests"}}, {"Retry-After": "4"})
    if "crash" in prompt:
        return Answer(502, {"error": {"message": "Bad gateway"}})
    if "slow" in prompt:
        return Answer(payload=_completion("late"), delay_s=2.0)
    if "forbidden" in prompt:
        error = {"code": "data_inspection_failed", "message": "Input data may contain inappropriate content."}
        return Answer(400, {"error": error})
    if "long" in prompt and sent.body.get("max_tokens") != 1096:
        return Answer(400, {"error": {"message": OVERFLOW, "type": "BadRequestError"}})
    return Answer(payload=_completion("42"))


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAPI]:
    no_proxies(monkeypatch)
    for name in ("OPENAI_COMPATIBLE_API_KEY", "VLLM_API_KEY", "XAI_API_KEY", "UPSTAGE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with fake_api(_route) as server:
        yield server


def _backend(api: FakeAPI, name: str = "openai", **options: Any) -> Backend:
    return create_backend(name, "upstream-model", {"base_url": f"{api.url}/v1", "max_retries": 0, **options})


async def _generate(backend: Backend, request: inference_pb2.GenerateRequest) -> types_pb2.Response:
    await backend.start()
    try:
        return await backend.generate(request, None)
    finally:
        await backend.close()


def _request(text: str, extras: dict[str, Any] | None = None, **params: Any) -> inference_pb2.GenerateRequest:
    return inference_pb2.GenerateRequest(
        messages=[types_pb2.ChatMessage(role="user", content=text)],
        params=types_pb2.GenerationParams(extra_json=json.dumps(extras or {}), **params),
    )


GENERATOR = {
    "extra_body": {"chat_template_kwargs": {"enable_thinking": False}},
    "tool_choice": "none",
    "include_reasoning": False,
    "parallel_tool_calls": True,
    "reasoning": {"effort": "high"},
    "top_k": 20,
}


def test_official_sends_upstreams_allow_list(api: FakeAPI) -> None:
    run(_generate(_backend(api), _request("hi", GENERATOR, temperature=0.6, max_tokens=64)))
    # parallel_tool_calls, reasoning and top_k are dropped; include_reasoning becomes OpenRouter's reasoning.
    assert api.received[0].body == {
        "model": "upstream-model",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.6,
        "max_tokens": 64,
        "tool_choice": "none",
        "chat_template_kwargs": {"enable_thinking": False},
        "reasoning": {"exclude": True},
    }


def test_corrected_sends_every_configured_key(api: FakeAPI) -> None:
    run(_generate(_backend(api, compatibility="corrected"), _request("hi", GENERATOR)))
    body = api.received[0].body
    assert (body["parallel_tool_calls"], body["top_k"], body["reasoning"]) == (True, 20, {"exclude": True})


def test_context_overflow_is_asked_again_once_with_the_room_left(api: FakeAPI) -> None:
    response = run(_generate(_backend(api), _request("a long prompt", max_tokens=2000)))
    assert response.text == "42"
    assert [sent.body["max_tokens"] for sent in api.received] == [2000, 4096 - 3000]


def test_dashscope_content_filter_answers_upstreams_placeholder(api: FakeAPI) -> None:
    response = run(_generate(_backend(api), _request("something forbidden")))
    assert (response.text, response.finish_reason) == ("[Content filtered by API provider]", "content_filter")


def test_rate_limit_server_error_and_timeout_are_retryable_codes(api: FakeAPI) -> None:
    limited = failure(_generate(_backend(api), _request("please rate limit me")))
    crashed = failure(_generate(_backend(api), _request("crash now")))
    late = failure(_generate(_backend(api, timeout_s=0.3), _request("be slow")))
    assert (limited.code, limited.retry_after_s) == (grpc.StatusCode.RESOURCE_EXHAUSTED, 4.0)
    assert crashed.code == grpc.StatusCode.UNAVAILABLE and "HTTP 502" in crashed.message
    assert late.code == grpc.StatusCode.DEADLINE_EXCEEDED


@pytest.mark.parametrize(
    ("name", "variables", "key"),
    [
        ("openai-compatible", {"VLLM_API_KEY": "vllm-key"}, "vllm-key"),
        ("vllm-external", {"OPENAI_COMPATIBLE_API_KEY": "compat-key", "VLLM_API_KEY": "vllm-key"}, "compat-key"),
        ("openai-compatible", {}, "EMPTY"),
        ("xai", {"XAI_API_KEY": "xai-key"}, "xai-key"),
        ("upstage", {"UPSTAGE_API_KEY": "upstage-key"}, "upstage-key"),
    ],
)
def test_each_api_reads_upstreams_key_variable(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch, name: str, variables: dict[str, str], key: str
) -> None:
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)
    assert run(_generate(_backend(api, name), _request("hi"))).text == "42"
    assert api.received[0].headers["authorization"] == f"Bearer {key}"


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("openai_chat", "https://api.openai.com/v1"),
        ("openai-compatible", "http://localhost:8000/v1"),
        ("xai", "https://api.x.ai/v1"),
        ("upstage", "https://api.upstage.ai/v1/solar"),
    ],
)
def test_each_api_has_upstreams_endpoint(name: str, url: str) -> None:
    assert create_backend(name, "m", {}).info().details["base_url"] == url


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
