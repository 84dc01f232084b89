"""In-process provider over one of the inference service's HTTP-API backends (OpenAI chat and Responses,
Azure, Anthropic, Bedrock, Gemini, Mistral, Cohere, any OpenAI-compatible server).

It runs the backend itself, so message and tool-call conversion, upstream's parameter allow-lists, structured
output, token counting and error mapping are the same code whether a model is reached through the gRPC
service or directly. An upstream's Retry-After reaches the request queue as `retry_after_s`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from nejumi.providers.grpc_provider import status_error
from nejumi_inference.backends import Backend, create_backend
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import inference_pb2, types_pb2


class BackendProvider:
    """The Provider for ``model`` through backend ``backend`` (a name of nejumi_inference.backends) built with
    ``config`` (its options: endpoint, key variable, upstream settings)."""

    def __init__(self, backend: str, model: str, config: Mapping[str, Any] | None = None) -> None:
        # The request queue owns retries and concurrency; the backend must not add its own.
        self._backend: Backend = create_backend(backend, model, config or {}, queue_owned=True)
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
