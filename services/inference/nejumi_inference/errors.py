"""The one error type backends raise for failures a client should see as a gRPC status."""

import grpc


class BackendError(Exception):
    """A failed request, with the gRPC status code it maps to and a message a user can act on."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
