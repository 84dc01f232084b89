"""Direct OpenAI-compatible HTTP provider (API models, an external `vllm serve`).

It runs the inference service's own OpenAI backend in-process, so message and
tool-call conversion, structured output, raw completions, token counting and error
mapping are the same code whether a model is reached through the gRPC service or
directly. An upstream's Retry-After reaches the request queue as `retry_after_s`.
"""

from __future__ import annotations

import asyncio

from nejumi.providers.grpc_provider import status_error
from nejumi_inference.backends import Backend, create_backend
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import inference_pb2, types_pb2

# The request queue owns retries and concurrency; the backend must not add its own.
_BACKEND_OPTIONS = {"max_retries": 0, "max_concurrency": 1 << 16}


class OpenAIProvider:
    """The Provider for ``model`` at ``base_url`` (None: api.openai.com), its key read from ``$api_key_env``
    (None: OPENAI_API_KEY)."""

    def __init__(self, model: str, *, base_url: str | None = None, api_key_env: str | None = None) -> None:
        options: dict[str, object] = dict(_BACKEND_OPTIONS)
        if base_url:
            options["base_url"] = base_url
        if api_key_env:
            options["api_key_env"] = api_key_env
        self._backend: Backend = create_backend("openai", model, options)
        self._started: asyncio.Task[None] | None = None

    async def generate(self, request_id: str, request: inference_pb2.GenerateRequest) -> types_pb2.Response:
        await self._start()
        try:
            return await self._backend.generate(request, None)
        except BackendError as error:
            raise status_error(error.code, error.message, error.retry_after_s) from None

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        await self._start()
        try:
            return await self._backend.count_tokens(request)
        except BackendError as error:
            raise status_error(error.code, error.message, error.retry_after_s) from None

    async def model_info(self) -> inference_pb2.ModelInfoResponse:
        return self._backend.info()

    async def close(self) -> None:
        if self._started is not None:
            await asyncio.gather(self._started, return_exceptions=True)
        await self._backend.close()

    async def _start(self) -> None:
        # One start for all the first concurrent requests; shielded so a cancelled request does not cancel it.
        if self._started is None:
            self._started = asyncio.ensure_future(self._backend.start())
        await asyncio.shield(self._started)
