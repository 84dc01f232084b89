"""Request identity: the pinned key of a fixed request, and what does and does not change it."""

from nejumi.model_spec import ModelSpec
from nejumi.request_key import ModelIdentity, identity_differences, request_key, sample_key
from nejumi_proto.v1 import inference_pb2, transcript_pb2, types_pb2

MODEL = ModelIdentity(
    api="vllm",
    model="Qwen/Qwen3-8B",
    serving={"dtype": "bfloat16", "max_model_len": 32768, "reasoning_parser": "qwen3"},
    info={"model": "Qwen/Qwen3-8B", "backend": "vllm", "max_model_len": 32768, "details": {}},
)
SAMPLE = types_pb2.Sample(benchmark="jaster", task="jnli", id="7", shots=2, subset="test", attempt=0)
REQUEST = inference_pb2.GenerateRequest(
    messages=[types_pb2.ChatMessage(role="user", content="前提：猫がいる。")],
    params=types_pb2.GenerationParams(temperature=0.1, top_p=1.0, max_tokens=3),
)
FIRST = transcript_pb2.CallPosition(role="model")


def test_the_key_of_a_fixed_request_is_pinned() -> None:
    # Changing this value means every stored answer of every user's run directory is
    # orphaned: bump KEY_VERSION on purpose, and say so in the release notes.
    assert (
        request_key(MODEL, SAMPLE, FIRST, REQUEST) == "5c98825054460df3f88dd18049e8384b6a5765ad7819ffcda3a2cd5dca51d3ca"
    )
    assert sample_key(SAMPLE) == "bb4d5fb8b916e652f3e827da0d3afcfc4e4756c6fba34b26c428d0cdde606ffa"


def test_the_request_id_and_sample_labels_do_not_change_the_key() -> None:
    labelled = types_pb2.Sample()
    labelled.CopyFrom(SAMPLE)
    labelled.metadata["metric"] = "exact_match"
    labelled.payload.update({"reference": "x"})
    with_id = inference_pb2.GenerateRequest()
    with_id.CopyFrom(REQUEST)
    with_id.request_id = "abc"
    assert request_key(MODEL, labelled, FIRST, with_id) == request_key(MODEL, SAMPLE, FIRST, REQUEST)


def test_every_part_of_the_identity_changes_the_key() -> None:
    base = request_key(MODEL, SAMPLE, FIRST, REQUEST)
    served_otherwise = ModelIdentity(MODEL.api, MODEL.model, {**MODEL.serving, "dtype": "float16"}, info=MODEL.info)
    remote = ModelIdentity(MODEL.api, MODEL.model, MODEL.serving, endpoint="http://gpu:8000/v1", info=MODEL.info)
    other_sample = types_pb2.Sample()
    other_sample.CopyFrom(SAMPLE)
    other_sample.attempt = 1
    longer = inference_pb2.GenerateRequest()
    longer.CopyFrom(REQUEST)
    longer.params.max_tokens = 4
    keys = {
        base,
        request_key(served_otherwise, SAMPLE, FIRST, REQUEST),
        request_key(remote, SAMPLE, FIRST, REQUEST),
        request_key(MODEL, other_sample, FIRST, REQUEST),
        request_key(MODEL, SAMPLE, transcript_pb2.CallPosition(role="model", turn=1), REQUEST),
        request_key(MODEL, SAMPLE, transcript_pb2.CallPosition(role="model", step=1), REQUEST),
        request_key(MODEL, SAMPLE, transcript_pb2.CallPosition(role="model", attempt=1), REQUEST),
        request_key(MODEL, SAMPLE, transcript_pb2.CallPosition(role="judge"), REQUEST),
        request_key(MODEL, SAMPLE, FIRST, longer),
        request_key(MODEL, SAMPLE, FIRST, inference_pb2.GenerateRequest(prompt="前提：猫がいる。")),
    }
    assert len(keys) == 10


def test_identity_differences_name_each_changed_setting() -> None:
    changed = ModelIdentity(MODEL.api, MODEL.model, {**MODEL.serving, "max_model_len": 8192}, info=MODEL.info)
    assert identity_differences(MODEL.as_json(), changed.as_json()) == ["serving.max_model_len: 32768 -> 8192"]


def test_capacity_settings_are_not_part_of_the_identity(tmp_path: object) -> None:
    small = ModelSpec(api="vllm", name="m", backend_config={"dtype": "bfloat16", "gpu_memory_utilization": 0.5})
    large = ModelSpec(api="vllm", name="m", backend_config={"dtype": "bfloat16", "gpu_memory_utilization": 0.9})
    assert small.identity() == large.identity()


def test_a_chat_template_file_counts_by_its_text(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    one, two = folder / "a.jinja", folder / "b.jinja"
    one.write_text("{{ messages }}", encoding="utf-8")
    two.write_text("{{ messages }}", encoding="utf-8")
    first = ModelSpec(api="vllm", name="m", backend_config={"chat_template": str(one)}).identity()
    second = ModelSpec(api="vllm", name="m", backend_config={"chat_template": str(two)}).identity()
    assert first == second
    two.write_text("{{ messages[-1] }}", encoding="utf-8")
    assert ModelSpec(api="vllm", name="m", backend_config={"chat_template": str(two)}).identity() != first
