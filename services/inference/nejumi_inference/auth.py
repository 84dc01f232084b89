"""Shared-token authentication: every RPC must carry ``authorization: Bearer <token>`` when a token is set."""

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` only accepts connections from this machine."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class TokenInterceptor(grpc.aio.ServerInterceptor):
    """Answers UNAUTHENTICATED to any call whose metadata lacks the right bearer token."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        presented = _authorization(handler_call_details.invocation_metadata)
        if presented is not None and hmac.compare_digest(presented.encode(), self._expected):
            return await continuation(handler_call_details)
        reason = (
            "missing metadata 'authorization: Bearer <token>'; this server requires the shared token"
            if presented is None
            else "wrong token in metadata 'authorization'"
        )
        handler = await continuation(handler_call_details)
        return _denying_handler(handler, reason)


def _authorization(metadata: Any) -> str | None:
    for key, value in metadata or ():
        if key.lower() == "authorization":
            return value.decode() if isinstance(value, bytes) else str(value)
    return None


def _denying_handler(handler: grpc.RpcMethodHandler | None, reason: str) -> grpc.RpcMethodHandler:
    async def deny_unary(_request: Any, context: grpc.aio.ServicerContext) -> None:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, reason)

    async def deny_stream(_request_iterator: Any, context: grpc.aio.ServicerContext) -> None:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, reason)

    if handler is not None and handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(deny_stream)
    if handler is not None and handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(deny_stream)
    if handler is not None and handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(deny_unary)
    return grpc.unary_unary_rpc_method_handler(deny_unary)
