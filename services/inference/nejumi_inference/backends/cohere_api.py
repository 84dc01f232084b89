"""Cohere backend (api ``cohere``) through the cohere SDK, keyed by ``$COHERE_API_KEY``.

As upstream's CohereClient, models whose name contains ``command-a`` or ``2025`` use the v2 chat API and the others
v1, with HTTP timeouts of connect 30 s, read 300 s, write 300 s, pool 30 s (spec §12.3). Under
``compatibility: official`` it sends the keys of upstream's allow-list (``top_p`` → ``p``, ``top_k`` → ``k``), which
drops ``stop`` and tools; ``corrected`` also sends ``stop`` as ``stop_sequences``, every other configured key, and
tools (v2 only).
"""

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import grpc

from nejumi_inference.backends import api_errors
from nejumi_inference.backends.options import OptionsError, parse_options
from nejumi_inference.backends.upstream_params import check_mode
from nejumi_inference.backends.vendor_sdk import request_timeout, upstream_kwargs
from nejumi_inference.chat_format import openai_messages, openai_tools, struct_to_json
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import inference_pb2, types_pb2

# CohereClient's allow-list after its renames.
ALLOW_LIST = frozenset(
    {"temperature", "p", "k", "max_tokens", "stop_sequences", "frequency_penalty", "presence_penalty", "seed"}
)
RENAMES = {"top_p": "p", "top_k": "k"}
CORRECTED_RENAMES = {**RENAMES, "stop": "stop_sequences"}
FINISH_REASONS = {
    "COMPLETE": "stop",
    "STOP_SEQUENCE": "stop",
    "MAX_TOKENS": "length",
    "TOOL_CALL": "tool_calls",
    "ERROR_TOXIC": "content_filter",
}
V1_ROLES = {"user": "USER", "assistant": "CHATBOT", "system": "SYSTEM", "tool": "TOOL"}


def uses_v2(model: str) -> bool:
    """Upstream's choice of chat API by model name."""
    return "command-a" in model or "2025" in model


@dataclasses.dataclass(frozen=True)
class CohereOptions:
    compatibility: str = "official"  # official: upstream's allow-list; corrected: every generator key, and tools
    api_key_env: str = "COHERE_API_KEY"
    base_url: str | None = None  # None: https://api.cohere.com (tests point it at a local server)
    connect_timeout_s: float = 30.0  # upstream's fixed httpx timeouts
    read_timeout_s: float = 300.0


class CohereBackend:
    def __init__(self, model: str, options: CohereOptions) -> None:
        self._model = model
        self._options = options
        self._official = options.compatibility == "official"
        self._v2 = uses_v2(model)
        self._client: Any = None
        self._http: Any = None

    @classmethod
    def from_config(cls, model: str, config: Mapping[str, Any]) -> "CohereBackend":
        options = parse_options(CohereOptions, config, "cohere")
        if not model:
            raise OptionsError("the cohere backend needs --model <Cohere model name, e.g. command-a-03-2025>")
        check_mode(options.compatibility, "cohere")
        return cls(model, options)

    async def start(self) -> None:
        import cohere
        import httpx

        api_key = os.environ.get(self._options.api_key_env)
        if not api_key:
            raise BackendError(
                grpc.StatusCode.UNAUTHENTICATED, f"the cohere backend needs an API key in ${self._options.api_key_env}"
            )
        connect, read = self._options.connect_timeout_s, self._options.read_timeout_s
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(connect=connect, read=read, write=read, pool=connect))
        client = cohere.AsyncClientV2 if self._v2 else cohere.AsyncClient
        # max_retries=0: the request queue is the only retrier.
        self._client = client(api_key=api_key, base_url=self._options.base_url, httpx_client=self._http, max_retries=0)

    async def generate(self, request: inference_pb2.GenerateRequest, timeout_s: float | None) -> types_pb2.Response:
        import httpx
        from cohere.core.api_error import ApiError

        if request.prompt:
            raise BackendError(
                grpc.StatusCode.INVALID_ARGUMENT, "the cohere backend answers chat messages, not raw prompts"
            )
        arguments = self._v2_arguments(request) if self._v2 else self._v1_arguments(request)
        if timeout_s is not None:
            arguments["request_options"] = {
                "timeout_in_seconds": request_timeout(self._options.read_timeout_s, timeout_s)
            }
        try:
            answer = await self._client.chat(**arguments)
        except ApiError as error:
            status = int(error.status_code or 0)
            raise api_errors.status_error(
                self._upstream(), status, error.body, error.headers or {}, str(error.body)
            ) from None
        except httpx.TimeoutException as error:
            raise api_errors.timeout_error(self._upstream(), error) from None
        except httpx.HTTPError as error:
            raise api_errors.connection_error(self._upstream(), error) from None
        except TypeError as error:  # a generator key the SDK does not take (corrected compatibility sends all)
            raise BackendError(grpc.StatusCode.INVALID_ARGUMENT, f"cohere backend: {error}") from None
        payload = answer.dict()  # the SDK's own dump: by alias, unset fields left out
        response = v2_response(payload) if self._v2 else v1_response(payload)
        response.model = self._model
        return response

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        raise BackendError(grpc.StatusCode.UNIMPLEMENTED, "the cohere backend does not count tokens")

    def info(self) -> inference_pb2.ModelInfoResponse:
        return inference_pb2.ModelInfoResponse(
            model=self._model,
            backend="cohere",
            details={
                "base_url": self._upstream(),
                "chat_api": "v2" if self._v2 else "v1",
                "compatibility": self._options.compatibility,
            },
        )

    def down_reason(self) -> str | None:
        return None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    def _upstream(self) -> str:
        return self._options.base_url or "https://api.cohere.com"

    def _kwargs(self, params: types_pb2.GenerationParams) -> dict[str, Any]:
        renames = RENAMES if self._official else CORRECTED_RENAMES
        return upstream_kwargs(
            params, renames=renames, allow_list=ALLOW_LIST, official=self._official, client="CohereClient"
        )

    def _v2_arguments(self, request: inference_pb2.GenerateRequest) -> dict[str, Any]:
        messages = [{k: v for k, v in m.items() if v is not None} for m in openai_messages(request.messages)]
        arguments: dict[str, Any] = {"model": self._model, "messages": messages, **self._kwargs(request.params)}
        if not self._official:
            if request.tools:
                arguments["tools"] = openai_tools(request.tools)
            mode = request.params.tool_choice.mode if request.params.HasField("tool_choice") else None
            if mode in (types_pb2.ToolChoice.REQUIRED, types_pb2.ToolChoice.NAMED):
                arguments["tool_choice"] = "REQUIRED"
            elif mode == types_pb2.ToolChoice.NONE:
                arguments["tool_choice"] = "NONE"
            if request.params.HasField("json_schema"):
                schema = struct_to_json(request.params.json_schema.schema)
                arguments["response_format"] = {"type": "json_object", "json_schema": schema}
        return arguments

    def _v1_arguments(self, request: inference_pb2.GenerateRequest) -> dict[str, Any]:
        if request.tools and not self._official:
            raise BackendError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"the cohere backend sends tools only to v2 models (names with 'command-a' or '2025'); "
                f"{self._model} uses v1",
            )
        messages: Sequence[types_pb2.ChatMessage] = request.messages
        last = len(messages) - 1
        while last >= 0 and messages[last].role != "user":
            last -= 1
        preamble = "\n\n".join(m.content for m in messages if m.role == "system")
        history = [
            {"role": V1_ROLES.get(m.role, "USER"), "message": m.content}
            for i, m in enumerate(messages)
            if m.role != "system" and i != last
        ]
        arguments: dict[str, Any] = {"model": self._model, "message": messages[last].content if last >= 0 else ""}
        if preamble:
            arguments["preamble"] = preamble
        if history:
            arguments["chat_history"] = history
        arguments.update(self._kwargs(request.params))
        return arguments


def v2_response(answer: Mapping[str, Any]) -> types_pb2.Response:
    message = answer.get("message") or {}
    content = message.get("content") or []
    response = types_pb2.Response(
        text="".join(c.get("text") or "" for c in content if c.get("type") == "text"),
        reasoning_text="".join(c.get("thinking") or "" for c in content if c.get("type") == "thinking"),
        finish_reason=_finish(answer.get("finish_reason")),
    )
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        arguments = function.get("arguments")
        response.tool_calls.add(
            id=call.get("id") or "",
            name=function.get("name") or "",
            arguments_json=arguments if isinstance(arguments, str) else json.dumps(arguments or {}, ensure_ascii=False),
        )
    _set_usage(response, answer.get("usage") or {})
    return response


def v1_response(answer: Mapping[str, Any]) -> types_pb2.Response:
    response = types_pb2.Response(text=answer.get("text") or "", finish_reason=_finish(answer.get("finish_reason")))
    for call in answer.get("tool_calls") or []:
        arguments = json.dumps(call.get("parameters") or {}, ensure_ascii=False)
        response.tool_calls.add(name=call.get("name") or "", arguments_json=arguments)
    _set_usage(response, answer.get("meta") or {})
    return response


def _finish(reason: Any) -> str:
    text = str(reason or "")
    return FINISH_REASONS.get(text, text.lower())


def _set_usage(response: types_pb2.Response, usage: Mapping[str, Any]) -> None:
    tokens = usage.get("tokens") or usage.get("billed_units") or {}
    response.usage.prompt_tokens = int(tokens.get("input_tokens") or 0)
    response.usage.completion_tokens = int(tokens.get("output_tokens") or 0)
    response.usage.total_tokens = response.usage.prompt_tokens + response.usage.completion_tokens
