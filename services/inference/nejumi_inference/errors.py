"""The one error type backends raise for failures a client should see as a gRPC status."""

import grpc

# Trailing metadata key of a failed unary call whose upstream asked for a pause (HTTP Retry-After), in seconds.
RETRY_AFTER_KEY = "retry-after"


class BackendError(Exception):
    """A failed request, with the gRPC status code it maps to and a message a user can act on.

    ``retry_after_s`` is the wait an upstream API asked for (HTTP Retry-After), when it gave one.
    """

    def __init__(self, code: grpc.StatusCode, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after_s = retry_after_s
