"""The interface every backend implements; the service knows nothing else about a backend."""

from typing import Protocol

from nejumi_proto.v1 import inference_pb2, types_pb2


class Backend(Protocol):
    """One model behind the service.

    ``generate`` raises ``BackendError`` for failures with a meaningful status; anything else becomes INTERNAL.
    Cancelling the coroutine must cancel the work where the backend can (it is how client disconnects propagate).
    """

    async def start(self) -> None:
        """Load the model (may take minutes); raise with an actionable message when it cannot."""

    async def generate(self, request: inference_pb2.GenerateRequest, timeout_s: float | None) -> types_pb2.Response:
        """Answer one validated request; ``timeout_s`` is what is left of the client's deadline."""

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        """Count a validated request's prompt tokens as ``generate`` would feed them to the model."""

    def info(self) -> inference_pb2.ModelInfoResponse:
        """Describe the served model."""

    def down_reason(self) -> str | None:
        """Why the backend can no longer serve (for example a dead engine), or None while it is healthy."""

    async def close(self) -> None:
        """Release the model and any child processes."""
