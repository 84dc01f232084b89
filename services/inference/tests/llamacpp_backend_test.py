"""The llamacpp backend with the REAL embedded model (SmolLM2-135M-Instruct) behind the gRPC server."""

import json
from collections.abc import Iterator

import grpc
import pytest
from harness import inference_stub, running_server, user_request

from nejumi_inference.launcher import ServerProcess
from nejumi_proto.v1 import inference_pb2

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


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
