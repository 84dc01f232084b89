"""How HTTP-API failures become BackendErrors, the same way for every vendor SDK.

The request queue retries the transient gRPC codes (RESOURCE_EXHAUSTED, UNAVAILABLE, DEADLINE_EXCEEDED, ...)
and gives up at once on the others, which is the split upstream's retry list makes (spec §1.3, §12.3):
rate limits, 5xx, connection failures and timeouts are retried; a rejected request (4xx) is not.
"""

import email.utils
import re
import time
from collections.abc import Mapping
from typing import Any

import grpc

from nejumi_inference.errors import BackendError

# HTTP statuses of an upstream answer and the gRPC codes a client should see; other 5xx are UNAVAILABLE.
HTTP_TO_GRPC = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    408: grpc.StatusCode.DEADLINE_EXCEEDED,
    413: grpc.StatusCode.INVALID_ARGUMENT,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
}

# vLLM's and OpenAI's wording of a prompt plus max_tokens longer than the context (upstream's regex, §12.3).
CONTEXT_OVERFLOW = re.compile(
    r"maximum context length is ([0-9]+) tokens. However, you requested [0-9]+ tokens "
    r"\(([0-9]+) in the messages, ([0-9]+) in the completion\)"
)

# The text upstream answers with when DashScope's content inspection rejects a request (§12.3).
FILTERED_TEXT = "[Content filtered by API provider]"


def grpc_code(http_status: int) -> grpc.StatusCode:
    if http_status in HTTP_TO_GRPC:
        return HTTP_TO_GRPC[http_status]
    return grpc.StatusCode.UNAVAILABLE if http_status >= 500 else grpc.StatusCode.UNKNOWN


def retry_after_s(headers: Mapping[str, str]) -> float | None:
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


def api_message(body: Any, fallback: str) -> str:
    """The human part of a vendor's JSON error body (``{"error": {"message": ...}}`` and its variants)."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if body.get("message"):
            return str(body["message"])
    return fallback


def status_error(upstream: str, status: int, body: Any, headers: Mapping[str, str], fallback: str) -> BackendError:
    """An HTTP error answer as a BackendError, carrying the upstream's Retry-After."""
    return BackendError(
        grpc_code(status),
        f"{upstream} answered HTTP {status}: {api_message(body, fallback)}",
        retry_after_s(headers),
    )


def timeout_error(upstream: str, error: Exception) -> BackendError:
    return BackendError(grpc.StatusCode.DEADLINE_EXCEEDED, f"{upstream} did not answer in time: {error}")


def connection_error(upstream: str, error: Exception) -> BackendError:
    return BackendError(grpc.StatusCode.UNAVAILABLE, f"cannot reach {upstream}: {error}")


def overflow_max_tokens(message: str) -> int | None:
    """The ``max_tokens`` upstream re-sends once after a context overflow (context minus prompt), or None when
    the message is no overflow or no room is left for an answer."""
    match = CONTEXT_OVERFLOW.search(message)
    if match is None:
        return None
    room = int(match.group(1)) - int(match.group(2))
    return room if room > 0 else None


def is_content_filtered(status: int, message: str) -> bool:
    """DashScope's content-inspection rejection, which upstream answers with FILTERED_TEXT instead of failing."""
    return status == 400 and ("data_inspection_failed" in message or "inappropriate content" in message)
