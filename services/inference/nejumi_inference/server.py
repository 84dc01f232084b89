"""The grpc.aio server around InferenceService: binding, the token check, model loading and shutdown."""

import logging
import os
from pathlib import Path

import grpc

from nejumi_inference.admission import Admission
from nejumi_inference.auth import TokenInterceptor
from nejumi_inference.backends import Backend
from nejumi_inference.service import InferenceService
from nejumi_proto.v1 import inference_pb2_grpc

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # long prompts and answers stay well below this


class ServerError(RuntimeError):
    """The server could not start (for example the port is taken)."""


class InferenceServer:
    """Binds first (Health answers STARTING), then loads the model with ``load`` (Health answers SERVING)."""

    def __init__(
        self, backend: Backend, backend_name: str, *, host: str, port: int, max_queue: int, token: str | None
    ) -> None:
        self.backend = backend
        self.host = host
        self.requested_port = port
        self.token = token
        self.admission = Admission(max_queue)
        self.service = InferenceService(backend, backend_name, self.admission)
        self._server: grpc.aio.Server | None = None

    async def start(self) -> int:
        """Start answering RPCs and return the bound port."""
        interceptors = [TokenInterceptor(self.token)] if self.token else []
        server = grpc.aio.server(
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ],
        )
        inference_pb2_grpc.add_InferenceServicer_to_server(self.service, server)
        address = f"[{self.host}]:{self.requested_port}" if ":" in self.host else f"{self.host}:{self.requested_port}"
        try:
            port = server.add_insecure_port(address)
        except RuntimeError as error:
            raise ServerError(f"cannot listen on {address}: {error} (is the port in use?)") from error
        if not port:
            raise ServerError(f"cannot listen on {address} (is the port in use?)")
        await server.start()
        self._server = server
        return port

    async def load(self) -> None:
        """Load the model; on failure Health answers DOWN and the error propagates."""
        try:
            await self.backend.start()
        except BaseException as error:
            self.service.mark_down(str(error) or type(error).__name__)
            raise
        self.service.mark_serving()

    async def stop(self, grace_s: float) -> None:
        """Stop taking RPCs, give running ones ``grace_s`` seconds, cancel the rest, then release the model."""
        if self._server is not None:
            await self._server.stop(grace_s)
        await self.backend.close()


def write_port_file(path: Path, port: int) -> None:
    """Write ``port`` to ``path`` atomically, so a reader never sees a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(f"{port}\n")
    os.replace(partial, path)


def remove_port_file(path: Path, port: int) -> None:
    """Remove ``path`` if it still names ``port`` (a newer server may have replaced it)."""
    try:
        if path.read_text().strip() == str(port):
            path.unlink()
    except OSError:
        pass
