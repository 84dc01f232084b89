"""Checks a GenerateRequest before it reaches a backend; each problem names the field path that is wrong."""

import json
import math

from nejumi_proto.v1 import inference_pb2

ROLES = ("system", "user", "assistant", "tool")


class InvalidRequest(ValueError):
    """A request the service refuses, with a message such as ``params.max_tokens: must be > 0``."""


def validate_request(request: inference_pb2.GenerateRequest) -> None:
    """Raise InvalidRequest naming the first bad field of ``request``."""
    if not request.messages:
        raise InvalidRequest("messages: must not be empty")
    for i, message in enumerate(request.messages):
        where = f"messages[{i}]"
        if message.role not in ROLES:
            raise InvalidRequest(f'{where}.role: must be one of {", ".join(ROLES)} (got "{message.role}")')
        if message.tool_calls and message.role != "assistant":
            raise InvalidRequest(f"{where}.tool_calls: only assistant messages may carry tool calls")
        for j, call in enumerate(message.tool_calls):
            if not call.name:
                raise InvalidRequest(f"{where}.tool_calls[{j}].name: must not be empty")
    for i, tool in enumerate(request.tools):
        if not tool.name:
            raise InvalidRequest(f"tools[{i}].name: must not be empty")
        if tool.parameters_json and not _is_json_object(tool.parameters_json):
            raise InvalidRequest(f"tools[{i}].parameters_json: not a JSON object")
    _validate_params(request)


def _validate_params(request: inference_pb2.GenerateRequest) -> None:
    params = request.params
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


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
