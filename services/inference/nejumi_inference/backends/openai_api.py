"""Proxy backend: any OpenAI-compatible API (OpenAI, a remote vLLM server, OpenRouter, ...).

Chat requests go to the Chat Completions API, raw prompts to the (legacy) Completions API, and CountTokens to
the ``/tokenize`` endpoint that vLLM's OpenAI-compatible server offers next to ``/v1``.
"""

import asyncio
import dataclasses
import email.utils
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

import grpc

from nejumi_inference.backends.options import OptionsError, parse_options
from nejumi_inference.chat_format import (
    extra_fields,
    openai_messages,
    openai_tools,
    response_format,
    response_from_chat_completion,
    response_from_completion,
    sampling_fields,
    tool_choice,
)
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import inference_pb2, types_pb2

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"

# HTTP statuses of an upstream answer and the gRPC codes a client should see; other 5xx are UNAVAILABLE.
HTTP_TO_GRPC = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


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
        self._upstream = options.base_url or DEFAULT_BASE_URL
        self._client: Any = None
        # The HTTP client the openai package brings (httpx2), for /tokenize, which that package does not wrap.
        self._http: Any = None
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
        import httpx2
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
        self._http = httpx2.AsyncClient(
            headers={"Authorization": f"Bearer {api_key or 'EMPTY'}"}, timeout=self._options.timeout_s
        )

    async def generate(self, request: inference_pb2.GenerateRequest, timeout_s: float | None) -> types_pb2.Response:
        import openai

        timeout = self._options.timeout_s if timeout_s is None else min(timeout_s, self._options.timeout_s)
        try:
            async with self._slots:
                if request.prompt:
                    completion = await self._client.completions.create(
                        **self._completion_arguments(request), timeout=timeout
                    )
                    response = response_from_completion(completion.model_dump())
                else:
                    completion = await self._client.chat.completions.create(
                        **self._chat_arguments(request), timeout=timeout
                    )
                    response = response_from_chat_completion(completion.model_dump())
        except openai.APIError as error:
            raise _mapped_error(error, self._upstream) from None
        response.model = response.model or self._model
        return response

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        import httpx2

        body: dict[str, Any] = {"model": self._model}
        if request.prompt:
            body["prompt"] = request.prompt
        else:
            body["messages"] = openai_messages(request.messages)
            body["add_generation_prompt"] = True
            if request.tools:
                body["tools"] = openai_tools(request.tools)
        url = f"{_server_root(self._upstream)}/tokenize"
        try:
            async with self._slots:
                answer = await self._http.post(url, json=body)
        except httpx2.TimeoutException as error:
            raise BackendError(grpc.StatusCode.UNAVAILABLE, f"{url} did not answer in time: {error}") from None
        except httpx2.HTTPError as error:
            raise BackendError(grpc.StatusCode.UNAVAILABLE, f"cannot reach {url}: {error}") from None
        if answer.status_code in (404, 405):
            raise BackendError(
                grpc.StatusCode.UNIMPLEMENTED,
                f"{self._upstream} does not offer /tokenize (HTTP {answer.status_code} from {url}); token counts "
                "need an upstream that does, such as vLLM's OpenAI-compatible server",
            )
        payload = _json_or_none(answer)
        if answer.is_error:
            raise BackendError(
                _grpc_code(answer.status_code),
                f"{url} answered HTTP {answer.status_code}: {_api_message(payload, answer.text)}",
                _retry_after_s(answer.headers),
            )
        if not isinstance(payload, dict) or not isinstance(payload.get("count"), int):
            raise BackendError(grpc.StatusCode.INTERNAL, f"{url} answered without a token count: {answer.text[:200]}")
        return inference_pb2.CountTokensResponse(
            prompt_tokens=payload["count"], max_model_len=int(payload.get("max_model_len") or 0)
        )

    def info(self) -> inference_pb2.ModelInfoResponse:
        return inference_pb2.ModelInfoResponse(
            model=self._model,
            backend="openai",
            max_concurrency=self._options.max_concurrency,
            details={"base_url": self._upstream},
        )

    def down_reason(self) -> str | None:
        return None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._http is not None:
            await self._http.aclose()

    def _chat_arguments(self, request: inference_pb2.GenerateRequest) -> dict[str, Any]:
        arguments: dict[str, Any] = {"model": self._model, "messages": openai_messages(request.messages)}
        if request.tools:
            arguments["tools"] = openai_tools(request.tools)
        choice = tool_choice(request.params)
        if choice is not None:
            arguments["tool_choice"] = choice
        structured = response_format(request.params)
        if structured is not None:
            arguments["response_format"] = structured
        arguments.update(sampling_fields(request.params))
        extra = extra_fields(request.params)
        if extra:
            arguments["extra_body"] = extra
        return arguments

    def _completion_arguments(self, request: inference_pb2.GenerateRequest) -> dict[str, Any]:
        arguments: dict[str, Any] = {"model": self._model, "prompt": request.prompt}
        arguments.update(sampling_fields(request.params))
        extra = extra_fields(request.params)
        structured = response_format(request.params)
        if structured is not None:
            # Not a field of OpenAI's Completions API; vLLM's server accepts it there as on chat.
            extra["response_format"] = structured
        if extra:
            arguments["extra_body"] = extra
        return arguments


def _server_root(base_url: str) -> str:
    """The server's root URL: vLLM serves /tokenize beside /v1, not under it."""
    return base_url.rstrip("/").removesuffix("/v1")


def _mapped_error(error: Exception, upstream: str) -> BackendError:
    import openai

    if isinstance(error, openai.APITimeoutError):
        return BackendError(grpc.StatusCode.UNAVAILABLE, f"{upstream} did not answer in time: {error}")
    if isinstance(error, openai.APIConnectionError):
        return BackendError(grpc.StatusCode.UNAVAILABLE, f"cannot reach {upstream}: {error}")
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        message = _api_message(error.body, getattr(error, "message", None) or str(error))
        return BackendError(
            _grpc_code(status), f"{upstream} answered HTTP {status}: {message}", _retry_after_s(error.response.headers)
        )
    return BackendError(grpc.StatusCode.UNKNOWN, f"{upstream} failed: {type(error).__name__}: {error}")


def _grpc_code(http_status: int) -> grpc.StatusCode:
    if http_status in HTTP_TO_GRPC:
        return HTTP_TO_GRPC[http_status]
    return grpc.StatusCode.UNAVAILABLE if http_status >= 500 else grpc.StatusCode.UNKNOWN


def _retry_after_s(headers: Mapping[str, str]) -> float | None:
    """The wait an HTTP answer asks for: ``retry-after-ms`` (OpenAI's), else ``Retry-After`` in seconds or as a date."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(float(milliseconds) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(email.utils.parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _json_or_none(answer: Any) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def _api_message(body: Any, fallback: str) -> str:
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if body.get("message"):
            return str(body["message"])
    return fallback
