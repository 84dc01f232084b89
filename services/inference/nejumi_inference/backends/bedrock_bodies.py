"""The three request shapes upstream's ChatBedrock sends to Amazon Bedrock, and their answers as Responses.

Claude models get Anthropic's Messages body (anthropic_format.py) through ``invoke_model``, Llama models a
hand-built Llama 3 prompt through ``invoke_model``, and every other model (Nova) the ``converse`` API (spec §12.2).
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from nejumi_inference.backends.anthropic_format import anthropic_messages, response_from_message
from nejumi_inference.chat_format import EMPTY_PARAMETERS
from nejumi_proto.v1 import types_pb2

ANTHROPIC_VERSION = "bedrock-2023-05-31"
ToolChoice = types_pb2.ToolChoice

# Stop reasons of the Converse answers under the Response's words; others pass through.
STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
# How invoke_model answers say that a guardrail replaced the answer.
GUARDRAIL_KEY = "amazon-bedrock-guardrailAction"


def route(model_id: str) -> str:
    """Which request shape a model id gets: "claude", "llama" or "converse"."""
    lowered = model_id.lower()
    if "anthropic" in lowered or "claude" in lowered:
        return "claude"
    if "llama" in lowered:
        return "llama"
    return "converse"


def system_text(messages: Iterable[types_pb2.ChatMessage]) -> str:
    return "\n\n".join(m.content for m in messages if m.role == "system")


def claude_body(
    messages: Sequence[types_pb2.ChatMessage], max_tokens: int, fields: Mapping[str, Any]
) -> dict[str, Any]:
    system, converted = anthropic_messages(messages)
    body: dict[str, Any] = {"anthropic_version": ANTHROPIC_VERSION, "max_tokens": max_tokens, **fields}
    body["messages"] = converted
    if system is not None:
        body["system"] = system
    return body


def claude_response(body: Mapping[str, Any]) -> types_pb2.Response:
    response = response_from_message(body)
    _mark_guardrail(response, body)
    return response


def llama_prompt(messages: Iterable[types_pb2.ChatMessage]) -> str:
    """Llama 3's chat format, ending where the assistant's answer begins."""
    turns = "".join(f"<|start_header_id|>{m.role}<|end_header_id|>\n\n{m.content}<|eot_id|>" for m in messages)
    return f"<|begin_of_text|>{turns}<|start_header_id|>assistant<|end_header_id|>\n\n"


def llama_response(body: Mapping[str, Any]) -> types_pb2.Response:
    response = types_pb2.Response(text=body.get("generation") or "", finish_reason=_finish(body.get("stop_reason")))
    _set_usage(response, body.get("prompt_token_count"), body.get("generation_token_count"))
    _mark_guardrail(response, body)
    return response


def converse_messages(messages: Iterable[types_pb2.ChatMessage]) -> list[dict[str, Any]]:
    """Non-system messages as Converse content blocks (tool results travel in user turns)."""
    converted: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "tool":
            result = {"toolUseId": message.tool_call_id, "content": [{"text": message.content}]}
            converted.append({"role": "user", "content": [{"toolResult": result}]})
            continue
        blocks: list[dict[str, Any]] = [{"text": message.content}] if message.content else []
        blocks += [
            {"toolUse": {"toolUseId": c.id, "name": c.name, "input": json.loads(c.arguments_json or "{}")}}
            for c in message.tool_calls
        ]
        converted.append({"role": message.role, "content": blocks})
    return converted


def converse_tool_config(tools: Iterable[types_pb2.Tool], choice: types_pb2.ToolChoice | None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "tools": [
            {"toolSpec": {"name": t.name, "description": t.description or t.name, "inputSchema": {"json": _schema(t)}}}
            for t in tools
        ]
    }
    if choice is not None and choice.mode != ToolChoice.NONE:
        if choice.mode == ToolChoice.NAMED:
            config["toolChoice"] = {"tool": {"name": choice.name}}
        else:
            config["toolChoice"] = {"any": {}} if choice.mode == ToolChoice.REQUIRED else {"auto": {}}
    return config


def converse_response(answer: Mapping[str, Any]) -> types_pb2.Response:
    response = types_pb2.Response(finish_reason=_finish(answer.get("stopReason")))
    texts, thoughts = [], []
    for block in ((answer.get("output") or {}).get("message") or {}).get("content") or []:
        if "text" in block:
            texts.append(block["text"])
        elif "reasoningContent" in block:
            thoughts.append(((block["reasoningContent"].get("reasoningText")) or {}).get("text") or "")
        elif "toolUse" in block:
            use = block["toolUse"]
            arguments = json.dumps(use.get("input") or {}, ensure_ascii=False)
            response.tool_calls.add(id=use.get("toolUseId") or "", name=use.get("name") or "", arguments_json=arguments)
    response.text, response.reasoning_text = "".join(texts), "".join(thoughts)
    usage = answer.get("usage") or {}
    _set_usage(response, usage.get("inputTokens"), usage.get("outputTokens"))
    return response


def _schema(tool: types_pb2.Tool) -> dict[str, Any]:
    return json.loads(tool.parameters_json) if tool.parameters_json else dict(EMPTY_PARAMETERS)


def _finish(reason: Any) -> str:
    return STOP_REASONS.get(str(reason), str(reason)) if reason else ""


def _mark_guardrail(response: types_pb2.Response, body: Mapping[str, Any]) -> None:
    # The text is the guardrail's blocked-output message, which upstream scores like any answer.
    if body.get(GUARDRAIL_KEY) == "INTERVENED":
        response.finish_reason = "content_filter"


def _set_usage(response: types_pb2.Response, prompt: Any, completion: Any) -> None:
    response.usage.prompt_tokens = int(prompt or 0)
    response.usage.completion_tokens = int(completion or 0)
    response.usage.total_tokens = response.usage.prompt_tokens + response.usage.completion_tokens
