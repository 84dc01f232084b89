"""The vllm backend end to end through the gRPC server, against a stand-in ``vllm`` package written here.

The stand-in mimics the slice of vLLM's API the backend uses (as read in vLLM's source), so this checks the
backend's own wiring — flags, prompt, sampling, parsers, aborts — not vLLM itself.
"""

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from harness import inference_stub, running_server, user_request, wait_for

from nejumi_inference.launcher import ServerProcess
from nejumi_proto.v1 import inference_pb2, types_pb2

GenerationParams = types_pb2.GenerationParams
ToolChoice = types_pb2.ToolChoice

FAKE_VLLM = {
    "vllm/__init__.py": "",
    "vllm/engine/__init__.py": "",
    "vllm/engine/arg_utils.py": """
        import dataclasses

        class AsyncEngineArgs:
            @classmethod
            def from_cli_args(cls, args):
                engine_args = cls()
                engine_args.values = {k: v for k, v in vars(args).items() if k not in cls.FRONTEND}
                return engine_args

            FRONTEND = {"chat_template", "tool_call_parser", "enable_auto_tool_choice", "default_chat_template_kwargs"}
    """,
    "vllm/sampling_params.py": """
        class StructuredOutputsParams(dict):  # a dataclass in vLLM; a dict here, so the record can hold it
            def __init__(self, json=None, regex=None, choice=None, grammar=None):
                constraints = {"json": json, "regex": regex, "choice": choice, "grammar": grammar}
                super().__init__({k: v for k, v in constraints.items() if v is not None})
                if len(self) != 1:
                    raise ValueError("You must use one kind of structured outputs constraint")

        class SamplingParams:
            FIELDS = ("temperature", "top_p", "top_k", "max_tokens", "stop", "seed", "repetition_penalty",
                      "structured_outputs")

            def __init__(self, **kwargs):
                for key in kwargs:
                    if key not in self.FIELDS:
                        raise TypeError(f"unexpected keyword argument {key!r}")
                self.kwargs = kwargs

        SamplingParams.__struct_fields__ = SamplingParams.FIELDS
    """,
    "vllm/utils/__init__.py": "",
    "vllm/utils/argparse_utils.py": "from argparse import ArgumentParser as FlexibleArgumentParser\n",
    "vllm/entrypoints/__init__.py": "",
    "vllm/entrypoints/openai/__init__.py": "",
    "vllm/entrypoints/openai/cli_args.py": """
        import json

        def make_arg_parser(parser):
            for flag in ("--model", "--dtype", "--reasoning-parser", "--tool-call-parser", "--chat-template",
                         "--served-model-name"):
                parser.add_argument(flag)
            parser.add_argument("--max-model-len", type=int)
            parser.add_argument("--gpu-memory-utilization", type=float)
            parser.add_argument("--tensor-parallel-size", type=int, default=1)
            parser.add_argument("--default-chat-template-kwargs", type=json.loads)
            for flag in ("--trust-remote-code", "--enable-auto-tool-choice", "--enable-prefix-caching"):
                parser.add_argument(flag, action="store_true")
            return parser

        def validate_parsed_serve_args(args):
            if args.enable_auto_tool_choice and not args.tool_call_parser:
                raise TypeError("Error: --enable-auto-tool-choice requires --tool-call-parser")
    """,
    "vllm/entrypoints/openai/chat_completion/__init__.py": "",
    "vllm/entrypoints/openai/chat_completion/protocol.py": """
        class ChatCompletionRequest:
            def __init__(self, model, messages, tools=None, chat_template_kwargs=None):
                self.model, self.messages, self.tools = model, messages, tools
                self.chat_template_kwargs = chat_template_kwargs
    """,
    "vllm/reasoning/__init__.py": """
        class ThinkParser:
            def __init__(self, tokenizer, *args, **kwargs):
                self.enabled = (kwargs.get("chat_template_kwargs") or {}).get("enable_thinking", True)

            def extract_reasoning(self, model_output, request):
                assert request.chat_template_kwargs is not None
                if not self.enabled or "</think>" not in model_output:
                    return None, model_output
                reasoning, _, content = model_output.partition("</think>")
                return reasoning.removeprefix("<think>"), content

        class ReasoningParserManager:
            @classmethod
            def get_reasoning_parser(cls, name):
                if name != "fake_think":
                    raise KeyError(f"Reasoning parser '{name}' not found.")
                return ThinkParser
    """,
    "vllm/tool_parsers/__init__.py": """
        import json
        from types import SimpleNamespace

        class JsonToolParser:
            def __init__(self, tokenizer):
                pass

            def extract_tool_calls(self, model_output, request):
                assert request.tools, "the request's tools reach the parser"
                if "<tool_call>" not in model_output:
                    return SimpleNamespace(tools_called=False, tool_calls=[], content=model_output)
                call = json.loads(model_output.split("<tool_call>")[1].split("</tool_call>")[0])
                function = SimpleNamespace(name=call["name"], arguments=json.dumps(call["arguments"]))
                return SimpleNamespace(tools_called=True, tool_calls=[SimpleNamespace(id="call_0", function=function)],
                                       content=None)

        class ToolParserManager:
            @classmethod
            def get_tool_parser(cls, name):
                return JsonToolParser
    """,
    "vllm/v1/__init__.py": "",
    "vllm/v1/engine/__init__.py": "",
    "vllm/v1/engine/async_llm.py": """
        import asyncio, json, os
        from types import SimpleNamespace

        RECORD = os.environ["FAKE_VLLM_RECORD"]

        def record(**entry):
            with open(RECORD, "a") as f:
                f.write(json.dumps(entry) + "\\n")

        class Tokenizer:
            def apply_chat_template(self, conversation, tokenize, add_generation_prompt, **kwargs):
                assert tokenize is False and add_generation_prompt is True
                record(event="template", kwargs=sorted(kwargs), chat_template=kwargs.get("chat_template"))
                return "".join(f"<|{m['role']}|>{m['content']}" for m in conversation) + "<|assistant|>"

            def encode(self, text, add_special_tokens=True):
                return list((("<s>" if add_special_tokens else "") + text).encode())

            def decode(self, ids):
                return bytes(ids).decode()

        class AsyncLLM:
            @classmethod
            def from_engine_args(cls, engine_args):
                record(event="engine", args=engine_args.values)
                engine = cls()
                engine.model_config = SimpleNamespace(
                    max_model_len=engine_args.values["max_model_len"] or 4096,
                    get_diff_sampling_param=lambda: {"temperature": 0.6, "top_k": 20},
                )
                engine.vllm_config = SimpleNamespace(scheduler_config=SimpleNamespace(max_num_seqs=256))
                engine.errored = False
                return engine

            async def get_tokenizer(self):  # a coroutine in vLLM 0.11, plain in later releases
                return Tokenizer()

            async def generate(self, prompt, sampling_params, request_id):
                text = bytes(prompt["prompt_token_ids"]).decode()
                record(event="generate", request_id=request_id, sampling=sampling_params.kwargs)
                if "slow" in text:
                    try:
                        await asyncio.sleep(30)
                    except asyncio.CancelledError:
                        record(event="abort", request_id=request_id)
                        raise
                if "crash" in text:
                    self.errored = True
                    raise RuntimeError("CUDA error: an illegal memory access was encountered")
                schema = (sampling_params.kwargs.get("structured_outputs") or {}).get("json")
                if schema is not None and schema["type"] == "array":
                    answer = json.dumps([{"name": "get_weather", "parameters": {"city": "Tokyo"}}])
                elif schema is not None:
                    answer = json.dumps({key: "Tokyo" for key in schema["properties"]})
                elif "weather" in text:
                    call = {"name": "get_weather", "arguments": {"city": "Tokyo"}}
                    answer = "<think>need a tool</think><tool_call>" + json.dumps(call) + "</tool_call>"
                else:
                    answer = "<think>easy</think>Paris"
                output = SimpleNamespace(text=answer, token_ids=list(range(7)), finish_reason="stop")
                yield SimpleNamespace(outputs=[output], finished=True)

            def shutdown(self):
                record(event="shutdown")
    """,
}


def _write_fake_vllm(root: Path) -> None:
    for name, source in FAKE_VLLM.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))


def _records(path: Path, event: str) -> list[dict]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [entry for entry in map(json.loads, lines) if entry["event"] == event]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    import os
    import sys

    workdir = tmp_path_factory.mktemp("vllm")
    _write_fake_vllm(workdir / "fake")
    record = workdir / "record.jsonl"
    template = workdir / "chat.jinja"
    template.write_text("{% for m in messages %}{{ m.content }}{% endfor %}")
    config = {
        "dtype": "bfloat16",
        "max_model_len": 2048,
        "num_gpus": 2,
        "chat_template": str(template),
        "reasoning_parser": "fake_think",
        "tool_call_parser": "fake_json",
        "enable_auto_tool_choice": True,
        "extra_args": ["--enable-prefix-caching"],
        "lifecycle": "always_on",
    }
    env = dict(os.environ, FAKE_VLLM_RECORD=str(record))
    env["PYTHONPATH"] = os.pathsep.join([str(workdir / "fake"), *(p for p in sys.path if p)])
    args = ["--backend", "vllm", "--model", "org/model", "--backend-config", json.dumps(config)]
    with running_server(args, env=env) as server:
        yield server, record
    assert _records(record, "shutdown"), "the engine is shut down with the server"


def test_flags_reach_the_engine(served: tuple[ServerProcess, Path]) -> None:
    server, record = served
    [engine] = _records(record, "engine")
    assert engine["args"] == {
        "model": "org/model",
        "dtype": "bfloat16",
        "max_model_len": 2048,
        "gpu_memory_utilization": None,
        "tensor_parallel_size": 2,
        "reasoning_parser": "fake_think",
        "served_model_name": None,
        "trust_remote_code": False,
        "enable_prefix_caching": True,
    }
    with inference_stub(server.address) as stub:
        info = stub.ModelInfo(inference_pb2.ModelInfoRequest())
    assert (info.backend, info.model, info.max_model_len, info.max_concurrency) == ("vllm", "org/model", 2048, 256)


def test_answer_with_reasoning_split_and_sampling_layers(served: tuple[ServerProcess, Path]) -> None:
    server, record = served
    request = user_request("q", "Capital of France?", temperature=0.1, max_tokens=32)
    request.params.extra_json = json.dumps(
        {"repetition_penalty": 1.1, "chat_template_kwargs": {"enable_thinking": True}}
    )
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(request)
    assert (response.text, response.reasoning_text, response.finish_reason) == ("Paris", "easy", "stop")
    assert response.usage.completion_tokens == 7
    assert response.usage.prompt_tokens == len("<|user|>Capital of France?<|assistant|>")
    assert _records(record, "generate")[-1]["sampling"] == {
        "temperature": 0.1,
        "top_k": 20,
        "repetition_penalty": 1.1,
        "max_tokens": 32,
    }
    template_call = _records(record, "template")[-1]
    assert template_call["chat_template"].startswith("{% for m in messages %}")
    assert template_call["kwargs"] == ["chat_template", "enable_thinking"]


def test_tool_calls_are_parsed(served: tuple[ServerProcess, Path]) -> None:
    server, _ = served
    request = user_request("t", "weather in Tokyo?")
    request.tools.add(name="get_weather", parameters_json='{"type": "object"}')
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(request)
    assert response.finish_reason == "tool_calls"
    assert response.reasoning_text == "need a tool"
    assert [(c.name, c.arguments_json) for c in response.tool_calls] == [("get_weather", '{"city": "Tokyo"}')]


def test_bad_sampling_option_and_context_overflow(served: tuple[ServerProcess, Path]) -> None:
    server, _ = served
    unknown = user_request("u", "hi")
    unknown.params.extra_json = '{"mirostat": 2}'
    with inference_stub(server.address) as stub:
        results = {r.request_id: r for r in stub.Generate(iter([unknown, user_request("o", "x", max_tokens=4000)]))}
    assert results["u"].error_code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "mirostat not sampling options of vLLM" in results["u"].error_message
    assert "maximum context length is 2048 tokens. However, you requested" in results["o"].error_message


WEATHER_PARAMETERS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _weather_request(choice: types_pb2.ToolChoice | None = None) -> inference_pb2.GenerateRequest:
    request = user_request("w", "weather in Tokyo?", max_tokens=32)
    request.tools.add(name="get_weather", parameters_json=json.dumps(WEATHER_PARAMETERS))
    request.tools.add(name="get_time")
    if choice is not None:
        request.params.tool_choice.CopyFrom(choice)
    return request


def test_raw_prompt_is_encoded_with_special_tokens_and_not_parsed(served: tuple[ServerProcess, Path]) -> None:
    server, record = served
    prompt = "<|user|>Capital of France?<|assistant|>"
    templates_before = len(_records(record, "template"))
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(inference_pb2.GenerateRequest(prompt=prompt, params=GenerationParams(max_tokens=8)))
    assert (response.text, response.reasoning_text) == ("<think>easy</think>Paris", "")
    assert response.usage.prompt_tokens == len("<s>" + prompt)
    assert len(_records(record, "template")) == templates_before, "a raw prompt is not templated"


def test_count_tokens_renders_as_generation_does(served: tuple[ServerProcess, Path]) -> None:
    server, record = served
    request = _weather_request()
    with inference_stub(server.address) as stub:
        counted = stub.CountTokens(inference_pb2.CountTokensRequest(messages=request.messages, tools=request.tools))
        assert _records(record, "template")[-1]["kwargs"] == ["chat_template", "tools"]
        answered = stub.GenerateOne(request)
        raw = stub.CountTokens(inference_pb2.CountTokensRequest(prompt="<|user|>hi"))
    assert counted.prompt_tokens == answered.usage.prompt_tokens == len("<|user|>weather in Tokyo?<|assistant|>")
    assert (raw.prompt_tokens, raw.max_model_len) == (len("<s><|user|>hi"), 2048)


def test_json_schema_becomes_structured_outputs(served: tuple[ServerProcess, Path]) -> None:
    server, record = served
    request = user_request("j", "Where is the capital?", max_tokens=32)
    request.params.json_schema.name = "place"
    request.params.json_schema.schema.update({"type": "object", "properties": {"capital": {"type": "string"}}})
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(request)
    assert response.text == '{"capital": "Tokyo"}'
    assert _records(record, "generate")[-1]["sampling"]["structured_outputs"] == {
        "json": {"type": "object", "properties": {"capital": {"type": "string"}}}
    }


def test_named_tool_choice_constrains_to_the_tools_parameters(served: tuple[ServerProcess, Path]) -> None:
    server, record = served
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(_weather_request(ToolChoice(mode=ToolChoice.NAMED, name="get_weather")))
    assert _records(record, "generate")[-1]["sampling"]["structured_outputs"] == {"json": WEATHER_PARAMETERS}
    assert (response.text, response.finish_reason) == ("", "tool_calls")
    assert [(c.name, c.arguments_json) for c in response.tool_calls] == [("get_weather", '{"city": "Tokyo"}')]
    assert response.tool_calls[0].id.startswith("chatcmpl-tool-")


def test_required_tool_choice_constrains_to_an_array_of_calls(served: tuple[ServerProcess, Path]) -> None:
    server, record = served
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(_weather_request(ToolChoice(mode=ToolChoice.REQUIRED)))
    schema = _records(record, "generate")[-1]["sampling"]["structured_outputs"]["json"]
    assert (schema["type"], schema["minItems"]) == ("array", 1)
    assert [variant["properties"]["name"]["enum"] for variant in schema["items"]["anyOf"]] == [
        ["get_weather"],
        ["get_time"],
    ]
    assert schema["items"]["anyOf"][1]["properties"]["parameters"] == {"type": "object", "properties": {}}
    assert [(c.name, c.arguments_json) for c in response.tool_calls] == [("get_weather", '{"city": "Tokyo"}')]


def test_tool_choice_none_leaves_tools_out(served: tuple[ServerProcess, Path]) -> None:
    server, record = served
    with inference_stub(server.address) as stub:
        response = stub.GenerateOne(_weather_request(ToolChoice(mode=ToolChoice.NONE)))
    assert _records(record, "template")[-1]["kwargs"] == ["chat_template"]
    assert not response.tool_calls
    assert response.text.startswith("<tool_call>"), "no tool parser runs"


def test_json_schema_with_a_forced_tool_is_invalid(served: tuple[ServerProcess, Path]) -> None:
    server, _ = served
    request = _weather_request(ToolChoice(mode=ToolChoice.REQUIRED))
    request.params.json_schema.name = "x"
    request.params.json_schema.schema.update({"type": "object"})
    with inference_stub(server.address) as stub, pytest.raises(grpc.RpcError) as failure:
        stub.GenerateOne(request)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.details().startswith("params.json_schema: cannot be combined with a NAMED or REQUIRED")


def test_cancelled_request_is_aborted_in_the_engine(served: tuple[ServerProcess, Path]) -> None:
    server, record = served
    with inference_stub(server.address) as stub:
        call = stub.GenerateOne.future(user_request("s", "slow please"))
        wait_for(lambda: stub.Health(inference_pb2.HealthRequest()).in_flight == 1, what="the request in flight")
        call.cancel()
        wait_for(lambda: _records(record, "abort"), timeout_s=5, what="the engine to see the abort")


def test_dead_engine_turns_health_down(served: tuple[ServerProcess, Path]) -> None:
    """Last in this module: the engine stays dead."""
    server, _ = served
    with inference_stub(server.address) as stub:
        with pytest.raises(grpc.RpcError) as failure:
            stub.GenerateOne(user_request("c", "crash now"))
        health = stub.Health(inference_pb2.HealthRequest())
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "the vLLM engine died (RuntimeError: CUDA error" in failure.value.details()
    assert health.state == inference_pb2.HealthResponse.DOWN


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
