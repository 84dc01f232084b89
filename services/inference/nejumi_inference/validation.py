"""Checks a request before it reaches a backend; each problem names the field path that is wrong."""

import json
import math
from collections.abc import Sequence

from nejumi_proto.v1 import inference_pb2, types_pb2

ROLES = ("system", "user", "assistant", "tool")
ToolChoice = types_pb2.ToolChoice


class InvalidRequest(ValueError):
    """A request the service refuses, with a message such as ``params.max_tokens: must be > 0``."""


def validate_request(request: inference_pb2.GenerateRequest) -> None:
    """Raise InvalidRequest naming the first bad field of ``request``."""
    _validate_input(request.messages, request.tools, request.prompt)
    _validate_params(request.params, request.tools)


def validate_count_request(request: inference_pb2.CountTokensRequest) -> None:
    """Raise InvalidRequest naming the first bad field of ``request``."""
    _validate_input(request.messages, request.tools, request.prompt)


def _validate_input(messages: Sequence[types_pb2.ChatMessage], tools: Sequence[types_pb2.Tool], prompt: str) -> None:
    if prompt and messages:
        raise InvalidRequest("prompt: set either messages or prompt, not both")
    if prompt and tools:
        # A raw completion is read as is: its tools are already written into its text.
        raise InvalidRequest("tools: not allowed with prompt (render the tools into the prompt text)")
    if not prompt and not messages:
        raise InvalidRequest("messages: must not be empty (or set prompt for a raw completion)")
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if message.role not in ROLES:
            raise InvalidRequest(f'{where}.role: must be one of {", ".join(ROLES)} (got "{message.role}")')
        if message.tool_calls and message.role != "assistant":
            raise InvalidRequest(f"{where}.tool_calls: only assistant messages may carry tool calls")
        if message.reasoning_text and message.role != "assistant":
            raise InvalidRequest(f"{where}.reasoning_text: only assistant messages may carry reasoning")
        for j, call in enumerate(message.tool_calls):
            if not call.name:
                raise InvalidRequest(f"{where}.tool_calls[{j}].name: must not be empty")
    for i, tool in enumerate(tools):
        if not tool.name:
            raise InvalidRequest(f"tools[{i}].name: must not be empty")
        if tool.parameters_json and not _is_json_object(tool.parameters_json):
            raise InvalidRequest(f"tools[{i}].parameters_json: not a JSON object")


def _validate_params(params: types_pb2.GenerationParams, tools: Sequence[types_pb2.Tool]) -> None:
    if params.HasField("temperature") and not (math.isfinite(params.temperature) and params.temperature >= 0):
        raise InvalidRequest(f"params.temperature: must be >= 0 (got {params.temperature})")
    if params.HasField("top_p") and not (0 < params.top_p <= 1):
        raise InvalidRequest(f"params.top_p: must be in (0, 1] (got {params.top_p})")
    if params.HasField("max_tokens") and params.max_tokens <= 0:
        raise InvalidRequest(f"params.max_tokens: must be > 0 (got {params.max_tokens})")
    for i, stop in enumerate(params.stop):
        if not stop:
            raise InvalidRequest(f"params.stop[{i}]: must not be empty")
    if params.extra_json.strip() and not _is_json_object(params.extra_json):
        raise InvalidRequest("params.extra_json: not a JSON object")
    if params.HasField("json_schema"):
        if not params.json_schema.name:
            raise InvalidRequest("params.json_schema.name: must not be empty")
        if not params.json_schema.HasField("schema"):
            raise InvalidRequest("params.json_schema.schema: must be set (a JSON Schema object)")
    if params.HasField("tool_choice"):
        _validate_tool_choice(params.tool_choice, tools)


def _validate_tool_choice(choice: types_pb2.ToolChoice, tools: Sequence[types_pb2.Tool]) -> None:
    mode = ToolChoice.Mode.Name(choice.mode)
    if choice.mode != ToolChoice.NAMED and choice.name:
        raise InvalidRequest(f"params.tool_choice.name: only for mode NAMED (mode is {mode})")
    if choice.mode in (ToolChoice.REQUIRED, ToolChoice.NAMED) and not tools:
        raise InvalidRequest(f"params.tool_choice: mode {mode} needs tools")
    if choice.mode == ToolChoice.NAMED:
        names = [tool.name for tool in tools]
        if choice.name not in names:
            raise InvalidRequest(
                f'params.tool_choice.name: must name one of the tools ({", ".join(names)}; got "{choice.name}")'
            )


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
