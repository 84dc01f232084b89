"""The vLLM backend's pure parts, with fakes instead of vLLM (which CPU machines never import)."""

import asyncio
import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pytest

from nejumi_inference.backends import create_backend
from nejumi_inference.backends.options import OptionsError
from nejumi_inference.backends.vllm_options import engine_argv, load_chat_template, parse_vllm_options
from nejumi_inference.backends.vllm_prompt import (
    ParsedOutput,
    forced_tool_calls,
    output_schema,
    parse_output,
    render_prompt,
    response_from_output,
    sampling_kwargs,
    split_extras,
    template_messages,
)
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import inference_pb2, types_pb2

SAMPLING_FIELDS = {"temperature", "top_p", "top_k", "max_tokens", "stop", "seed", "repetition_penalty", "min_p"}


def test_model_config_section_becomes_vllm_serve_flags() -> None:
    options = parse_vllm_options(
        {
            "dtype": "bfloat16",
            "max_model_len": 8192,
            "gpu_memory_utilization": 0.85,
            "num_gpus": 2,
            "trust_remote_code": True,
            "chat_template": "templates/qwen.jinja",
            "reasoning_parser": "qwen3",
            "tool_call_parser": "hermes",
            "enable_auto_tool_choice": True,
            "extra_args": ["--enable-prefix-caching", "--max-num-seqs=256"],
            "lifecycle": "auto",  # upstream launcher keys are accepted and ignored
            "device_map": "auto",
            "some_future_key": 1,  # unknown keys are logged, not fatal: model configs carry many
        }
    )
    assert engine_argv("Qwen/Qwen3-8B", options) == [
        "--model", "Qwen/Qwen3-8B",
        "--dtype", "bfloat16",
        "--max-model-len", "8192",
        "--gpu-memory-utilization", "0.85",
        "--tensor-parallel-size", "2",
        "--reasoning-parser", "qwen3",
        "--tool-call-parser", "hermes",
        "--chat-template", "templates/qwen.jinja",
        "--trust-remote-code",
        "--enable-auto-tool-choice",
        "--enable-prefix-caching",
        "--max-num-seqs=256",
    ]  # fmt: skip


def test_extra_args_string_is_split_like_upstream_and_nulls_are_skipped() -> None:
    options = parse_vllm_options({"dtype": None, "extra_args": "--seed 42  --enforce-eager"})
    assert engine_argv("m", options) == ["--model", "m", "--seed", "42", "--enforce-eager"]


def test_wrong_option_type_is_reported() -> None:
    with pytest.raises(OptionsError, match="option 'max_model_len' of the vllm backend must be int"):
        parse_vllm_options({"max_model_len": "long"})


def test_chat_template_from_a_file_or_text(tmp_path: Path) -> None:
    template = "{% for m in messages %}{{ m.content }}{% endfor %}"
    path = tmp_path / "t.jinja"
    path.write_text(template)
    assert load_chat_template(str(path)) == template
    assert load_chat_template(template) == template
    assert load_chat_template(None) is None
    with pytest.raises(OptionsError, match="neither a readable file nor a Jinja template"):
        load_chat_template("llama3-ja")


class FakeTokenizer:
    def __init__(self) -> None:
        self.calls: list[tuple[list[dict[str, Any]], dict[str, Any]]] = []

    def apply_chat_template(self, conversation: list[dict[str, Any]], **kwargs: Any) -> str:
        self.calls.append((conversation, kwargs))
        return "<s>" + "|".join(f"{m['role']}:{m['content']}" for m in conversation) + "|assistant:"

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        assert add_special_tokens is False  # the template already holds the special tokens
        return [ord(c) for c in text]


def _request() -> inference_pb2.GenerateRequest:
    return inference_pb2.GenerateRequest(
        messages=[
            types_pb2.ChatMessage(role="user", content="hi"),
            types_pb2.ChatMessage(
                role="assistant", tool_calls=[types_pb2.ToolCall(id="c1", name="f", arguments_json='{"x": 1}')]
            ),
            types_pb2.ChatMessage(role="tool", tool_call_id="c1", content="2"),
        ],
        tools=[types_pb2.Tool(name="f", parameters_json='{"type": "object"}')],
    )


def test_prompt_rendering_with_template_tools_and_kwargs() -> None:
    tokenizer = FakeTokenizer()
    ids = render_prompt(tokenizer, _request(), "TEMPLATE", {"enable_thinking": False}, include_tools=True)
    conversation, kwargs = tokenizer.calls[0]
    assert ids == [ord(c) for c in "<s>user:hi|assistant:None|tool:2|assistant:"]
    assert conversation[1]["tool_calls"][0]["function"] == {"name": "f", "arguments": {"x": 1}}
    assert conversation[2]["tool_call_id"] == "c1"
    assert kwargs == {
        "enable_thinking": False,
        "tokenize": False,
        "add_generation_prompt": True,
        "chat_template": "TEMPLATE",
        "tools": [{"type": "function", "function": {"name": "f", "description": "", "parameters": {"type": "object"}}}],
    }
    render_prompt(tokenizer, _request(), None, {}, include_tools=False)
    assert "tools" not in tokenizer.calls[1][1] and "chat_template" not in tokenizer.calls[1][1]


def test_malformed_tool_arguments_are_replayed_as_written() -> None:
    message = types_pb2.ChatMessage(role="assistant", tool_calls=[types_pb2.ToolCall(name="f", arguments_json="{bad")])
    assert template_messages([message])[0]["tool_calls"][0]["function"]["arguments"] == "{bad"


def test_template_errors_are_invalid_argument() -> None:
    class Refusing(FakeTokenizer):
        def apply_chat_template(self, conversation: list[dict[str, Any]], **kwargs: Any) -> str:
            raise ValueError("Conversation roles must alternate user/assistant")

    with pytest.raises(BackendError) as failure:
        render_prompt(Refusing(), _request(), None, {}, include_tools=True)
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "roles must alternate" in failure.value.message


def test_extras_split_into_template_kwargs_tool_choice_and_sampling() -> None:
    extras = split_extras(
        {"chat_template_kwargs": {"enable_thinking": True}, "tool_choice": "none", "top_k": 20},
        {"enable_thinking": False, "other": 1},
    )
    assert extras.template_kwargs == {"enable_thinking": True, "other": 1}
    assert (extras.tool_choice, extras.sampling) == ("none", {"top_k": 20})


def test_sampling_kwargs_layer_defaults_extras_and_request() -> None:
    params = types_pb2.GenerationParams(temperature=0.1, stop=["\n"], seed=5)
    kwargs = sampling_kwargs(
        params,
        {"top_k": 20, "temperature": 0.9},
        {"temperature": 0.6, "top_p": 0.95, "repetition_penalty": 1.05, "not_a_field": 1},
        SAMPLING_FIELDS,
        prompt_tokens=100,
        max_model_len=4096,
    )
    assert kwargs == {
        "temperature": 0.1,
        "top_p": 0.95,
        "repetition_penalty": 1.05,
        "top_k": 20,
        "stop": ["\n"],
        "seed": 5,
        "max_tokens": 3996,  # no max_tokens: the rest of the context
    }


def test_context_overflow_uses_the_openai_wording() -> None:
    params = types_pb2.GenerationParams(max_tokens=500)
    with pytest.raises(BackendError) as failure:
        sampling_kwargs(params, {}, {}, SAMPLING_FIELDS, prompt_tokens=3800, max_model_len=4096)
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.message.startswith(
        "This model's maximum context length is 4096 tokens. However, you requested 4300 tokens "
        "(3800 in the messages, 500 in the completion)."
    )
    with pytest.raises(BackendError, match="your messages resulted in 5000 tokens"):
        sampling_kwargs(types_pb2.GenerationParams(), {}, {}, SAMPLING_FIELDS, 5000, 4096)


def test_generation_config_max_tokens_is_capped_by_the_context() -> None:
    kwargs = sampling_kwargs(types_pb2.GenerationParams(), {}, {"max_tokens": 9999}, SAMPLING_FIELDS, 96, 100)
    assert kwargs["max_tokens"] == 4


def test_unknown_sampling_extras_are_invalid_argument() -> None:
    with pytest.raises(BackendError, match=r"params\.extra_json: reasoning_effort not sampling options of vLLM"):
        sampling_kwargs(types_pb2.GenerationParams(), {"reasoning_effort": "low"}, {}, SAMPLING_FIELDS, 1, 100)


def test_reasoning_then_tool_calls_are_split_out() -> None:
    class Reasoning:
        def extract_reasoning(self, model_output: str, request: Any) -> tuple[str | None, str | None]:
            reasoning, _, content = model_output.partition("</think>")
            return reasoning.removeprefix("<think>"), content

    class OldReasoning:  # releases before the rename
        def extract_reasoning_content(self, model_output: str, request: Any) -> tuple[str | None, str | None]:
            return None, model_output

    class Tools:
        def extract_tool_calls(self, model_output: str, request: Any) -> Any:
            call = SimpleNamespace(id="call_0", function=SimpleNamespace(name="f", arguments='{"x": 1}'))
            return SimpleNamespace(tools_called="<tool_call>" in model_output, tool_calls=[call], content="")

    parsed = parse_output("<think>plan</think><tool_call>f</tool_call>", Reasoning(), Tools(), chat_request=None)
    assert (parsed.reasoning_text, parsed.text, parsed.tool_calls) == ("plan", "", (("call_0", "f", '{"x": 1}'),))
    plain = parse_output("just text", OldReasoning(), Tools(), chat_request=None)
    assert (plain.reasoning_text, plain.text, plain.tool_calls) == ("", "just text", ())

    response = response_from_output(parsed, "stop", prompt_tokens=10, completion_tokens=5, model="m")
    assert response.finish_reason == "tool_calls"
    assert (response.usage.total_tokens, response.tool_calls[0].name, response.model) == (15, "f", "m")


def test_required_tool_choice_lifts_the_tools_defs() -> None:
    address = {"type": "object", "properties": {"city": {"type": "string"}}}
    tools = [
        types_pb2.Tool(name="ship", parameters_json=json.dumps({"$defs": {"address": address}, "type": "object"})),
        types_pb2.Tool(name="bill", parameters_json=json.dumps({"$defs": {"address": address}, "type": "object"})),
    ]
    params = types_pb2.GenerationParams(tool_choice=types_pb2.ToolChoice(mode=types_pb2.ToolChoice.REQUIRED))
    schema = output_schema(params, tools)
    assert schema is not None and schema["$defs"] == {"address": address}
    tools[1].parameters_json = json.dumps({"$defs": {"address": {"type": "string"}}})
    with pytest.raises(BackendError, match="the \\$defs entry 'address' of bill conflicts"):
        output_schema(params, tools)
    assert output_schema(types_pb2.GenerationParams(), tools) is None


def test_a_cut_off_required_answer_stays_text() -> None:
    required = types_pb2.ToolChoice(mode=types_pb2.ToolChoice.REQUIRED)
    for text in ('[{"name": "f", "parameters": {"x"', "[]", '{"name": "f"}', '[{"name": "f"}]'):
        assert forced_tool_calls(ParsedOutput(text, "r"), required) == ParsedOutput(text, "r")
    [(_, name, arguments)] = forced_tool_calls(
        ParsedOutput('[{"name": "f", "parameters": {"q": "東京"}}]'), required
    ).tool_calls
    assert (name, arguments) == ("f", '{"q": "東京"}')


def test_choosing_vllm_does_not_import_it() -> None:
    backend = create_backend("vllm", "org/model", {"max_model_len": 2048})
    assert "vllm" not in sys.modules
    info = backend.info()
    assert (info.backend, info.model, info.max_model_len) == ("vllm", "org/model", 2048)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_missing_vllm_says_how_to_install_it() -> None:
    backend = create_backend("vllm", "org/model", {})
    with pytest.raises(RuntimeError, match=r"pip install vllm==0\.11\.0"):
        asyncio.run(backend.start())


def test_json_roundtrip_of_tool_arguments_in_messages() -> None:
    message = types_pb2.ChatMessage(role="assistant", tool_calls=[types_pb2.ToolCall(name="g", arguments_json="")])
    assert json.dumps(template_messages([message])[0]["tool_calls"][0]["function"]["arguments"]) == "{}"


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
