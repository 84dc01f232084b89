"""Starts nejumi's gRPC inference service for a served model, and stops it at the end.

Used when the config asks nejumi to serve the model itself (api: llamacpp or vllm).
The service binds a free loopback port and is ready once its model is loaded; it is
stopped when the evaluation ends, and gets SIGTERM if nejumi dies (even `kill -9`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from nejumi_inference.launcher import ServerProcess, ServerStartError, start_server_process

# vLLM can take many minutes to load a large checkpoint.
START_TIMEOUT_S = 3600.0


class ServiceError(RuntimeError):
    pass


@contextlib.asynccontextmanager
async def inference_service(
    backend: str, model: str, backend_config: dict[str, Any], log_path: Path, on_wait: Callable[[float], None]
) -> AsyncIterator[str]:
    """Yields the address of a running service; stops it on exit."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    args = ["--backend", backend, "--model", model, "--backend-config", json.dumps(backend_config)]
    starting = asyncio.create_task(
        asyncio.to_thread(start_server_process, args, timeout_s=START_TIMEOUT_S, log_path=log_path)
    )
    waited = 0.0
    while not starting.done():
        await asyncio.wait({starting}, timeout=10)
        waited += 10
        if not starting.done():
            on_wait(waited)
    try:
        server: ServerProcess = starting.result()
    except ServerStartError as err:
        raise ServiceError(f"the inference service ({backend}, {model}) did not start: {err}") from None
    try:
        yield server.address
    finally:
        await asyncio.to_thread(server.stop)
