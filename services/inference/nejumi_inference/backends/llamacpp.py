"""CPU backend: llama.cpp in-process through xllamacpp, batching up to ``n_parallel`` requests in its slots."""

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc

from nejumi_inference.backends.options import OptionsError, parse_options
from nejumi_inference.chat_format import (
    extra_fields,
    openai_messages,
    openai_tools,
    response_from_chat_completion,
    sampling_fields,
)
from nejumi_inference.embedded_model import embedded_gguf_path
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import inference_pb2, types_pb2

log = logging.getLogger(__name__)

EMBEDDED = "embedded"

# llama.cpp answers errors with HTTP status codes; these are the gRPC codes a client should see.
HTTP_TO_GRPC = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    501: grpc.StatusCode.UNIMPLEMENTED,
    503: grpc.StatusCode.UNAVAILABLE,
}


@dataclasses.dataclass(frozen=True)
class LlamaCppOptions:
    # n_ctx is shared by the slots: each request gets n_ctx / n_parallel tokens (prompt + answer) unless kv_unified.
    n_ctx: int = 8192
    n_parallel: int = 4
    n_threads: int = -1  # -1: llama.cpp picks (the number of physical cores)
    kv_unified: bool = False
    chat_template: str = ""  # a Jinja template or a llama.cpp built-in name; empty: the GGUF's own template
    verbosity: int = 0  # llama.cpp log verbosity; 0 keeps it quiet, 3 logs every request


class LlamaCppBackend:
    def __init__(self, model_path: Path, options: LlamaCppOptions) -> None:
        self._path = model_path
        self._options = options
        self._server: Any = None
        # One worker per slot: a request waits here for a free slot; a cancelled waiting request never runs.
        self._executor = ThreadPoolExecutor(max_workers=options.n_parallel, thread_name_prefix="llamacpp")

    @classmethod
    def from_config(cls, model: str, config: Mapping[str, Any]) -> "LlamaCppBackend":
        options = parse_options(LlamaCppOptions, config, "llamacpp")
        if options.n_parallel < 1 or options.n_ctx < 1:
            raise OptionsError("--backend-config: n_ctx and n_parallel of the llamacpp backend must be >= 1")
        if not model:
            raise OptionsError("the llamacpp backend needs --model <path to a .gguf> or --model embedded")
        path = embedded_gguf_path() if model == EMBEDDED else Path(model)
        if not path.is_file():
            raise OptionsError(f"--model {model}: no such GGUF file")
        return cls(path, options)

    async def start(self) -> None:
        self._server = await asyncio.to_thread(self._load)
        log.info(
            "llama.cpp loaded %s: %d slots of %d tokens",
            self._path.name,
            self._options.n_parallel,
            self._context_per_request(),
        )

    def _load(self) -> Any:
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(self._path)
        params.n_ctx = self._options.n_ctx
        params.n_parallel = self._options.n_parallel
        params.kv_unified = self._options.kv_unified
        params.cpuparams.n_threads = self._options.n_threads
        params.cpuparams_batch.n_threads = self._options.n_threads
        params.verbosity = self._options.verbosity
        if self._options.chat_template:
            params.chat_template = self._options.chat_template
        # xllamacpp also opens an HTTP listener on loopback; a random key keeps it closed to everyone else.
        params.api_keys = [secrets.token_hex(16)]
        try:
            return xllamacpp.Server(params)
        except RuntimeError as error:
            raise RuntimeError(
                f"llama.cpp could not load {self._path} with n_ctx={self._options.n_ctx}, "
                f"n_parallel={self._options.n_parallel}: {error} (set verbosity 3 in --backend-config to see why)"
            ) from error

    async def generate(self, request: inference_pb2.GenerateRequest, timeout_s: float | None) -> types_pb2.Response:
        body: dict[str, Any] = {"messages": openai_messages(request.messages)}
        if request.tools:
            body["tools"] = openai_tools(request.tools)
        body.update(sampling_fields(request.params))
        body.update(extra_fields(request.params))
        loop = asyncio.get_running_loop()
        try:
            completion = await loop.run_in_executor(self._executor, self._server.handle_chat_completions, body)
        except ValueError as error:
            raise BackendError(grpc.StatusCode.INVALID_ARGUMENT, f"llama.cpp rejected the request: {error}") from None
        error = completion.get("error")
        if error:
            code = HTTP_TO_GRPC.get(int(error.get("code") or 500), grpc.StatusCode.INTERNAL)
            raise BackendError(code, f"llama.cpp rejected the request: {error.get('message') or error}")
        response = response_from_chat_completion(completion)
        response.model = self._path.name
        return response

    def info(self) -> inference_pb2.ModelInfoResponse:
        return inference_pb2.ModelInfoResponse(
            model=self._path.name,
            backend="llamacpp",
            max_model_len=self._context_per_request(),
            max_concurrency=self._options.n_parallel,
            details={
                "path": str(self._path),
                "n_ctx": str(self._options.n_ctx),
                "n_parallel": str(self._options.n_parallel),
                "n_threads": str(self._options.n_threads),
                "kv_unified": str(self._options.kv_unified).lower(),
            },
        )

    def down_reason(self) -> str | None:
        return None

    async def close(self) -> None:
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
        self._server = None  # its destructor stops llama.cpp's threads

    def _context_per_request(self) -> int:
        if self._options.kv_unified:
            return self._options.n_ctx
        return self._options.n_ctx // self._options.n_parallel
