"""Conversions between the proto messages and OpenAI's chat-completions JSON shapes (requests and answers)."""

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from google.protobuf import json_format, struct_pb2

from nejumi_proto.v1 import types_pb2

ToolChoice = types_pb2.ToolChoice

EMPTY_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}


def openai_messages(messages: Iterable[types_pb2.ChatMessage]) -> list[dict[str, Any]]:
    """Messages as OpenAI's ``messages`` array (tool calls keep their arguments as JSON strings).

    An assistant turn's ``reasoning_text`` is left out: OpenAI's API rejects fields it does not know, and
    chat templates drop earlier turns' reasoning anyway.
    """
    converted: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.name:
            item["name"] = message.name
        if message.tool_calls:
            item["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments_json or "{}"},
                }
                for call in message.tool_calls
            ]
            if not message.content:
                item["content"] = None
        if message.role == "tool" and message.tool_call_id:
            item["tool_call_id"] = message.tool_call_id
        converted.append(item)
    return converted


def openai_tools(tools: Iterable[types_pb2.Tool]) -> list[dict[str, Any]]:
    """Tools as OpenAI's ``tools`` array of functions (validated requests carry JSON-object parameters)."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": json.loads(tool.parameters_json) if tool.parameters_json else dict(EMPTY_PARAMETERS),
            },
        }
        for tool in tools
    ]


def response_from_chat_completion(completion: Mapping[str, Any]) -> types_pb2.Response:
    """A ``chat.completion`` object (as a dict) as a Response: text, reasoning, tool calls, usage, finish reason."""
    choices: Sequence[Mapping[str, Any]] = completion.get("choices") or []
    choice: Mapping[str, Any] = choices[0] if choices else {}
    message: Mapping[str, Any] = choice.get("message") or {}
    response = types_pb2.Response(
        text=message.get("content") or "",
        reasoning_text=message.get("reasoning_content") or message.get("reasoning") or "",
        finish_reason=choice.get("finish_reason") or "",
        model=completion.get("model") or "",
    )
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        arguments = function.get("arguments")
        response.tool_calls.add(
            id=call.get("id") or "",
            name=function.get("name") or "",
            arguments_json=arguments if isinstance(arguments, str) else json.dumps(arguments or {}, ensure_ascii=False),
        )
    _set_usage(response, completion)
    return response


def response_from_completion(completion: Mapping[str, Any]) -> types_pb2.Response:
    """A ``text_completion`` object (as a dict) as a Response: text, usage, finish reason."""
    choices: Sequence[Mapping[str, Any]] = completion.get("choices") or []
    choice: Mapping[str, Any] = choices[0] if choices else {}
    response = types_pb2.Response(
        text=choice.get("text") or "",
        finish_reason=choice.get("finish_reason") or "",
        model=completion.get("model") or "",
    )
    _set_usage(response, completion)
    return response


def _set_usage(response: types_pb2.Response, completion: Mapping[str, Any]) -> None:
    usage: Mapping[str, Any] = completion.get("usage") or {}
    response.usage.prompt_tokens = int(usage.get("prompt_tokens") or 0)
    response.usage.completion_tokens = int(usage.get("completion_tokens") or 0)
    response.usage.total_tokens = int(
        usage.get("total_tokens") or response.usage.prompt_tokens + response.usage.completion_tokens
    )


def sampling_fields(params: types_pb2.GenerationParams) -> dict[str, Any]:
    """The set sampling fields of ``params`` under their OpenAI names (unset fields are left out)."""
    fields: dict[str, Any] = {}
    if params.HasField("temperature"):
        fields["temperature"] = params.temperature
    if params.HasField("top_p"):
        fields["top_p"] = params.top_p
    if params.HasField("max_tokens"):
        fields["max_tokens"] = params.max_tokens
    if params.HasField("seed"):
        fields["seed"] = params.seed
    if params.stop:
        fields["stop"] = list(params.stop)
    return fields


def response_format(params: types_pb2.GenerationParams) -> dict[str, Any] | None:
    """``params.json_schema`` as OpenAI's ``response_format`` (None when unset)."""
    if not params.HasField("json_schema"):
        return None
    schema = params.json_schema
    return {
        "type": "json_schema",
        "json_schema": {
            "name": schema.name,
            "schema": struct_to_json(schema.schema),
            "strict": schema.strict,
        },
    }


def struct_to_json(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct as a JSON object, with whole numbers as integers again: a Struct stores every number as a
    double, and schema keywords such as ``minItems`` must be integers for strict validators."""
    return _whole_numbers_as_int(json_format.MessageToDict(struct))


def _whole_numbers_as_int(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_numbers_as_int(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_numbers_as_int(item) for item in value]
    return value


def tool_choice(params: types_pb2.GenerationParams) -> str | dict[str, Any] | None:
    """``params.tool_choice`` as OpenAI's ``tool_choice`` (None when unset)."""
    if not params.HasField("tool_choice"):
        return None
    choice = params.tool_choice
    if choice.mode == ToolChoice.NAMED:
        return {"type": "function", "function": {"name": choice.name}}
    return ToolChoice.Mode.Name(choice.mode).lower()


def extra_fields(params: types_pb2.GenerationParams) -> dict[str, Any]:
    """``params.extra_json`` as request-body fields (validated requests hold a JSON object or nothing).

    Upstream passes its ``generator:`` section to the OpenAI SDK as keyword arguments, where
    ``extra_body`` means "merge these fields into the request body". So ``{"extra_body": {"a": 1},
    "b": 2}`` becomes the body fields ``{"a": 1, "b": 2}`` here, as it would on the wire.
    """
    return body_fields(json.loads(params.extra_json) if params.extra_json.strip() else {})


def body_fields(extras: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of an OpenAI SDK call as the request-body fields they become (``extra_body`` merged)."""
    fields = dict(extras)
    body = fields.pop("extra_body", None)
    if isinstance(body, dict):
        fields.update(body)
    return fields
