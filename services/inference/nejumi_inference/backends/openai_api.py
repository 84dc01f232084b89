"""Proxy backend: any OpenAI-compatible API (OpenAI, a remote vLLM server, OpenRouter, ...).

Chat requests go to the Chat Completions API, raw prompts to the (legacy) Completions API, and CountTokens to
the ``/tokenize`` endpoint that vLLM's OpenAI-compatible server offers next to ``/v1``.

Under ``compatibility: official`` it sends what upstream's OpenAIClient sends (spec §12.2): the keys of its
allow-list, ``include_reasoning`` as OpenRouter's ``reasoning``; ``corrected`` sends every configured key. In
both modes a context overflow is asked again once with the room left (upstream's retry) and DashScope's
content-inspection rejection is answered with upstream's placeholder text (§12.3).
"""

import asyncio
import dataclasses
import logging
import os
from collections.abc import Mapping
from typing import Any, ClassVar

import grpc

from nejumi_inference.backends import api_errors
from nejumi_inference.backends.options import OptionsError, parse_options
from nejumi_inference.backends.upstream_params import OPENAI_CHAT, allowed, check_mode, request_extras
from nejumi_inference.chat_format import (
    body_fields,
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


@dataclasses.dataclass(frozen=True)
class OpenAIOptions:
    base_url: str | None = None  # None: api.openai.com
    # The key is read from the first of these variables that is set; "EMPTY" when none is.
    api_key_env: str | list[str] = "OPENAI_API_KEY"
    compatibility: str = "official"  # official: upstream's allow-list; corrected: every configured key is sent
    max_retries: int = 2  # the openai package's own retries (with backoff) before an error reaches the client
    timeout_s: float = 300.0  # per request, unless the client's deadline is sooner
    max_concurrency: int = 64  # requests sent upstream at once; the rest wait in the server's queue


class OpenAIBackend:
    # The keyword arguments upstream's client forwards, and its name in messages.
    allow_list: ClassVar[frozenset[str]] = OPENAI_CHAT
    client_name: ClassVar[str] = "OpenAIClient"
    name: ClassVar[str] = "openai"
    options_type: ClassVar[type[OpenAIOptions]] = OpenAIOptions

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
        options = parse_options(cls.options_type, config, cls.name)
        if not model:
            raise OptionsError(f"the {cls.name} backend needs --model <model name as the API knows it>")
        if options.max_concurrency < 1:
            raise OptionsError(f"--backend-config: max_concurrency of the {cls.name} backend must be >= 1")
        check_mode(options.compatibility, cls.name)
        return cls(model, options)

    async def start(self) -> None:
        import httpx2

        api_key = api_key_from_env(self._options.api_key_env)
        self._client = self._new_client(api_key)
        self._http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {api_key}"}, timeout=self._options.timeout_s)

    def _new_client(self, api_key: str) -> Any:
        from openai import AsyncOpenAI

        return AsyncOpenAI(
            base_url=self._options.base_url,
            api_key=api_key,
            max_retries=self._options.max_retries,
            timeout=self._options.timeout_s,
        )

    async def generate(self, request: inference_pb2.GenerateRequest, timeout_s: float | None) -> types_pb2.Response:
        import openai

        timeout = self._options.timeout_s if timeout_s is None else min(timeout_s, self._options.timeout_s)
        arguments = self._completion_arguments(request) if request.prompt else self._chat_arguments(request)
        async with self._slots:
            try:
                response = await self._send(request, arguments, timeout_s=timeout)
            except openai.BadRequestError as error:
                message = api_errors.api_message(error.body, error.message)
                if api_errors.is_content_filtered(error.status_code, message):
                    return types_pb2.Response(
                        text=api_errors.FILTERED_TEXT, finish_reason="content_filter", model=self._model
                    )
                room = api_errors.overflow_max_tokens(message)
                if room is None:
                    raise mapped_error(error, self._upstream) from None
                # Upstream's one retry: the same request with the room the context leaves for the answer.
                log.info("context overflow; asking again once with max_tokens=%d", room)
                try:
                    response = await self._send(request, {**arguments, "max_tokens": room}, timeout_s=timeout)
                except openai.APIError as again:
                    raise mapped_error(again, self._upstream) from None
            except openai.APIError as error:
                raise mapped_error(error, self._upstream) from None
        response.model = response.model or self._model
        return response

    async def _send(
        self, request: inference_pb2.GenerateRequest, arguments: dict[str, Any], *, timeout_s: float
    ) -> types_pb2.Response:
        if request.prompt:
            completion = await self._client.completions.create(**arguments, timeout=timeout_s)
            return response_from_completion(completion.model_dump())
        completion = await self._client.chat.completions.create(**arguments, timeout=timeout_s)
        return self._answer(response_from_chat_completion(completion.model_dump()))

    def _answer(self, response: types_pb2.Response) -> types_pb2.Response:
        """The chat answer as this client returns it (the Azure client keeps only the text)."""
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
            raise api_errors.timeout_error(url, error) from None
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
            raise api_errors.status_error(url, answer.status_code, payload, answer.headers, answer.text)
        if not isinstance(payload, dict) or not isinstance(payload.get("count"), int):
            raise BackendError(grpc.StatusCode.INTERNAL, f"{url} answered without a token count: {answer.text[:200]}")
        return inference_pb2.CountTokensResponse(
            prompt_tokens=payload["count"], max_model_len=int(payload.get("max_model_len") or 0)
        )

    def info(self) -> inference_pb2.ModelInfoResponse:
        return inference_pb2.ModelInfoResponse(
            model=self._model,
            backend=self.name,
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
        extra = self._extra_body(request.params)
        if extra:
            arguments["extra_body"] = extra
        return arguments

    def _extra_body(self, params: types_pb2.GenerationParams) -> dict[str, Any]:
        """The configured extras as body fields, filtered by upstream's allow-list under official compatibility."""
        extras = request_extras(params)
        include = extras.pop("include_reasoning", None)
        if self._options.compatibility == "official":
            extras = allowed(extras, self.allow_list, self.client_name)
        fields = body_fields(extras)
        if isinstance(include, bool):
            # Upstream turns it into OpenRouter's reasoning switch.
            fields["reasoning"] = {} if include else {"exclude": True}
        return fields

    def _completion_arguments(self, request: inference_pb2.GenerateRequest) -> dict[str, Any]:
        arguments: dict[str, Any] = {"model": self._model, "prompt": request.prompt}
        arguments.update(sampling_fields(request.params))
        extra = self._extra_body(request.params)
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


def api_key_from_env(names: str | list[str]) -> str:
    """The first set variable of ``names``; "EMPTY" (what keyless local servers accept) when none is."""
    candidates = [names] if isinstance(names, str) else list(names)
    for name in candidates:
        if os.environ.get(name):
            return os.environ[name]
    log.warning("none of $%s is set; sending the API key 'EMPTY'", ", $".join(candidates))
    return "EMPTY"


def mapped_error(error: Exception, upstream: str) -> BackendError:
    """An openai-package error as a BackendError (also used by the Responses and Azure backends)."""
    import openai

    if isinstance(error, openai.APITimeoutError):
        return api_errors.timeout_error(upstream, error)
    if isinstance(error, openai.APIConnectionError):
        return api_errors.connection_error(upstream, error)
    if isinstance(error, openai.APIStatusError):
        fallback = getattr(error, "message", None) or str(error)
        return api_errors.status_error(upstream, error.status_code, error.body, error.response.headers, fallback)
    return BackendError(grpc.StatusCode.UNKNOWN, f"{upstream} failed: {type(error).__name__}: {error}")


def _json_or_none(answer: Any) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None
