"""Conversions between the proto messages and Anthropic's Messages API JSON (requests and answers).

Requests follow upstream's AnthropicClient (spec §12.2, §12.4): system messages go to ``system``, ``stop`` is
sent as ``stop_sequences``, ``max_tokens`` defaults to 1024, and with ``model.thinking`` set thinking is enabled
with ``max_tokens = (max_tokens or 2048) + budget`` and temperature 1.0. Only that client's allow-list of the
configured extras is sent (the API refuses fields it does not know, so there is nothing to correct).
Thinking blocks become the reasoning, text the answer.
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any

from nejumi_inference.backends.upstream_params import ANTHROPIC, allowed, request_extras
from nejumi_inference.chat_format import EMPTY_PARAMETERS, struct_to_json
from nejumi_proto.v1 import inference_pb2, types_pb2

ToolChoice = types_pb2.ToolChoice

DEFAULT_MAX_TOKENS = 1024
THINKING_MAX_TOKENS = 2048  # the answer's share when thinking is on and no max_tokens is given
DEFAULT_THINKING_BUDGET = 16384
STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# Sampling fields the installed SDK no longer takes as arguments; they travel in the body as upstream sent them.
BODY_FIELDS = ("temperature", "top_p", "top_k")


def anthropic_messages(messages: Iterable[types_pb2.ChatMessage]) -> tuple[str | None, list[dict[str, Any]]]:
    """The ``system`` text and the ``messages`` array; tool results join one user turn, as the API wants."""
    system: list[str] = []
    converted: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            system.append(message.content)
            continue
        if message.role == "tool":
            result = {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.content}
            previous = converted[-1] if converted else None
            if previous and previous["role"] == "user" and isinstance(previous["content"], list):
                previous["content"].append(result)
            else:
                converted.append({"role": "user", "content": [result]})
            continue
        if not message.tool_calls:
            converted.append({"role": message.role, "content": message.content})
            continue
        blocks: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
        blocks.extend(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": json.loads(call.arguments_json or "{}")}
            for call in message.tool_calls
        )
        converted.append({"role": message.role, "content": blocks})
    return ("\n\n".join(system) if system else None), converted


def anthropic_tools(tools: Iterable[types_pb2.Tool]) -> list[dict[str, Any]]:
    return [
        {
            "name": tool.name,
            "description": tool.description,
            "input_schema": json.loads(tool.parameters_json) if tool.parameters_json else dict(EMPTY_PARAMETERS),
        }
        for tool in tools
    ]


def anthropic_tool_choice(choice: types_pb2.ToolChoice) -> dict[str, Any]:
    if choice.mode == ToolChoice.NAMED:
        return {"type": "tool", "name": choice.name}
    return {"type": {ToolChoice.REQUIRED: "any", ToolChoice.NONE: "none"}.get(choice.mode, "auto")}


def anthropic_arguments(
    model: str, request: inference_pb2.GenerateRequest, thinking: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The keyword arguments of ``messages.create`` for ``request`` (sampling fields under ``extra_body``)."""
    params = request.params
    extras = request_extras(params)
    if params.HasField("temperature"):
        extras["temperature"] = params.temperature
    if params.HasField("top_p"):
        extras["top_p"] = params.top_p
    if params.stop:
        extras["stop_sequences"] = list(params.stop)
    extras = allowed(extras, ANTHROPIC, "AnthropicClient")
    extras.pop("stream", None)  # nejumi never streams
    extras.pop("max_tokens", None)
    max_tokens = params.max_tokens if params.HasField("max_tokens") else None
    system, messages = anthropic_messages(request.messages)
    arguments: dict[str, Any] = {"model": model, "messages": messages}
    if system is not None:
        arguments["system"] = system
    if thinking is not None:
        budget = int(thinking.get("budget_tokens") or DEFAULT_THINKING_BUDGET)
        arguments["thinking"] = {"type": "enabled", "budget_tokens": budget}
        arguments["max_tokens"] = (max_tokens or THINKING_MAX_TOKENS) + budget
        extras["temperature"] = 1.0  # the API's only temperature with thinking
    else:
        arguments["max_tokens"] = max_tokens or DEFAULT_MAX_TOKENS
    if request.tools:
        arguments["tools"] = anthropic_tools(request.tools)
    if params.HasField("tool_choice"):
        arguments["tool_choice"] = anthropic_tool_choice(params.tool_choice)
    if params.HasField("json_schema"):
        arguments["output_config"] = {
            "format": {"type": "json_schema", "schema": struct_to_json(params.json_schema.schema)}
        }
    body = {key: extras.pop(key) for key in BODY_FIELDS if key in extras}
    arguments.update(extras)
    if body:
        arguments["extra_body"] = body
    return arguments


def response_from_message(message: Mapping[str, Any]) -> types_pb2.Response:
    """A Messages API ``message`` object (as a dict) as a Response: the first text and thinking blocks, tool calls."""
    text: str | None = None
    reasoning: str | None = None
    response = types_pb2.Response(model=message.get("model") or "")
    for block in message.get("content") or []:
        kind = block.get("type")
        if kind == "text" and text is None:
            text = block.get("text") or ""
        elif kind == "thinking" and reasoning is None:
            reasoning = block.get("thinking") or ""
        elif kind == "tool_use":
            response.tool_calls.add(
                id=block.get("id") or "",
                name=block.get("name") or "",
                arguments_json=json.dumps(block.get("input") or {}, ensure_ascii=False),
            )
    response.text = text or ""
    response.reasoning_text = reasoning or ""
    stop_reason = message.get("stop_reason") or ""
    response.finish_reason = STOP_REASONS.get(stop_reason, stop_reason)
    usage: Mapping[str, Any] = message.get("usage") or {}
    response.usage.prompt_tokens = int(usage.get("input_tokens") or 0)
    response.usage.completion_tokens = int(usage.get("output_tokens") or 0)
    response.usage.total_tokens = response.usage.prompt_tokens + response.usage.completion_tokens
    return response
