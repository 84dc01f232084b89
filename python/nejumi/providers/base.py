"""The one interface every inference provider implements."""

from __future__ import annotations

from typing import Protocol

from nejumi_proto.v1 import types_pb2


class ProviderError(Exception):
    """A request failed. Transient failures (overload, outage, timeout) are retried."""

    def __init__(self, message: str, transient: bool, code: str = "UNKNOWN") -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code


class Provider(Protocol):
    # Stable identity of the model behind the provider; part of every request key.
    model_id: str

    async def generate(self, request_id: str, sample: types_pb2.Sample) -> types_pb2.Response:
        """Answers one sample's request or raises ProviderError."""
        ...

    async def close(self) -> None: ...
