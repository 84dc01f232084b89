"""Client of the nejumi gRPC inference service (services/inference).

All requests share one bidirectional `Generate` stream, so thousands can be in
flight over one connection; results come back in completion order and are matched
to their callers by request_id. If the stream breaks, every pending request fails
with a transient error (the request queue retries it) and the next request opens a
fresh stream. CountTokens and ModelInfo are unary calls; their failures carry the
upstream's Retry-After (trailing metadata `retry-after`) when the service got one.
A stream's results have no field for it, so generate errors carry none.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc

from nejumi.providers.base import ProviderError
from nejumi_inference.errors import RETRY_AFTER_KEY
from nejumi_proto.v1 import inference_pb2, inference_pb2_grpc, types_pb2

TRANSIENT_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.CANCELLED,
    }
)
_CODES_BY_VALUE = {code.value[0]: code for code in grpc.StatusCode}
_MAX_MESSAGE = 64 * 1024 * 1024


def status_error(code: grpc.StatusCode, message: str, retry_after_s: float | None = None) -> ProviderError:
    return ProviderError(
        f"{code.name}: {message}", transient=code in TRANSIENT_CODES, code=code.name, retry_after_s=retry_after_s
    )


def _rpc_error(error: grpc.aio.AioRpcError, fallback: str) -> ProviderError:
    retry_after_s = None
    for key, value in error.trailing_metadata() or ():
        if key == RETRY_AFTER_KEY:
            with contextlib.suppress(TypeError, ValueError):
                retry_after_s = float(value)
    return status_error(error.code(), error.details() or fallback, retry_after_s)


class _Stream:
    """One open Generate stream and the callers waiting on it."""

    def __init__(
        self,
        stub: inference_pb2_grpc.InferenceStub,
        metadata: tuple[tuple[str, str], ...],
    ) -> None:
        self.outbox: asyncio.Queue[inference_pb2.GenerateRequest | None] = asyncio.Queue()
        self.pending: dict[str, asyncio.Future[types_pb2.Response]] = {}
        self.call = stub.Generate(self._requests(), metadata=metadata)
        self.reader = asyncio.ensure_future(self._read())

    async def _requests(self) -> AsyncIterator[inference_pb2.GenerateRequest]:
        while True:
            request = await self.outbox.get()
            if request is None:
                return
            yield request

    async def _read(self) -> None:
        try:
            async for result in self.call:
                future = self.pending.pop(result.request_id, None)
                if future is None or future.done():
                    continue
                if result.error_code:
                    code = _CODES_BY_VALUE.get(result.error_code, grpc.StatusCode.UNKNOWN)
                    retry_after_s = result.retry_after_s if result.HasField("retry_after_s") else None
                    future.set_exception(status_error(code, result.error_message, retry_after_s))
                else:
                    future.set_result(result.response)
            self._fail_all(status_error(grpc.StatusCode.UNAVAILABLE, "the server closed the stream"))
        except grpc.aio.AioRpcError as err:
            self._fail_all(_rpc_error(err, "stream failed"))
        except asyncio.CancelledError:
            self._fail_all(status_error(grpc.StatusCode.CANCELLED, "client closed"))
            raise

    def _fail_all(self, error: ProviderError) -> None:
        for future in self.pending.values():
            if not future.done():
                future.set_exception(error)
        self.pending.clear()

    @property
    def alive(self) -> bool:
        return not self.reader.done()

    async def close(self) -> None:
        self.outbox.put_nowait(None)
        self.call.cancel()
        await asyncio.gather(self.reader, return_exceptions=True)


class GrpcProvider:
    """The Provider over a nejumi inference service at ``target`` (host:port); ``token`` is its shared token."""

    def __init__(self, target: str, *, token: str | None = None) -> None:
        self.target = target
        self._channel = grpc.aio.insecure_channel(
            target,
            options=[
                ("grpc.max_send_message_length", _MAX_MESSAGE),
                ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ],
        )
        self._stub = inference_pb2_grpc.InferenceStub(self._channel)
        self._metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),) if token else ()
        self._stream: _Stream | None = None

    async def generate(self, request_id: str, request: inference_pb2.GenerateRequest) -> types_pb2.Response:
        if self._stream is None or not self._stream.alive:
            self._stream = _Stream(self._stub, self._metadata)
        stream = self._stream
        future: asyncio.Future[types_pb2.Response] = asyncio.get_running_loop().create_future()
        stream.pending[request_id] = future
        message = inference_pb2.GenerateRequest()
        message.CopyFrom(request)
        message.request_id = request_id  # the stream matches results by it
        stream.outbox.put_nowait(message)
        try:
            return await future
        finally:
            stream.pending.pop(request_id, None)

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        try:
            response: inference_pb2.CountTokensResponse = await self._stub.CountTokens(request, metadata=self._metadata)
        except grpc.aio.AioRpcError as error:
            raise _rpc_error(error, "CountTokens failed") from None
        return response

    async def model_info(self) -> inference_pb2.ModelInfoResponse:
        try:
            response: inference_pb2.ModelInfoResponse = await self._stub.ModelInfo(
                inference_pb2.ModelInfoRequest(), metadata=self._metadata
            )
        except grpc.aio.AioRpcError as error:
            raise _rpc_error(error, "ModelInfo failed") from None
        return response

    async def close(self) -> None:
        if self._stream is not None:
            await self._stream.close()
        await self._channel.close()
