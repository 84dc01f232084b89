"""Conversions between the proto messages and the OpenAI Responses API's JSON (requests and answers).

Requests follow upstream's OpenAIResponsesClient (spec §12.2): its allow-list, ``max_tokens`` sent as
``max_output_tokens = max(max_tokens, 16)``, ``top_k`` as ``top_logprobs``, and under official compatibility
no ``temperature``/``top_p`` and no promotion of ``extra_body.reasoning``. Answers are read as that client reads
them: the first text part of a message item is the answer, the first summary text of a reasoning item the
reasoning, function_call items the tool calls.
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any

from nejumi_inference.backends.upstream_params import OPENAI_RESPONSES, allowed, request_extras
from nejumi_inference.chat_format import EMPTY_PARAMETERS, struct_to_json
from nejumi_proto.v1 import inference_pb2, types_pb2

ToolChoice = types_pb2.ToolChoice

# The Responses client sends max_output_tokens = max(max_tokens, 16) (the API's minimum).
MIN_OUTPUT_TOKENS = 16
# Why a response stopped early, in the words the other backends use.
INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}
# Allow-listed keys nejumi cannot forward: it never streams, and text_format is upstream's pydantic class
# (nejumi's structured output arrives as params.json_schema).
NOT_FORWARDED = ("stream", "text_format")


def responses_input(messages: Iterable[types_pb2.ChatMessage]) -> list[dict[str, Any]]:
    """Chat messages as Responses input items; tool calls and their results become function_call items."""
    items: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            items.append({"type": "function_call_output", "call_id": message.tool_call_id, "output": message.content})
            continue
        if message.content or not message.tool_calls:
            items.append({"role": message.role, "content": message.content})
        for call in message.tool_calls:
            items.append(
                {
                    "type": "function_call",
                    "call_id": call.id,
                    "name": call.name,
                    "arguments": call.arguments_json or "{}",
                }
            )
    return items


def responses_tools(tools: Iterable[types_pb2.Tool]) -> list[dict[str, Any]]:
    """Tools as Responses function tools; not strict, as the API would otherwise demand closed schemas."""
    return [
        {
            "type": "function",
            "name": tool.name,
            "description": tool.description,
            "parameters": json.loads(tool.parameters_json) if tool.parameters_json else dict(EMPTY_PARAMETERS),
            "strict": False,
        }
        for tool in tools
    ]


def responses_arguments(model: str, request: inference_pb2.GenerateRequest, official: bool) -> dict[str, Any]:
    """The keyword arguments of ``responses.create`` for ``request``."""
    params = request.params
    extras = request_extras(params)
    if "top_k" in extras:
        extras["top_logprobs"] = extras.pop("top_k")
    extra_body = extras.pop("extra_body", None)
    if not official and isinstance(extra_body, Mapping) and "reasoning" in extra_body:
        # Upstream meant to promote it; with OmegaConf's DictConfig it never does (official keeps that).
        extras.setdefault("reasoning", extra_body["reasoning"])
    arguments: dict[str, Any] = allowed(extras, OPENAI_RESPONSES, "OpenAIResponsesClient")
    for key in NOT_FORWARDED:
        arguments.pop(key, None)
    arguments["model"] = model
    arguments["input"] = request.prompt if request.prompt else responses_input(request.messages)
    if params.HasField("max_tokens"):
        arguments["max_output_tokens"] = max(params.max_tokens, MIN_OUTPUT_TOKENS)
    if not official:
        if params.HasField("temperature"):
            arguments["temperature"] = params.temperature
        if params.HasField("top_p"):
            arguments["top_p"] = params.top_p
    if request.tools:
        arguments["tools"] = responses_tools(request.tools)
    if params.HasField("tool_choice"):
        choice = params.tool_choice
        if choice.mode == ToolChoice.NAMED:
            arguments["tool_choice"] = {"type": "function", "name": choice.name}
        else:
            arguments["tool_choice"] = ToolChoice.Mode.Name(choice.mode).lower()
    if params.HasField("json_schema"):
        schema = params.json_schema
        text = dict(arguments.get("text") or {})
        text["format"] = {
            "type": "json_schema",
            "name": schema.name,
            "schema": struct_to_json(schema.schema),
            "strict": schema.strict,
        }
        arguments["text"] = text
    return arguments


def tool_arguments(raw: str) -> dict[str, Any]:
    """Upstream's reading of a call's arguments: JSON, else JSON with a closing brace added, else ``_raw``."""
    for candidate in (raw, raw + "}"):
        try:
            parsed = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return {"_raw": raw}


def response_from_responses(answer: Mapping[str, Any]) -> types_pb2.Response:
    """A Responses API ``response`` object (as a dict) as a Response."""
    text: str | None = None
    reasoning: str | None = None
    response = types_pb2.Response(model=answer.get("model") or "")
    for item in answer.get("output") or []:
        kind = item.get("type")
        if kind == "message" and text is None:
            text = next((p.get("text") for p in item.get("content") or [] if p.get("type") == "output_text"), None)
        elif kind == "reasoning" and reasoning is None:
            reasoning = next((p.get("text") for p in item.get("summary") or [] if p.get("text")), None)
        elif kind == "function_call":
            arguments = tool_arguments(item.get("arguments") or "")
            response.tool_calls.add(
                id=item.get("call_id") or item.get("id") or "",
                name=item.get("name") or "",
                arguments_json=json.dumps(arguments, ensure_ascii=False),
            )
    response.text = text or ""
    response.reasoning_text = reasoning or ""
    response.finish_reason = _finish_reason(answer, bool(response.tool_calls))
    usage: Mapping[str, Any] = answer.get("usage") or {}
    response.usage.prompt_tokens = int(usage.get("input_tokens") or 0)
    response.usage.completion_tokens = int(usage.get("output_tokens") or 0)
    response.usage.total_tokens = int(
        usage.get("total_tokens") or response.usage.prompt_tokens + response.usage.completion_tokens
    )
    return response


def _finish_reason(answer: Mapping[str, Any], called: bool) -> str:
    status = answer.get("status") or ""
    if status == "incomplete":
        reason = (answer.get("incomplete_details") or {}).get("reason") or ""
        return INCOMPLETE_REASONS.get(reason, reason or "incomplete")
    if status == "completed":
        return "tool_calls" if called else "stop"
    return status
