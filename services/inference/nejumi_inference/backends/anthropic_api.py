"""Anthropic Messages API backend (upstream's ``api: anthropic``), through the anthropic SDK.

The key is ``$ANTHROPIC_API_KEY``; ``model.thinking`` of the model config arrives as the ``thinking`` option.
Every SDK failure becomes a BackendError the request queue understands: rate limits (with Retry-After),
overload and 5xx, connection failures and timeouts are retried. Upstream re-raises them as openai errors it
cannot construct, so they end as unretried TypeErrors (spec §12.3); docs/compatibility.md records the change.
"""

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

import grpc

from nejumi_inference.backends import api_errors
from nejumi_inference.backends.anthropic_format import (
    DEFAULT_THINKING_BUDGET,
    anthropic_arguments,
    anthropic_messages,
    anthropic_tools,
    response_from_message,
)
from nejumi_inference.backends.openai_api import api_key_from_env
from nejumi_inference.backends.options import OptionsError, parse_options
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import inference_pb2, types_pb2

DEFAULT_BASE_URL = "https://api.anthropic.com"


@dataclasses.dataclass(frozen=True)
class AnthropicOptions:
    base_url: str | None = None  # None: api.anthropic.com
    api_key_env: str | list[str] = "ANTHROPIC_API_KEY"
    # model.thinking of the config: set (even empty) enables extended thinking; budget_tokens defaults to 16384.
    thinking: dict | None = None
    max_retries: int = 2  # the SDK's own retries, which upstream keeps
    timeout_s: float = 300.0
    max_concurrency: int = 64


class AnthropicBackend:
    def __init__(self, model: str, options: AnthropicOptions) -> None:
        self._model = model
        self._options = options
        self._upstream = options.base_url or DEFAULT_BASE_URL
        self._client: Any = None
        self._slots = asyncio.Semaphore(options.max_concurrency)

    @classmethod
    def from_config(cls, model: str, config: Mapping[str, Any]) -> "AnthropicBackend":
        options = parse_options(AnthropicOptions, config, "anthropic")
        if not model:
            raise OptionsError("the anthropic backend needs --model <model name as the API knows it>")
        if options.max_concurrency < 1:
            raise OptionsError("--backend-config: max_concurrency of the anthropic backend must be >= 1")
        return cls(model, options)

    async def start(self) -> None:
        from anthropic import AsyncAnthropic

        self._client = AsyncAnthropic(
            api_key=api_key_from_env(self._options.api_key_env),
            base_url=self._options.base_url,
            max_retries=self._options.max_retries,
            timeout=self._options.timeout_s,
        )

    async def generate(self, request: inference_pb2.GenerateRequest, timeout_s: float | None) -> types_pb2.Response:
        if request.prompt:
            raise BackendError(
                grpc.StatusCode.INVALID_ARGUMENT, "the anthropic backend answers chat messages, not raw prompts"
            )
        timeout = self._options.timeout_s if timeout_s is None else min(timeout_s, self._options.timeout_s)
        arguments = anthropic_arguments(self._model, request, self._options.thinking)
        async with self._slots:
            message = await self._call(self._client.messages.create(**arguments, timeout=timeout))
        response = response_from_message(message.model_dump())
        response.model = response.model or self._model
        return response

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        if request.prompt:
            raise BackendError(
                grpc.StatusCode.INVALID_ARGUMENT, "the anthropic backend counts chat messages, not raw prompts"
            )
        system, messages = anthropic_messages(request.messages)
        arguments: dict[str, Any] = {"model": self._model, "messages": messages}
        if system is not None:
            arguments["system"] = system
        if request.tools:
            arguments["tools"] = anthropic_tools(request.tools)
        async with self._slots:
            counted = await self._call(self._client.messages.count_tokens(**arguments))
        return inference_pb2.CountTokensResponse(prompt_tokens=int(counted.input_tokens))

    async def _call(self, pending: Any) -> Any:
        import anthropic

        try:
            return await pending
        except anthropic.APITimeoutError as error:
            raise api_errors.timeout_error(self._upstream, error) from None
        except anthropic.APIConnectionError as error:
            raise api_errors.connection_error(self._upstream, error) from None
        except anthropic.APIStatusError as error:
            raise api_errors.status_error(
                self._upstream, error.status_code, error.body, error.response.headers, error.message
            ) from None

    def info(self) -> inference_pb2.ModelInfoResponse:
        details = {"base_url": self._upstream}
        if self._options.thinking is not None:
            details["thinking_budget"] = str(self._options.thinking.get("budget_tokens") or DEFAULT_THINKING_BUDGET)
        return inference_pb2.ModelInfoResponse(
            model=self._model, backend="anthropic", max_concurrency=self._options.max_concurrency, details=details
        )

    def down_reason(self) -> str | None:
        return None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
