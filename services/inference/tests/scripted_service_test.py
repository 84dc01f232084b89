"""The service over real gRPC with the scripted backend: unary calls, a 200-request stream, several clients."""

import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from harness import code_value, inference_stub, read_log, running_server, scripted_args, user_request

from nejumi_inference.launcher import ServerProcess
from nejumi_proto.v1 import inference_pb2, types_pb2

SCRIPT = {
    "rules": [
        {"match": "capital of Japan", "reply": "Tokyo is the capital"},
        {"match": "slow", "reply": "slow answer", "delay_s": 1.5},
        {"match": "think", "reply": "42", "reasoning": "six times seven"},
        {"match": "weather", "reply": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Tokyo"}}]},
        {"match": "refuse", "error_code": "FAILED_PRECONDITION", "error_message": "scripted refusal"},
    ],
    "default": "echo",
    "delay_s": 0.02,
    "max_model_len": 4096,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("scripted")
    with running_server(scripted_args(workdir, SCRIPT)) as running:
        yield running


def test_generate_one_answers_from_the_script(server: ServerProcess) -> None:
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(user_request("a", "What is the capital of Japan?"))
    assert response.text == "Tokyo is the capital"
    assert response.finish_reason == "stop"
    assert response.model == "scripted-model"
    assert response.usage.prompt_tokens == 6
    assert response.usage.completion_tokens == 4
    assert response.usage.total_tokens == 10
    assert response.latency_s > 0


def test_reasoning_tool_calls_and_truncation(server: ServerProcess) -> None:
    with inference_stub(server.address) as stub:
        thought = stub.GenerateOne(user_request("r", "think hard"))
        called = stub.GenerateOne(user_request("t", "weather in Tokyo?"))
        cut = stub.GenerateOne(user_request("c", "one two three four five", max_tokens=2))
    assert (thought.text, thought.reasoning_text) == ("42", "six times seven")
    assert called.finish_reason == "tool_calls"
    assert [(c.name, c.arguments_json) for c in called.tool_calls] == [("get_weather", '{"city": "Tokyo"}')]
    assert (cut.text, cut.finish_reason, cut.usage.completion_tokens) == ("one two", "length", 2)


def test_raw_prompt_matches_rules_and_echoes(server: ServerProcess) -> None:
    with inference_stub(server.address) as stub:
        matched = stub.GenerateOne(inference_pb2.GenerateRequest(prompt="<|user|>capital of Japan?<|assistant|>"))
        echoed = stub.GenerateOne(inference_pb2.GenerateRequest(prompt="<s> raw completion text"))
    assert (matched.text, matched.usage.prompt_tokens) == ("Tokyo is the capital", 3)
    assert (echoed.text, echoed.usage.prompt_tokens) == ("<s> raw completion text", 4)


def test_a_tool_result_is_answered_like_a_user_turn(server: ServerProcess) -> None:
    call = types_pb2.ToolCall(id="call_0", name="get_weather", arguments_json='{"city": "Tokyo"}')
    history = [
        types_pb2.ChatMessage(role="user", content="weather in Tokyo?"),
        types_pb2.ChatMessage(role="assistant", tool_calls=[call]),
        types_pb2.ChatMessage(role="tool", tool_call_id="call_0", content="sunny, 21 C"),
    ]
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(inference_pb2.GenerateRequest(messages=history))
    assert (response.text, list(response.tool_calls)) == ("sunny, 21 C", [])


def test_count_tokens_counts_words_as_usage_does(server: ServerProcess) -> None:
    messages = [
        types_pb2.ChatMessage(role="system", content="Answer briefly."),
        types_pb2.ChatMessage(role="user", content="What is the capital of Japan?"),
    ]
    with inference_stub(server.address) as stub:
        counted = stub.CountTokens(inference_pb2.CountTokensRequest(messages=messages))
        raw = stub.CountTokens(inference_pb2.CountTokensRequest(prompt="one two  three\nfour"))
        answered = stub.GenerateOne(inference_pb2.GenerateRequest(messages=messages))
    assert (counted.prompt_tokens, counted.max_model_len) == (8, 4096)
    assert counted.prompt_tokens == answered.usage.prompt_tokens
    assert (raw.prompt_tokens, raw.max_model_len) == (4, 4096)


def test_stream_of_200_requests_is_matched_by_request_id(server: ServerProcess) -> None:
    slow_ids = {f"slow-{i}" for i in range(5)}
    requests = [user_request(rid, f"slow {rid}") for rid in sorted(slow_ids)]
    requests += [user_request(f"r{i}", f"item {i}") for i in range(195)]
    with inference_stub(server.address) as stub:
        results = list(stub.Generate(iter(requests), timeout=30))
    assert len(results) == 200
    by_id = {result.request_id: result for result in results}
    assert set(by_id) == {request.request_id for request in requests}
    for i in range(195):
        assert by_id[f"r{i}"].response.text == f"item {i}"
        assert by_id[f"r{i}"].error_code == 0
    # Completion order, not request order: the slow requests were sent first and answered last.
    assert {result.request_id for result in results[-5:]} == slow_ids


def test_a_failed_request_leaves_the_stream_open(server: ServerProcess) -> None:
    bad_role = inference_pb2.GenerateRequest(
        request_id="bad", messages=[types_pb2.ChatMessage(role="bot", content="hi")]
    )
    requests = [
        user_request("ok-1", "first"),
        bad_role,
        user_request("refused", "please refuse"),
        user_request("", "no id"),
        user_request("ok-2", "second"),
    ]
    with inference_stub(server.address) as stub:
        results = {result.request_id: result for result in stub.Generate(iter(requests), timeout=30)}
    assert results["ok-1"].response.text == "first"
    assert results["ok-2"].response.text == "second"
    assert results["bad"].error_code == code_value(grpc.StatusCode.INVALID_ARGUMENT)
    assert results["bad"].error_message.startswith("messages[0].role: must be one of")
    assert results["refused"].error_code == code_value(grpc.StatusCode.FAILED_PRECONDITION)
    assert results["refused"].error_message == "scripted refusal"
    assert results[""].error_code == code_value(grpc.StatusCode.INVALID_ARGUMENT)
    assert results[""].error_message.startswith("request_id: must not be empty")


def test_a_request_id_already_in_flight_is_rejected(server: ServerProcess) -> None:
    requests = [user_request("same", "slow one"), user_request("same", "again")]
    with inference_stub(server.address) as stub:
        results = list(stub.Generate(iter(requests), timeout=30))
    assert [r.error_code for r in results] == [code_value(grpc.StatusCode.INVALID_ARGUMENT), 0]
    assert results[0].error_message == 'request_id: "same" is already in flight on this stream'
    assert results[1].response.text == "slow answer"


def test_several_clients_at_once(server: ServerProcess) -> None:
    failures: list[str] = []

    def client(number: int) -> None:
        with inference_stub(server.address) as stub:
            requests = [user_request(f"c{number}-{i}", f"client {number} item {i}") for i in range(50)]
            for result in stub.Generate(iter(requests), timeout=30):
                expected = "client {} item {}".format(*result.request_id[1:].split("-"))
                if result.response.text != expected:
                    failures.append(f"{result.request_id}: {result.response.text!r}")
            for i in range(5):
                if stub.GenerateOne(user_request("", f"unary {number} {i}")).text != f"unary {number} {i}":
                    failures.append(f"unary {number} {i}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_model_info_and_health(server: ServerProcess) -> None:
    with inference_stub(server.address) as stub:
        info = stub.ModelInfo(inference_pb2.ModelInfoRequest())
        health = stub.Health(inference_pb2.HealthRequest())
    assert (info.model, info.backend) == ("scripted-model", "scripted")
    assert health.state == inference_pb2.HealthResponse.SERVING
    assert health.in_flight == 0


def test_request_log_has_one_line_per_request(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    with (
        running_server(scripted_args(tmp_path, {"default": "ok", "request_log": str(log)})) as server,
        inference_stub(server.address) as stub,
    ):
        stub.GenerateOne(user_request("one", "same text"))
        list(stub.Generate(iter([user_request("two", "same text"), user_request("three", "other text")])))
    records = {record["request_id"]: record for record in read_log(log)}
    assert set(records) == {"one", "two", "three"}
    assert {record["status"] for record in records.values()} == {"completed"}
    assert records["one"]["sha256"] == records["two"]["sha256"] != records["three"]["sha256"]
    assert all(record["ended_at"] >= record["received_at"] for record in records.values())


def test_request_log_records_tool_choice_and_json_schema(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    script = {"rules": [{"match": "weather", "reply": '{"city": "Osaka"}'}], "request_log": str(log)}
    request = user_request("w", "weather in Osaka as JSON")
    request.tools.add(name="get_weather")
    request.params.tool_choice.CopyFrom(types_pb2.ToolChoice(mode=types_pb2.ToolChoice.NAMED, name="get_weather"))
    request.params.json_schema.name = "city"
    request.params.json_schema.schema.update({"type": "object", "required": ["city"]})
    request.params.json_schema.strict = True
    with running_server(scripted_args(tmp_path, script)) as server, inference_stub(server.address) as stub:
        response = stub.GenerateOne(request)
    assert response.text == '{"city": "Osaka"}'
    [record] = read_log(log)
    assert record["tool_choice"] == {"mode": "NAMED", "name": "get_weather"}
    assert record["json_schema"] == {"name": "city", "schema": {"type": "object", "required": ["city"]}, "strict": True}


def test_fail_first_answers_unavailable_then_serves(tmp_path: Path) -> None:
    with (
        running_server(scripted_args(tmp_path, {"default": "fine", "fail_first": 2})) as server,
        inference_stub(server.address) as stub,
    ):
        codes = []
        for i in range(2):
            with pytest.raises(grpc.RpcError) as failure:
                stub.GenerateOne(user_request(str(i), "x"))
            codes.append(failure.value.code())
        assert codes == [grpc.StatusCode.UNAVAILABLE] * 2
        assert "scripted failure" in failure.value.details()
        assert stub.GenerateOne(user_request("2", "x")).text == "fine"


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
