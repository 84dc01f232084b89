"""The one interface every inference provider implements.

A provider answers GenerateRequests (chat messages or a raw prompt, with tools and
typed generation parameters), counts a prompt's tokens and describes the model it
reaches. The request queue owns retries, concurrency and the store; a provider sends
one request once.
"""

from __future__ import annotations

from typing import Protocol

from nejumi_proto.v1 import inference_pb2, types_pb2


class ProviderError(Exception):
    """A request failed. Transient failures (overload, outage, timeout) are retried.

    `retry_after_s` carries the server's own wait (HTTP Retry-After) when it gave one.
    """

    def __init__(
        self, message: str, transient: bool, code: str = "UNKNOWN", retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code
        self.retry_after_s = retry_after_s


class Provider(Protocol):
    async def generate(self, request_id: str, request: inference_pb2.GenerateRequest) -> types_pb2.Response:
        """Answers one request or raises ProviderError."""
        ...

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        """The prompt's token count under the model's tokenizer, or ProviderError."""
        ...

    async def model_info(self) -> inference_pb2.ModelInfoResponse:
        """What serves the model (name, backend, context length, details)."""
        ...

    async def close(self) -> None: ...
