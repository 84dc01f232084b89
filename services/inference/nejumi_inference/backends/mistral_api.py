"""Mistral backend (api ``mistral``): La Plateforme's chat completions through the mistralai SDK, keyed by
``$MISTRAL_API_KEY``.

Under ``compatibility: official`` it sends the keys of upstream's MistralClient allow-list (``seed`` renamed
``random_seed``, spec §12.2); ``corrected`` sends every configured key. Tool calls travel both ways; the thinking
chunks of reasoning models (Magistral) become the reasoning text, apart from the answer.
"""

import dataclasses
import json
import logging
import os
from collections.abc import Mapping
from typing import Any

import grpc

from nejumi_inference.backends import api_errors
from nejumi_inference.backends.options import OptionsError, parse_options
from nejumi_inference.backends.upstream_params import check_mode
from nejumi_inference.backends.vendor_sdk import request_timeout, upstream_kwargs
from nejumi_inference.chat_format import (
    openai_messages,
    openai_tools,
    response_format,
    response_from_chat_completion,
    tool_choice,
)
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import inference_pb2, types_pb2

log = logging.getLogger(__name__)

# MistralClient's allow-list after its rename.
ALLOW_LIST = frozenset(
    {"temperature", "top_p", "max_tokens", "stream", "stop", "random_seed", "response_format", "tools", "tool_choice"}
)
RENAMES = {"seed": "random_seed"}


@dataclasses.dataclass(frozen=True)
class MistralOptions:
    compatibility: str = "official"  # official: upstream's allow-list; corrected: every generator key is sent
    api_key_env: str = "MISTRAL_API_KEY"
    server_url: str | None = None  # None: https://api.mistral.ai (tests point it at a local server)
    timeout_s: float = 300.0  # per request, unless the client's deadline is sooner


class MistralBackend:
    def __init__(self, model: str, options: MistralOptions) -> None:
        self._model = model
        self._options = options
        self._official = options.compatibility == "official"
        self._client: Any = None
        self._http: Any = None

    @classmethod
    def from_config(cls, model: str, config: Mapping[str, Any]) -> "MistralBackend":
        # base_url is what other API backends call their endpoint.
        options = parse_options(MistralOptions, config, "mistral", aliases={"base_url": "server_url"})
        if not model:
            raise OptionsError("the mistral backend needs --model <Mistral model name, e.g. mistral-medium-2508>")
        check_mode(options.compatibility, "mistral")
        return cls(model, options)

    async def start(self) -> None:
        import httpx2
        from mistralai.client import Mistral

        api_key = os.environ.get(self._options.api_key_env)
        if not api_key:
            raise BackendError(
                grpc.StatusCode.UNAUTHENTICATED, f"the mistral backend needs an API key in ${self._options.api_key_env}"
            )
        self._http = httpx2.AsyncClient(follow_redirects=True)
        # No retry_config: the SDK then does not retry, and the request queue is the only retrier.
        self._client = Mistral(api_key=api_key, server_url=self._options.server_url, async_client=self._http)

    async def generate(self, request: inference_pb2.GenerateRequest, timeout_s: float | None) -> types_pb2.Response:
        import httpx2
        from mistralai.client import errors

        if request.prompt:
            raise BackendError(
                grpc.StatusCode.INVALID_ARGUMENT, "the mistral backend answers chat messages, not raw prompts"
            )
        arguments = self._arguments(request)
        timeout_ms = int(request_timeout(self._options.timeout_s, timeout_s) * 1000)
        try:
            answer = await self._client.chat.complete_async(**arguments, timeout_ms=timeout_ms)
        except errors.MistralError as error:
            body = _json_or_text(error.body)
            raise api_errors.status_error(
                self._upstream(), error.status_code, body, error.headers, error.body
            ) from None
        except httpx2.TimeoutException as error:
            raise api_errors.timeout_error(self._upstream(), error) from None
        except (httpx2.HTTPError, errors.NoResponseError) as error:
            raise api_errors.connection_error(self._upstream(), error) from None
        except TypeError as error:  # a generator key the SDK does not take (corrected compatibility sends all)
            raise BackendError(grpc.StatusCode.INVALID_ARGUMENT, f"mistral backend: {error}") from None
        response = mistral_response(answer.model_dump(mode="json"))
        response.model = response.model or self._model
        return response

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        raise BackendError(grpc.StatusCode.UNIMPLEMENTED, "the mistral backend does not count tokens")

    def info(self) -> inference_pb2.ModelInfoResponse:
        return inference_pb2.ModelInfoResponse(
            model=self._model,
            backend="mistral",
            details={"server_url": self._upstream(), "compatibility": self._options.compatibility},
        )

    def down_reason(self) -> str | None:
        return None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    def _upstream(self) -> str:
        return self._options.server_url or "https://api.mistral.ai"

    def _arguments(self, request: inference_pb2.GenerateRequest) -> dict[str, Any]:
        arguments: dict[str, Any] = {"model": self._model, "messages": openai_messages(request.messages)}
        if request.tools:
            arguments["tools"] = openai_tools(request.tools)
        choice = tool_choice(request.params)
        if choice is not None:
            arguments["tool_choice"] = choice
        structured = response_format(request.params)
        if structured is not None:
            arguments["response_format"] = structured
        arguments.update(
            upstream_kwargs(
                request.params, renames=RENAMES, allow_list=ALLOW_LIST, official=self._official, client="MistralClient"
            )
        )
        if arguments.pop("stream", False):
            log.debug("mistral: stream is not used; the service needs the whole answer")
        return arguments


def mistral_response(completion: Mapping[str, Any]) -> types_pb2.Response:
    """A chat completion whose content may be chunks: text chunks are the answer, thinking chunks the reasoning."""
    choices = list(completion.get("choices") or [])
    if choices and isinstance((choices[0].get("message") or {}).get("content"), list):
        message = dict(choices[0]["message"])
        texts, thoughts = [], []
        for chunk in message["content"]:
            if chunk.get("type") == "thinking":
                thoughts += [part.get("text") or "" for part in chunk.get("thinking") or []]
            elif chunk.get("type") == "text":
                texts.append(chunk.get("text") or "")
        message["content"], message["reasoning_content"] = "".join(texts), "".join(thoughts)
        choices[0] = {**choices[0], "message": message}
    return response_from_chat_completion({**completion, "choices": choices})


def _json_or_text(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body
