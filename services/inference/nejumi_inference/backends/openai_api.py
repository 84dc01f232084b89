"""Proxy backend: any OpenAI-compatible chat-completions API (OpenAI, a remote vLLM server, OpenRouter, ...)."""

import asyncio
import dataclasses
import logging
import os
from collections.abc import Mapping
from typing import Any

import grpc

from nejumi_inference.backends.options import OptionsError, parse_options
from nejumi_inference.chat_format import (
    extra_fields,
    openai_messages,
    openai_tools,
    response_from_chat_completion,
    sampling_fields,
)
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import inference_pb2, types_pb2

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class OpenAIOptions:
    base_url: str | None = None  # None: api.openai.com
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this variable; "EMPTY" when it is unset
    max_retries: int = 2  # the openai package's own retries (with backoff) before an error reaches the client
    timeout_s: float = 300.0  # per request, unless the client's deadline is sooner
    max_concurrency: int = 64  # requests sent upstream at once; the rest wait in the server's queue


class OpenAIBackend:
    def __init__(self, model: str, options: OpenAIOptions) -> None:
        self._model = model
        self._options = options
        self._client: Any = None
        self._slots = asyncio.Semaphore(options.max_concurrency)

    @classmethod
    def from_config(cls, model: str, config: Mapping[str, Any]) -> "OpenAIBackend":
        options = parse_options(OpenAIOptions, config, "openai")
        if not model:
            raise OptionsError("the openai backend needs --model <model name as the API knows it>")
        if options.max_concurrency < 1:
            raise OptionsError("--backend-config: max_concurrency of the openai backend must be >= 1")
        return cls(model, options)

    async def start(self) -> None:
        from openai import AsyncOpenAI

        api_key = os.environ.get(self._options.api_key_env)
        if not api_key:
            log.warning("$%s is not set; sending the API key 'EMPTY'", self._options.api_key_env)
        self._client = AsyncOpenAI(
            base_url=self._options.base_url,
            api_key=api_key or "EMPTY",
            max_retries=self._options.max_retries,
            timeout=self._options.timeout_s,
        )

    async def generate(self, request: inference_pb2.GenerateRequest, timeout_s: float | None) -> types_pb2.Response:
        import openai

        arguments: dict[str, Any] = {"model": self._model, "messages": openai_messages(request.messages)}
        if request.tools:
            arguments["tools"] = openai_tools(request.tools)
        arguments.update(sampling_fields(request.params))
        extra = extra_fields(request.params)
        if extra:
            arguments["extra_body"] = extra
        timeout = self._options.timeout_s if timeout_s is None else min(timeout_s, self._options.timeout_s)
        try:
            async with self._slots:
                completion = await self._client.chat.completions.create(**arguments, timeout=timeout)
        except openai.APIError as error:
            raise _mapped_error(error, self._options.base_url or "api.openai.com") from None
        response = response_from_chat_completion(completion.model_dump())
        response.model = response.model or self._model
        return response

    def info(self) -> inference_pb2.ModelInfoResponse:
        return inference_pb2.ModelInfoResponse(
            model=self._model,
            backend="openai",
            max_concurrency=self._options.max_concurrency,
            details={"base_url": self._options.base_url or "https://api.openai.com/v1"},
        )

    def down_reason(self) -> str | None:
        return None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def _mapped_error(error: Exception, upstream: str) -> BackendError:
    import openai

    if isinstance(error, openai.APITimeoutError):
        return BackendError(grpc.StatusCode.UNAVAILABLE, f"{upstream} did not answer in time: {error}")
    if isinstance(error, openai.APIConnectionError):
        return BackendError(grpc.StatusCode.UNAVAILABLE, f"cannot reach {upstream}: {error}")
    status_codes: list[tuple[type[Exception], grpc.StatusCode]] = [
        (openai.RateLimitError, grpc.StatusCode.RESOURCE_EXHAUSTED),
        (openai.InternalServerError, grpc.StatusCode.UNAVAILABLE),
        (openai.BadRequestError, grpc.StatusCode.INVALID_ARGUMENT),
        (openai.UnprocessableEntityError, grpc.StatusCode.INVALID_ARGUMENT),
        (openai.AuthenticationError, grpc.StatusCode.UNAUTHENTICATED),
        (openai.PermissionDeniedError, grpc.StatusCode.PERMISSION_DENIED),
        (openai.NotFoundError, grpc.StatusCode.NOT_FOUND),
    ]
    for error_type, code in status_codes:
        if isinstance(error, error_type):
            return BackendError(code, f"{upstream} answered {_status(error)}: {_api_message(error)}")
    return BackendError(grpc.StatusCode.UNKNOWN, f"{upstream} failed: {_status(error)}: {_api_message(error)}")


def _status(error: Exception) -> str:
    code = getattr(error, "status_code", None)
    return f"HTTP {code}" if code else type(error).__name__


def _api_message(error: Exception) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if body.get("message"):
            return str(body["message"])
    return getattr(error, "message", None) or str(error)
