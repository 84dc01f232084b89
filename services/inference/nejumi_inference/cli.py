"""Command line of the inference server (``python -m nejumi_inference``)."""

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nejumi_inference.auth import is_loopback
from nejumi_inference.backends import BACKEND_NAMES, create_backend
from nejumi_inference.server import InferenceServer, ServerError, remove_port_file, write_port_file

log = logging.getLogger("nejumi_inference")

TOKEN_ENV = "NEJUMI_INFERENCE_TOKEN"
SHUTDOWN_GRACE_S = 5.0
EXIT_USAGE = 2
EXIT_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nejumi_inference",
        description="Serve one model over gRPC (nejumi.v1.Inference, see proto/nejumi_proto/v1/inference.proto).",
    )
    parser.add_argument("--backend", required=True, choices=BACKEND_NAMES, help="what answers the requests")
    parser.add_argument(
        "--model",
        default="",
        help="llamacpp: a .gguf path or 'embedded' (SmolLM2-135M-Instruct); openai/vllm: the model name",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=50051, help="port to bind; 0 picks a free one (default 50051)")
    parser.add_argument("--port-file", type=Path, help="write the bound port here (atomically) once serving")
    parser.add_argument(
        "--backend-config",
        default="{}",
        help="backend options as a JSON object, e.g. '{\"n_ctx\": 8192}' (see services/inference/README.md)",
    )
    parser.add_argument(
        "--max-queue",
        type=int,
        default=4096,
        help="requests accepted and not yet answered, over all clients (default 4096)",
    )
    parser.add_argument(
        "--token", help=f"shared token clients must send as 'authorization: Bearer <token>' (or set ${TOKEN_ENV})"
    )
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s nejumi-inference %(levelname)s %(message)s"
    )
    token = args.token or os.environ.get(TOKEN_ENV) or None
    if not is_loopback(args.host) and not token:
        log.error(
            "refusing to listen on %s without a token: anyone who can reach it could use the model. "
            "Set %s (or pass --token) and have clients send 'authorization: Bearer <token>', "
            "or bind 127.0.0.1.",
            args.host,
            TOKEN_ENV,
        )
        return EXIT_USAGE
    if args.max_queue < 1:
        log.error("--max-queue must be >= 1 (got %d)", args.max_queue)
        return EXIT_USAGE
    try:
        backend = create_backend(args.backend, args.model, _backend_config(args.backend_config))
    except ValueError as error:
        log.error("%s", error)
        return EXIT_USAGE
    server = InferenceServer(
        backend, args.backend, host=args.host, port=args.port, max_queue=args.max_queue, token=token
    )
    return asyncio.run(_serve(server, args.backend, args.port_file))


def _backend_config(text: str) -> dict[str, Any]:
    try:
        config = json.loads(text)
    except ValueError as error:
        raise ValueError(f"--backend-config: not valid JSON ({error})") from None
    if not isinstance(config, dict):
        raise ValueError("--backend-config: must be a JSON object such as '{\"n_ctx\": 8192}'")
    return config


async def _serve(server: InferenceServer, backend_name: str, port_file: Path | None) -> int:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        port = await server.start()
    except ServerError as error:
        log.error("%s", error)
        return EXIT_FAILED
    log.info("listening on %s:%d; loading the %s backend", server.host, port, backend_name)
    loading = asyncio.create_task(server.load())
    stop_wait = asyncio.create_task(stopping.wait())
    await asyncio.wait({loading, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    if not loading.done():
        log.info("stopping before the model finished loading")
        loading.cancel()
        with contextlib.suppress(BaseException):
            await loading
        await server.stop(0)
        return 0
    if loading.exception() is not None:
        stop_wait.cancel()
        log.error("the %s backend could not start: %s", backend_name, loading.exception())
        await server.stop(0)
        return EXIT_FAILED
    if port_file is not None:
        write_port_file(port_file, port)
    log.info("serving on %s:%d (%s backend)", server.host, port, backend_name)
    await stop_wait
    log.info("stopping: finishing in-flight requests for up to %.0f s", SHUTDOWN_GRACE_S)
    await server.stop(SHUTDOWN_GRACE_S)
    if port_file is not None:
        remove_port_file(port_file, port)
    return 0
