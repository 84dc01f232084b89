"""The llamacpp backend with the REAL embedded model (SmolLM2-135M-Instruct) behind the gRPC server."""

import json
from collections.abc import Iterator

import grpc
import pytest
from harness import inference_stub, running_server, user_request

from nejumi_inference.launcher import ServerProcess
from nejumi_proto.v1 import inference_pb2, types_pb2

ToolChoice = types_pb2.ToolChoice

CONFIG = {"n_ctx": 2048, "n_parallel": 2, "n_threads": 1}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    args = ["--backend", "llamacpp", "--model", "embedded", "--backend-config", json.dumps(CONFIG)]
    with running_server(args) as running:
        yield running


def _check(response: object) -> None:
    assert response.text.strip()  # type: ignore[attr-defined]
    assert response.usage.prompt_tokens > 0  # type: ignore[attr-defined]
    assert 0 < response.usage.completion_tokens <= 12  # type: ignore[attr-defined]
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens  # type: ignore[attr-defined]
    assert response.finish_reason in ("stop", "length")  # type: ignore[attr-defined]
    assert response.model == "SmolLM2-135M-Instruct.Q4_1.gguf"  # type: ignore[attr-defined]


def test_real_model_answers_unary_and_streamed_requests(server: ServerProcess) -> None:
    with inference_stub(server.address) as stub:
        info = stub.ModelInfo(inference_pb2.ModelInfoRequest())
        one = stub.GenerateOne(user_request("one", "What is the capital of France?", max_tokens=12, temperature=0.0))
        streamed = list(
            stub.Generate(
                iter(
                    [
                        user_request("a", "Name a color.", max_tokens=12, temperature=0.1),
                        user_request("b", "Say hello.", max_tokens=12, seed=3),
                    ]
                ),
                timeout=60,
            )
        )
    assert (info.backend, info.model, info.max_model_len, info.max_concurrency) == (
        "llamacpp",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        1024,
        2,
    )
    _check(one)
    assert sorted(r.request_id for r in streamed) == ["a", "b"]
    for result in streamed:
        assert result.error_code == 0, result.error_message
        _check(result.response)


def test_prompt_longer_than_a_slot_is_invalid_argument(server: ServerProcess) -> None:
    with inference_stub(server.address) as stub, pytest.raises(grpc.RpcError) as failure:
        stub.GenerateOne(user_request("long", "word " * 1500, max_tokens=4))
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "exceeds the available context size (1024 tokens)" in failure.value.details()


def test_count_tokens_equals_what_generation_counts(server: ServerProcess) -> None:
    """CountTokens renders and tokenizes as generation does: its count is the model's own usage.prompt_tokens."""
    tool = types_pb2.Tool(name="get_weather", parameters_json='{"type": "object"}')
    messages = [
        types_pb2.ChatMessage(role="system", content="Answer in one word."),
        types_pb2.ChatMessage(role="user", content="日本の首都はどこですか？"),
    ]
    prompt = "<|im_start|>user\nName a fruit.<|im_end|>\n<|im_start|>assistant\n"
    params = types_pb2.GenerationParams(max_tokens=2, temperature=0.0)
    with inference_stub(server.address) as stub:
        chat_count = stub.CountTokens(inference_pb2.CountTokensRequest(messages=messages))
        tools_count = stub.CountTokens(inference_pb2.CountTokensRequest(messages=messages, tools=[tool]))
        raw_count = stub.CountTokens(inference_pb2.CountTokensRequest(prompt=prompt))
        chat = stub.GenerateOne(inference_pb2.GenerateRequest(messages=messages, params=params))
        with_tools = stub.GenerateOne(inference_pb2.GenerateRequest(messages=messages, tools=[tool], params=params))
        raw = stub.GenerateOne(inference_pb2.GenerateRequest(prompt=prompt, params=params))
    assert chat_count.prompt_tokens == chat.usage.prompt_tokens > 10
    assert tools_count.prompt_tokens == with_tools.usage.prompt_tokens
    assert raw_count.prompt_tokens == raw.usage.prompt_tokens > 5
    assert chat_count.max_model_len == raw_count.max_model_len == 1024


def test_raw_prompt_is_completed_without_a_chat_template(server: ServerProcess) -> None:
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(
            inference_pb2.GenerateRequest(
                prompt="The capital of France is", params=types_pb2.GenerationParams(max_tokens=3, temperature=0.0)
            )
        )
    assert response.text.strip()
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (5, 3)
    assert response.finish_reason == "length"


def test_json_schema_constrains_the_answer(server: ServerProcess) -> None:
    request = user_request("j", "How old is the Earth?", max_tokens=8, temperature=0.0)
    request.params.json_schema.name = "age"
    request.params.json_schema.schema.update(
        {"type": "object", "properties": {"years": {"type": "integer"}}, "required": ["years"]}
    )
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(request)
    assert response.text.lstrip().startswith("{") and '"years"' in response.text


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (
            ToolChoice(mode=ToolChoice.NAMED, name="get_weather"),
            "params.tool_choice: llama.cpp cannot force a named tool",
        ),
        (ToolChoice(mode=ToolChoice.REQUIRED), "params.tool_choice: REQUIRED cannot be honoured: the chat template of"),
    ],
)
def test_tool_choice_it_cannot_honour_is_invalid_argument(
    server: ServerProcess, choice: types_pb2.ToolChoice, message: str
) -> None:
    request = user_request("t", "Weather in Tokyo?", max_tokens=2)
    request.tools.add(name="get_weather", parameters_json='{"type": "object"}')
    request.params.tool_choice.CopyFrom(choice)
    with inference_stub(server.address) as stub, pytest.raises(grpc.RpcError) as failure:
        stub.GenerateOne(request)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.details().startswith(message)


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
