"""The azure-openai backend: the real openai SDK's Azure client against a loopback Azure OpenAI chat server."""

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from vendor_http import Answer, FakeAPI, Sent, failure, fake_api, no_proxies, run

from nejumi_inference.backends import Backend, create_backend
from nejumi_inference.backends.options import OptionsError
from nejumi_proto.v1 import inference_pb2, types_pb2


def _completion(message: dict[str, Any], finish_reason: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-2024-11-20",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10},
    }


def _route(sent: Sent) -> Answer:
    prompt = json.dumps(sent.body["messages"])
    if "rate" in prompt:
        return Answer(429, {"error": {"code": "429", "message": "Requests exceeded"}}, {"retry-after": "12"})
    if "crash" in prompt:
        return Answer(503, {"error": {"code": "ServiceUnavailable", "message": "Try again"}})
    if "slow" in prompt:
        return Answer(payload=_completion({"content": "late"}, "stop"), delay_s=2.0)
    if "prompt filter" in prompt:
        error = {"code": "content_filter", "message": "The response was filtered", "param": "prompt"}
        return Answer(400, {"error": error})
    if "answer filter" in prompt:
        return Answer(payload=_completion({"content": None}, "content_filter"))
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    return Answer(payload=_completion({"content": "42", "reasoning_content": "6 x 7", "tool_calls": [call]}, "stop"))


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAPI]:
    no_proxies(monkeypatch)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key")
    with fake_api(_route) as server:
        monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.url)
        yield server


def _backend(**options: Any) -> Backend:
    return create_backend("azure-openai", "my-gpt-4o", {"max_retries": 0, **options})


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


def test_the_deployment_api_version_allow_list_and_text_only_answer(api: FakeAPI) -> None:
    extras = {"parallel_tool_calls": False, "extra_body": {"chat_template_kwargs": {}}, "top_k": 3}
    response = run(_generate(_backend(), _request("What is 6 x 7?", extras, temperature=0.0, max_tokens=32)))
    # Upstream's Azure client returns the content only.
    assert (response.text, response.reasoning_text, list(response.tool_calls)) == ("42", "", [])
    [sent] = api.received
    assert sent.path == "/openai/deployments/my-gpt-4o/chat/completions?api-version=2024-05-01-preview"
    assert sent.headers["api-key"] == "azure-key"
    assert sent.body == {
        "model": "my-gpt-4o",
        "messages": [{"role": "user", "content": "What is 6 x 7?"}],
        "temperature": 0.0,
        "max_tokens": 32,
        "parallel_tool_calls": False,
    }


def test_model_api_version_and_corrected_answers(api: FakeAPI) -> None:
    response = run(_generate(_backend(api_version="2024-10-21", compatibility="corrected"), _request("hi")))
    assert (response.reasoning_text, len(response.tool_calls)) == ("6 x 7", 1)
    assert api.received[0].path.endswith("?api-version=2024-10-21")


def test_content_filters_rate_limits_outages_and_timeouts(api: FakeAPI) -> None:
    filtered_prompt = failure(_generate(_backend(), _request("prompt filter")))
    filtered_answer = run(_generate(_backend(), _request("answer filter")))
    limited = failure(_generate(_backend(), _request("please rate limit me")))
    crashed = failure(_generate(_backend(), _request("crash now")))
    late = failure(_generate(_backend(timeout_s=0.3), _request("be slow")))
    # A filtered prompt is a rejected request (upstream does not retry BadRequestError); a filtered answer is empty.
    assert filtered_prompt.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (filtered_answer.text, filtered_answer.finish_reason) == ("", "content_filter")
    assert (limited.code, limited.retry_after_s) == (grpc.StatusCode.RESOURCE_EXHAUSTED, 12.0)
    assert crashed.code == grpc.StatusCode.UNAVAILABLE
    assert late.code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_a_missing_endpoint_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    with pytest.raises(OptionsError, match=r"\$AZURE_OPENAI_ENDPOINT"):
        run(_backend().start())


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
