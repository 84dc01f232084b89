"""Per-request pieces of the vLLM backend that need no vLLM: prompt rendering, sampling settings, output parsing.

They take the tokenizer and the parsers as plain objects, so tests drive them with fakes.
"""

import contextlib
import dataclasses
import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Protocol

import grpc

from nejumi_inference.chat_format import EMPTY_PARAMETERS, openai_messages, openai_tools, struct_to_json
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import inference_pb2, types_pb2

# extra_json keys that shape the prompt or the parsing instead of sampling.
TEMPLATE_KWARGS_KEY = "chat_template_kwargs"
TOOL_CHOICE_KEY = "tool_choice"
ToolChoice = types_pb2.ToolChoice
FORCED_TOOL_MODES = (ToolChoice.NAMED, ToolChoice.REQUIRED)


class ChatTokenizer(Protocol):
    def apply_chat_template(self, conversation: list[dict[str, Any]], **kwargs: Any) -> Any: ...

    def encode(self, text: str, add_special_tokens: bool = ...) -> list[int]: ...


@dataclasses.dataclass(frozen=True)
class RequestExtras:
    """``params.extra_json`` split by where each key goes."""

    template_kwargs: dict[str, Any]
    sampling: dict[str, Any]
    tool_choice: Any = None


@dataclasses.dataclass(frozen=True)
class ParsedOutput:
    text: str
    reasoning_text: str = ""
    tool_calls: tuple[tuple[str, str, str], ...] = ()  # (id, name, arguments JSON)


def split_extras(extra: Mapping[str, Any], default_template_kwargs: Mapping[str, Any] | None) -> RequestExtras:
    """Template kwargs (server defaults overridden by the request), tool_choice, and sampling options."""
    template_kwargs = dict(default_template_kwargs or {})
    requested = extra.get(TEMPLATE_KWARGS_KEY) or {}
    if not isinstance(requested, dict):
        raise BackendError(grpc.StatusCode.INVALID_ARGUMENT, "params.extra_json.chat_template_kwargs: not an object")
    template_kwargs.update(requested)
    sampling = {k: v for k, v in extra.items() if k not in (TEMPLATE_KWARGS_KEY, TOOL_CHOICE_KEY)}
    return RequestExtras(template_kwargs, sampling, extra.get(TOOL_CHOICE_KEY))


def template_messages(messages: Sequence[types_pb2.ChatMessage]) -> list[dict[str, Any]]:
    """Messages for a Hugging Face chat template: like OpenAI's, with tool-call arguments parsed into objects
    (templates index into them), as vLLM's own server does."""
    converted = openai_messages(messages)
    for message in converted:
        for call in message.get("tool_calls") or []:
            function = call["function"]
            with contextlib.suppress(ValueError):  # a model's malformed arguments are replayed as written
                function["arguments"] = json.loads(function["arguments"])
    return converted


def render_prompt(
    tokenizer: ChatTokenizer,
    request: inference_pb2.GenerateRequest | inference_pb2.CountTokensRequest,
    chat_template: str | None,
    template_kwargs: Mapping[str, Any],
    include_tools: bool,
) -> list[int]:
    """Token ids of the chat-templated prompt (the template adds the special tokens, so encoding adds none)."""
    kwargs: dict[str, Any] = dict(template_kwargs)
    kwargs.update(tokenize=False, add_generation_prompt=True)
    if chat_template is not None:
        kwargs["chat_template"] = chat_template
    if include_tools and request.tools:
        kwargs["tools"] = openai_tools(request.tools)
    try:
        text = tokenizer.apply_chat_template(template_messages(request.messages), **kwargs)
    except Exception as error:  # jinja raises its own types for templates that reject a conversation
        raise BackendError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"the chat template rejected the messages: {type(error).__name__}: {error}",
        ) from None
    return list(tokenizer.encode(text, add_special_tokens=False))


def encode_raw_prompt(tokenizer: ChatTokenizer, prompt: str) -> list[int]:
    """Token ids of a raw prompt, with the tokenizer's special tokens (BOS) added as vLLM's Completions API does
    (its ``add_special_tokens`` defaults to true there)."""
    return list(tokenizer.encode(prompt, add_special_tokens=True))


def tool_choice_mode(params: types_pb2.GenerationParams, extras: RequestExtras) -> int:
    """The request's ToolChoice mode; ``extra_json.tool_choice: "none"`` (the older way to say it) counts too."""
    if params.HasField("tool_choice"):
        return params.tool_choice.mode
    return ToolChoice.NONE if extras.tool_choice == "none" else ToolChoice.AUTO


def output_schema(params: types_pb2.GenerationParams, tools: Sequence[types_pb2.Tool]) -> dict[str, Any] | None:
    """The JSON schema the answer is constrained to: ``params.json_schema``, or what vLLM's OpenAI server derives
    from a named or required tool choice (the named tool's parameters; a non-empty array of {name, parameters})."""
    forced = params.HasField("tool_choice") and params.tool_choice.mode in FORCED_TOOL_MODES
    if params.HasField("json_schema"):
        if forced:
            raise BackendError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "params.json_schema: cannot be combined with a NAMED or REQUIRED params.tool_choice (both constrain "
                "the answer)",
            )
        return struct_to_json(params.json_schema.schema)
    if not forced:
        return None
    parameters = {tool.name: _tool_parameters(tool) for tool in tools}
    if params.tool_choice.mode == ToolChoice.NAMED:
        return parameters[params.tool_choice.name]
    variants = [
        {
            "properties": {"name": {"type": "string", "enum": [name]}, "parameters": schema},
            "required": ["name", "parameters"],
        }
        for name, schema in parameters.items()
    ]
    schema: dict[str, Any] = {"type": "array", "minItems": 1, "items": {"type": "object", "anyOf": variants}}
    definitions = _merged_definitions(parameters)
    if definitions:
        schema["$defs"] = definitions
    return schema


def _tool_parameters(tool: types_pb2.Tool) -> dict[str, Any]:
    return json.loads(tool.parameters_json) if tool.parameters_json else dict(EMPTY_PARAMETERS)


def _merged_definitions(parameters: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The tools' ``$defs`` lifted to the top of the array schema, where their ``$ref``s resolve (as vLLM does)."""
    merged: dict[str, Any] = {}
    for name, schema in parameters.items():
        for key, definition in (schema.get("$defs") or {}).items():
            if key in merged and merged[key] != definition:
                raise BackendError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"tools: the $defs entry {key!r} of {name} conflicts with another tool's; rename one",
                )
            merged[key] = definition
    return merged


def sampling_kwargs(
    params: types_pb2.GenerationParams,
    extras: Mapping[str, Any],
    defaults: Mapping[str, Any],
    allowed: Collection[str],
    prompt_tokens: int,
    max_model_len: int,
) -> dict[str, Any]:
    """SamplingParams keyword arguments: the model's generation defaults, then extra_json, then the request's own
    fields. Without max_tokens the answer may fill the rest of the context (vLLM's own server does the same)."""
    unknown = sorted(set(extras) - set(allowed))
    if unknown:
        raise BackendError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"params.extra_json: {', '.join(unknown)} not sampling options of vLLM "
            f"(besides {TEMPLATE_KWARGS_KEY} and {TOOL_CHOICE_KEY}, keys must be SamplingParams fields)",
        )
    kwargs: dict[str, Any] = {k: v for k, v in defaults.items() if k in allowed}
    kwargs.update(extras)
    if params.HasField("temperature"):
        kwargs["temperature"] = params.temperature
    if params.HasField("top_p"):
        kwargs["top_p"] = params.top_p
    if params.HasField("seed"):
        kwargs["seed"] = params.seed
    if params.stop:
        kwargs["stop"] = list(params.stop)
    room = max_model_len - prompt_tokens
    if room <= 0:
        raise BackendError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"This model's maximum context length is {max_model_len} tokens. However, your messages resulted in "
            f"{prompt_tokens} tokens. Please reduce the length of the messages.",
        )
    if params.HasField("max_tokens"):
        wanted = params.max_tokens
    elif "max_tokens" in extras:
        wanted = int(extras["max_tokens"])
    else:
        wanted = min(int(defaults.get("max_tokens") or room), room)
    if wanted > room:
        # The wording of vLLM's and OpenAI's server, which clients already parse to retry with less.
        raise BackendError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"This model's maximum context length is {max_model_len} tokens. However, you requested "
            f"{prompt_tokens + wanted} tokens ({prompt_tokens} in the messages, {wanted} in the completion). "
            "Please reduce the length of the messages or completion.",
        )
    kwargs["max_tokens"] = wanted
    return kwargs


class ReasoningParser(Protocol):
    def extract_reasoning(self, model_output: str, request: Any) -> tuple[str | None, str | None]: ...


class ToolParser(Protocol):
    def extract_tool_calls(self, model_output: str, request: Any) -> Any: ...


def parse_output(text: str, reasoning_parser: Any | None, tool_parser: Any | None, chat_request: Any) -> ParsedOutput:
    """Split reasoning from the answer, then tool calls from the answer, as vLLM's server does with
    ``--reasoning-parser`` and ``--tool-call-parser``."""
    reasoning, content = "", text
    if reasoning_parser is not None:
        extract = getattr(reasoning_parser, "extract_reasoning", None) or reasoning_parser.extract_reasoning_content
        found_reasoning, found_content = extract(text, chat_request)
        reasoning, content = found_reasoning or "", found_content or ""
    calls: tuple[tuple[str, str, str], ...] = ()
    if tool_parser is not None:
        info = tool_parser.extract_tool_calls(content, chat_request)
        if info.tools_called:
            calls = tuple((call.id or "", call.function.name, call.function.arguments) for call in info.tool_calls)
            content = info.content or ""
    return ParsedOutput(content, reasoning, calls)


def forced_tool_calls(parsed: ParsedOutput, choice: types_pb2.ToolChoice) -> ParsedOutput:
    """The answer to a named or required tool choice as tool calls, as vLLM's OpenAI server reads it: the named
    tool's arguments are the whole answer; a required choice answers a JSON array of {name, parameters}. An
    answer that is not such an array (cut off by max_tokens) stays text."""
    if choice.mode == ToolChoice.NAMED:
        return ParsedOutput("", parsed.reasoning_text, ((_tool_call_id(), choice.name, parsed.text),))
    try:
        calls = json.loads(parsed.text)
        found = tuple(
            (_tool_call_id(), str(call["name"]), json.dumps(call["parameters"], ensure_ascii=False)) for call in calls
        )
    except (ValueError, TypeError, KeyError):
        return parsed
    return ParsedOutput("", parsed.reasoning_text, found) if found else parsed


def _tool_call_id() -> str:
    return f"chatcmpl-tool-{uuid.uuid4().hex}"  # the form of vLLM's own ids


def response_from_output(
    parsed: ParsedOutput, finish_reason: str | None, prompt_tokens: int, completion_tokens: int, model: str
) -> types_pb2.Response:
    response = types_pb2.Response(
        text=parsed.text,
        reasoning_text=parsed.reasoning_text,
        finish_reason="tool_calls" if parsed.tool_calls else finish_reason or "",
        model=model,
        usage=types_pb2.Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        ),
    )
    for call_id, name, arguments in parsed.tool_calls:
        response.tool_calls.add(id=call_id, name=name, arguments_json=arguments)
    return response
