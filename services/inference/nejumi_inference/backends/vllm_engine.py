"""GPU backend: vLLM's async engine in-process.

Pinned to vLLM 0.11.0 (``.venv/bin/pip install vllm==0.11.0``; see services/inference/README.md). It uses only
vLLM's stable surface, checked in vLLM's source for the 0.11 layout and for the current main branch: the
`vllm serve` argument parser (``make_arg_parser``) with ``AsyncEngineArgs.from_cli_args``,
``AsyncLLM.from_engine_args`` / ``generate`` / ``get_tokenizer``, ``SamplingParams`` with
``StructuredOutputsParams`` (structured outputs for json_schema and forced tool choices),
``ModelConfig.get_diff_sampling_param`` (the model's generation_config defaults, which `vllm serve` applies too)
and the reasoning and tool parser registries. Imports and names that moved between releases are tried in both
places. Nothing here is imported unless ``--backend vllm`` is chosen.
"""

import asyncio
import importlib
import inspect
import logging
import os
import uuid
from collections.abc import Mapping
from typing import Any

import grpc

from nejumi_inference.backends.options import OptionsError
from nejumi_inference.backends.vllm_options import VllmOptions, engine_argv, load_chat_template, parse_vllm_options
from nejumi_inference.backends.vllm_prompt import (
    FORCED_TOOL_MODES,
    ParsedOutput,
    RequestExtras,
    ToolChoice,
    encode_raw_prompt,
    forced_tool_calls,
    output_schema,
    parse_output,
    render_prompt,
    response_from_output,
    sampling_kwargs,
    split_extras,
    tool_choice_mode,
)
from nejumi_inference.chat_format import extra_fields, openai_messages, openai_tools
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import inference_pb2, types_pb2

log = logging.getLogger(__name__)

PINNED_VERSION = "0.11.0"
INSTALL_HINT = f"install it on a GPU machine with: .venv/bin/pip install vllm=={PINNED_VERSION}"


class VllmBackend:
    def __init__(self, model: str, options: VllmOptions) -> None:
        self._model = model
        self._options = options
        self._engine: Any = None
        self._tokenizer: Any = None
        self._chat_template: str | None = None
        self._default_template_kwargs: dict[str, Any] = {}
        self._reasoning_parser_cls: Any = None
        self._tool_parser_cls: Any = None
        self._sampling_params_cls: Any = None
        self._structured_outputs_cls: Any = None
        self._sampling_fields: frozenset[str] = frozenset()
        self._sampling_defaults: dict[str, Any] = {}
        self._served_name = options.served_model_name or model
        self._dead: str | None = None

    @classmethod
    def from_config(cls, model: str, config: Mapping[str, Any]) -> "VllmBackend":
        if not model:
            raise OptionsError("the vllm backend needs --model <Hugging Face id or local checkpoint directory>")
        options = parse_vllm_options(config)
        load_chat_template(options.chat_template)  # fail before loading the model
        return cls(model, options)

    async def start(self) -> None:
        os.environ.setdefault("VLLM_WORKER_MULTIPROC_METHOD", "spawn")  # never fork a process running gRPC
        try:
            from vllm.engine.arg_utils import AsyncEngineArgs
            from vllm.sampling_params import SamplingParams, StructuredOutputsParams
        except ImportError as error:
            raise RuntimeError(f"the vllm backend needs the vllm package ({error}); {INSTALL_HINT}") from error
        engine_cls = _import_first(("vllm.v1.engine.async_llm", "AsyncLLM"), ("vllm", "AsyncLLMEngine"))
        make_arg_parser = _import_first(("vllm.entrypoints.openai.cli_args", "make_arg_parser"))
        parser_cls = _import_first(
            ("vllm.utils.argparse_utils", "FlexibleArgumentParser"), ("vllm.utils", "FlexibleArgumentParser")
        )
        argv = engine_argv(self._model, self._options)
        log.info("vLLM flags: %s", " ".join(argv))
        try:
            args = make_arg_parser(parser_cls()).parse_args(argv)
        except SystemExit:
            raise RuntimeError(f"vLLM rejected the flags {argv} (see the message above)") from None
        validate = _import_first(("vllm.entrypoints.openai.cli_args", "validate_parsed_serve_args"))
        try:
            validate(args)
        except (TypeError, ValueError) as error:
            raise RuntimeError(f"vLLM rejected the flags {argv}: {error}") from None
        self._chat_template = load_chat_template(getattr(args, "chat_template", None))
        self._default_template_kwargs = dict(getattr(args, "default_chat_template_kwargs", None) or {})
        if getattr(args, "reasoning_parser", None):
            manager = _import_first(("vllm.reasoning", "ReasoningParserManager"))
            self._reasoning_parser_cls = manager.get_reasoning_parser(args.reasoning_parser)
        if getattr(args, "tool_call_parser", None):
            manager = _import_first(
                ("vllm.tool_parsers", "ToolParserManager"),
                ("vllm.entrypoints.openai.tool_parsers", "ToolParserManager"),
            )
            self._tool_parser_cls = manager.get_tool_parser(args.tool_call_parser)
        engine_args = AsyncEngineArgs.from_cli_args(args)
        # Loading takes minutes; a worker thread keeps Health answering STARTING meanwhile.
        self._engine = await asyncio.to_thread(engine_cls.from_engine_args, engine_args)
        tokenizer = self._engine.get_tokenizer()
        self._tokenizer = await tokenizer if inspect.isawaitable(tokenizer) else tokenizer
        self._sampling_params_cls = SamplingParams
        self._structured_outputs_cls = StructuredOutputsParams
        self._sampling_fields = frozenset(_sampling_param_names(SamplingParams))
        self._sampling_defaults = dict(self._engine.model_config.get_diff_sampling_param() or {})
        log.info("vLLM serves %s (max_model_len %d)", self._served_name, self._max_model_len())

    async def generate(self, request: inference_pb2.GenerateRequest, timeout_s: float | None) -> types_pb2.Response:
        extras = split_extras(extra_fields(request.params), self._default_template_kwargs)
        mode = tool_choice_mode(request.params, extras)
        tools_wanted = mode != ToolChoice.NONE
        if request.prompt:
            prompt_ids = encode_raw_prompt(self._tokenizer, request.prompt)
        else:
            prompt_ids = render_prompt(
                self._tokenizer, request, self._chat_template, extras.template_kwargs, tools_wanted
            )
        kwargs = sampling_kwargs(
            request.params,
            extras.sampling,
            self._sampling_defaults,
            self._sampling_fields,
            len(prompt_ids),
            self._max_model_len(),
        )
        schema = output_schema(request.params, request.tools)
        try:
            if schema is not None:
                kwargs["structured_outputs"] = self._structured_outputs_cls(json=schema)
            sampling = self._sampling_params_cls(**kwargs)
        except (TypeError, ValueError) as error:
            raise BackendError(
                grpc.StatusCode.INVALID_ARGUMENT, f"vLLM rejected the sampling settings: {error}"
            ) from None
        final = None
        try:
            async for output in self._engine.generate({"prompt_token_ids": prompt_ids}, sampling, uuid.uuid4().hex):
                final = output
        except ValueError as error:  # vLLM's validation errors derive from ValueError
            raise BackendError(grpc.StatusCode.INVALID_ARGUMENT, f"vLLM rejected the request: {error}") from None
        except Exception as error:
            if getattr(self._engine, "errored", False):
                self._dead = f"the vLLM engine died ({type(error).__name__}: {error}); restart the server"
                raise BackendError(grpc.StatusCode.UNAVAILABLE, self._dead) from None
            raise
        if final is None or not final.outputs:
            raise BackendError(grpc.StatusCode.INTERNAL, "vLLM returned no output")
        completion = final.outputs[0]
        if request.prompt:  # like vLLM's Completions API: the answer as generated, without the parsers
            parsed = ParsedOutput(completion.text)
        else:
            parsed = self._parse(request, extras, mode, completion.text)
        return response_from_output(
            parsed, completion.finish_reason, len(prompt_ids), len(completion.token_ids), self._served_name
        )

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        if request.prompt:
            prompt_ids = encode_raw_prompt(self._tokenizer, request.prompt)
        else:
            prompt_ids = render_prompt(
                self._tokenizer, request, self._chat_template, self._default_template_kwargs, include_tools=True
            )
        return inference_pb2.CountTokensResponse(prompt_tokens=len(prompt_ids), max_model_len=self._max_model_len())

    def _parse(
        self, request: inference_pb2.GenerateRequest, extras: RequestExtras, mode: int, text: str
    ) -> ParsedOutput:
        """Reasoning, then tool calls: from the tool parser (auto), or the constrained answer (named, required)."""
        forced = mode in FORCED_TOOL_MODES
        parse_tools = self._tool_parser_cls is not None and bool(request.tools) and mode == ToolChoice.AUTO
        parsers_used = self._reasoning_parser_cls is not None or parse_tools
        parsed = parse_output(
            text,
            self._reasoning_parser(extras.template_kwargs),
            self._tool_parser_cls(self._tokenizer) if parse_tools else None,
            self._chat_request(request, extras.template_kwargs) if parsers_used else None,
        )
        return forced_tool_calls(parsed, request.params.tool_choice) if forced else parsed

    def info(self) -> inference_pb2.ModelInfoResponse:
        details = {"dtype": str(self._options.dtype or "auto")}
        if self._options.tensor_parallel_size:
            details["tensor_parallel_size"] = str(self._options.tensor_parallel_size)
        for key in ("reasoning_parser", "tool_call_parser"):
            value = getattr(self._options, key)
            if value:
                details[key] = value
        return inference_pb2.ModelInfoResponse(
            model=self._served_name,
            backend="vllm",
            max_model_len=self._max_model_len() if self._engine is not None else self._options.max_model_len or 0,
            max_concurrency=self._max_num_seqs(),
            details=details,
        )

    def down_reason(self) -> str | None:
        if self._dead is None and self._engine is not None and getattr(self._engine, "errored", False):
            self._dead = "the vLLM engine died; see the server log and restart the server"
        return self._dead

    async def close(self) -> None:
        if self._engine is not None:
            self._engine.shutdown()
            self._engine = None

    def _max_model_len(self) -> int:
        return int(self._engine.model_config.max_model_len)

    def _max_num_seqs(self) -> int:
        try:
            return int(self._engine.vllm_config.scheduler_config.max_num_seqs)
        except AttributeError:
            return 0

    def _reasoning_parser(self, template_kwargs: Mapping[str, Any]) -> Any:
        """A fresh parser per request (parsers keep state), told the template kwargs where it accepts them."""
        if self._reasoning_parser_cls is None:
            return None
        try:
            return self._reasoning_parser_cls(self._tokenizer, chat_template_kwargs=dict(template_kwargs))
        except TypeError:  # releases whose parsers take only the tokenizer
            return self._reasoning_parser_cls(self._tokenizer)

    def _chat_request(self, request: inference_pb2.GenerateRequest, template_kwargs: Mapping[str, Any]) -> Any:
        """The OpenAI-server request object that vLLM's parsers expect alongside the text."""
        request_cls = _import_first(
            ("vllm.entrypoints.openai.chat_completion.protocol", "ChatCompletionRequest"),
            ("vllm.entrypoints.openai.protocol", "ChatCompletionRequest"),
        )
        body: dict[str, Any] = {
            "model": self._served_name,
            "messages": openai_messages(request.messages),
            "chat_template_kwargs": dict(template_kwargs),
        }
        if request.tools:
            body["tools"] = openai_tools(request.tools)
        return request_cls(**body)


def _import_first(*candidates: tuple[str, str]) -> Any:
    """The first of (module, attribute) that imports; vLLM moves things between releases."""
    errors = []
    for module_name, attribute in candidates:
        try:
            return getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as error:
            errors.append(f"{module_name}.{attribute}: {error}")
    raise RuntimeError(f"this vLLM lacks {' / '.join(errors)}; the backend was written for vllm=={PINNED_VERSION}")


def _sampling_param_names(sampling_params_cls: Any) -> list[str]:
    fields = getattr(sampling_params_cls, "__struct_fields__", None)  # a msgspec Struct in current releases
    if fields:
        return list(fields)
    return [name for name in inspect.signature(sampling_params_cls).parameters if name != "self"]
