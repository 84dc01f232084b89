"""The amazon_bedrock backend: real boto3 against a loopback server speaking Bedrock runtime's REST-JSON protocol."""

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from vendor_http import Answer, FakeAPI, Sent, failure, fake_api, no_proxies, require_sdk, run

from nejumi_inference.backends.bedrock import BedrockBackend
from nejumi_proto.v1 import inference_pb2, types_pb2

CLAUDE = "us.anthropic.claude-sonnet-4-20250514-v1:0"
LLAMA = "us.meta.llama3-3-70b-instruct-v1:0"
NOVA = "us.amazon.nova-lite-v1:0"
GENERATOR = {"temperature": 0.0, "top_p": 1.0, "max_tokens": 4096}


def _route(sent: Sent) -> Answer:
    model, operation = urllib.parse.unquote(sent.path).removeprefix("/model/").rsplit("/", 1)
    body = sent.body
    prompt = json.dumps(body, ensure_ascii=False)
    if "throttle" in prompt:
        error = {"message": "Too many requests, please wait before trying again."}
        return Answer(429, error, {"x-amzn-ErrorType": "ThrottlingException", "Retry-After": "3"})
    if "broken" in prompt:
        return Answer(500, {"message": "internal"}, {"x-amzn-ErrorType": "InternalServerException"})
    if "invalid" in prompt:
        return Answer(400, {"message": "temperature: bad"}, {"x-amzn-ErrorType": "ValidationException"})
    if "slow" in prompt:
        return Answer(200, {}, delay_s=2.0)
    if operation == "converse":
        return Answer(200, _converse_answer(prompt))
    if "llama" in model:
        return Answer(
            200, {"generation": "Paris", "prompt_token_count": 9, "generation_token_count": 2, "stop_reason": "stop"}
        )
    return Answer(200, _claude_answer(prompt))


def _claude_answer(prompt: str) -> dict[str, Any]:
    usage = {"input_tokens": 12, "output_tokens": 5}
    if "guarded" in prompt:
        blocked = [{"type": "text", "text": "Sorry, the model cannot answer this question."}]
        return {
            "content": blocked,
            "stop_reason": "end_turn",
            "usage": usage,
            "amazon-bedrock-guardrailAction": "INTERVENED",
        }
    if "weather" in prompt:
        content = [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Osaka"}}]
        return {"content": content, "stop_reason": "tool_use", "usage": usage, "model": "claude-sonnet-4"}
    content = [{"type": "thinking", "thinking": "6 x 7 = 42", "signature": "sig"}, {"type": "text", "text": "42"}]
    return {"content": content, "stop_reason": "end_turn", "usage": usage, "model": "claude-sonnet-4"}


def _converse_answer(prompt: str) -> dict[str, Any]:
    usage = {"inputTokens": 10, "outputTokens": 4, "totalTokens": 14}
    if "guarded" in prompt:
        message = {"role": "assistant", "content": [{"text": "Blocked by guardrail."}]}
        return {"output": {"message": message}, "stopReason": "guardrail_intervened", "usage": usage}
    if "weather" in prompt:
        use = {"toolUseId": "tooluse_9", "name": "get_weather", "input": {"city": "Kyoto"}}
        message = {"role": "assistant", "content": [{"toolUse": use}]}
        return {"output": {"message": message}, "stopReason": "tool_use", "usage": usage}
    content = [{"reasoningContent": {"reasoningText": {"text": "think"}}}, {"text": "Tokyo"}]
    return {"output": {"message": {"role": "assistant", "content": content}}, "stopReason": "end_turn", "usage": usage}


@pytest.fixture(scope="module")
def api() -> Iterator[FakeAPI]:
    require_sdk("boto3", "boto3==1.44.5")
    with fake_api(_route) as running:
        yield running


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    no_proxies(monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_BEDROCK_REGION", "ap-northeast-1")


async def _ask(api: FakeAPI, model: str, request: inference_pb2.GenerateRequest, **config: Any) -> types_pb2.Response:
    backend = BedrockBackend.from_config(model, {"endpoint_url": api.url, "generator": GENERATOR, **config})
    await backend.start()
    try:
        return await backend.generate(request, None)
    finally:
        await backend.close()


def _chat(text: str, **params: Any) -> inference_pb2.GenerateRequest:
    return inference_pb2.GenerateRequest(
        messages=[
            types_pb2.ChatMessage(role="system", content="Be brief."),
            types_pb2.ChatMessage(role="user", content=text),
        ],
        params=types_pb2.GenerationParams(**params),
    )


def _weather_request() -> inference_pb2.GenerateRequest:
    request = _chat("weather in Osaka?", temperature=0.7, max_tokens=100)
    request.tools.append(types_pb2.Tool(name="get_weather", description="Weather", parameters_json='{"type":"object"}'))
    return request


def test_claude_official_uses_the_generator_section_not_the_request(api: FakeAPI) -> None:
    api.received.clear()
    response = run(_ask(api, CLAUDE, _chat("6 x 7?", temperature=0.9, top_p=0.5, max_tokens=64)))
    assert (response.text, response.reasoning_text, response.finish_reason) == ("42", "6 x 7 = 42", "stop")
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (12, 5, 17)
    [sent] = api.received
    assert urllib.parse.unquote(sent.path) == f"/model/{CLAUDE}/invoke"
    assert "ap-northeast-1" in sent.headers["authorization"]  # SigV4 scope: the region came from the environment
    assert sent.body == {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 64,
        "temperature": 0.0,
        "top_p": 1.0,
        "messages": [{"role": "user", "content": "6 x 7?"}],
        "system": "Be brief.",
    }


def test_claude_corrected_sends_the_request_parameters_and_tools(api: FakeAPI) -> None:
    api.received.clear()
    request = _weather_request()
    request.params.tool_choice.mode = types_pb2.ToolChoice.REQUIRED
    history = [
        types_pb2.ChatMessage(
            role="assistant",
            tool_calls=[types_pb2.ToolCall(id="t0", name="get_weather", arguments_json='{"city": "Nara"}')],
        ),
        types_pb2.ChatMessage(role="tool", tool_call_id="t0", content="sunny"),
        types_pb2.ChatMessage(role="user", content="and the weather in Osaka?"),
    ]
    request.messages.extend(history)
    response = run(_ask(api, CLAUDE, request, compatibility="corrected"))
    assert response.finish_reason == "tool_calls"
    assert [(c.id, c.name, json.loads(c.arguments_json)) for c in response.tool_calls] == [
        ("toolu_1", "get_weather", {"city": "Osaka"})
    ]
    body = api.received[0].body
    assert (body["temperature"], body["max_tokens"], "top_p" in body) == (0.7, 100, False)
    assert body["tools"] == [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}]
    assert body["tool_choice"] == {"type": "any"}
    assert body["messages"][1:3] == [
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t0", "name": "get_weather", "input": {"city": "Nara"}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t0", "content": "sunny"}]},
    ]


def test_claude_official_sends_no_tools(api: FakeAPI) -> None:
    api.received.clear()
    run(_ask(api, CLAUDE, _weather_request()))
    assert "tools" not in api.received[0].body


def test_llama_gets_the_llama3_prompt(api: FakeAPI) -> None:
    api.received.clear()
    response = run(_ask(api, LLAMA, _chat("Capital of France?", max_tokens=8)))
    assert (response.text, response.finish_reason, response.usage.total_tokens) == ("Paris", "stop", 11)
    assert api.received[0].body == {
        "prompt": "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nCapital of France?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
        "max_gen_len": 8,
        "temperature": 0.0,
        "top_p": 1.0,
    }


def test_nova_goes_through_converse(api: FakeAPI) -> None:
    api.received.clear()
    response = run(_ask(api, NOVA, _chat("Capital of Japan?", temperature=0.5, max_tokens=32)))
    assert (response.text, response.reasoning_text, response.finish_reason) == ("Tokyo", "think", "stop")
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (10, 4)
    [sent] = api.received
    assert urllib.parse.unquote(sent.path) == f"/model/{NOVA}/converse"
    assert sent.body == {
        "messages": [{"role": "user", "content": [{"text": "Capital of Japan?"}]}],
        "system": [{"text": "Be brief."}],
        "inferenceConfig": {"maxTokens": 32, "temperature": 0.0, "topP": 1.0},
    }


def test_nova_corrected_tool_calls(api: FakeAPI) -> None:
    api.received.clear()
    response = run(_ask(api, NOVA, _weather_request(), compatibility="corrected"))
    assert [(c.id, c.name, c.arguments_json) for c in response.tool_calls] == [
        ("tooluse_9", "get_weather", '{"city": "Kyoto"}')
    ]
    body = api.received[0].body
    assert body["inferenceConfig"] == {"maxTokens": 100, "temperature": 0.7}
    assert body["toolConfig"] == {
        "tools": [
            {"toolSpec": {"name": "get_weather", "description": "Weather", "inputSchema": {"json": {"type": "object"}}}}
        ]
    }


@pytest.mark.parametrize("model", [CLAUDE, NOVA])
def test_a_guardrail_answer_is_a_content_filter(api: FakeAPI, model: str) -> None:
    response = run(_ask(api, model, _chat("guarded question")))
    assert response.finish_reason == "content_filter"
    assert response.text  # the guardrail's message, which upstream scores as the answer


def test_throttling_is_retryable_with_the_wait_asked_for(api: FakeAPI) -> None:
    api.received.clear()
    error = failure(_ask(api, CLAUDE, _chat("throttle me")))
    assert error.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.retry_after_s == 3.0
    assert "ThrottlingException" in error.message
    assert len(api.received) == 1  # botocore does not retry: the queue does


def test_server_errors_timeouts_and_validation(api: FakeAPI) -> None:
    assert failure(_ask(api, NOVA, _chat("broken"))).code == grpc.StatusCode.UNAVAILABLE
    assert failure(_ask(api, NOVA, _chat("invalid"))).code == grpc.StatusCode.INVALID_ARGUMENT
    slow = failure(_ask(api, CLAUDE, _chat("slow"), read_timeout_s=0.3))
    assert slow.code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_the_clients_deadline_bounds_a_request(api: FakeAPI) -> None:
    async def ask() -> None:
        # base_url and api_key_env are what the model config hands every API backend.
        backend = BedrockBackend.from_config(CLAUDE, {"base_url": api.url, "api_key_env": "UNUSED"})
        await backend.start()
        try:
            await backend.generate(_chat("slow"), 0.2)
        finally:
            await backend.close()

    assert failure(ask()).code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_missing_credentials_and_bad_options_name_the_fix(api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    from nejumi_inference.backends.options import OptionsError

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    error = failure(BedrockBackend.from_config(NOVA, {}).start())
    assert error.code == grpc.StatusCode.UNAUTHENTICATED and "AWS_ACCESS_KEY_ID" in error.message
    with pytest.raises(OptionsError, match="compatibility"):
        BedrockBackend.from_config(NOVA, {"compatibility": "fixed"})


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
