"""CPU backend: llama.cpp in-process through xllamacpp, batching up to ``n_parallel`` requests in its slots.

Chat requests go to llama.cpp's chat-completions handler (the GGUF's chat template renders them), raw prompts to
its completions handler. xllamacpp has no tokenizer call of its own, so CountTokens asks the HTTP listener that
xllamacpp opens on loopback anyway (``/apply-template`` and ``/tokenize``, llama.cpp's own server endpoints).
"""

import asyncio
import dataclasses
import json
import logging
import secrets
import urllib.error
import urllib.request
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
    response_from_completion,
    sampling_fields,
    struct_to_json,
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
ToolChoice = types_pb2.ToolChoice
# The local HTTP listener answers in milliseconds; this only bounds a wedged llama.cpp.
TOKENIZE_TIMEOUT_S = 30.0


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
        self._api_key = secrets.token_hex(16)
        self._supports_tools = False  # whether the chat template renders tools (llama.cpp ignores them otherwise)
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
        props = await asyncio.to_thread(self._http_json, "GET", "/props", None)
        self._supports_tools = bool((props.get("chat_template_caps") or {}).get("supports_tools"))
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
        params.api_keys = [self._api_key]
        try:
            return xllamacpp.Server(params)
        except RuntimeError as error:
            raise RuntimeError(
                f"llama.cpp could not load {self._path} with n_ctx={self._options.n_ctx}, "
                f"n_parallel={self._options.n_parallel}: {error} (set verbosity 3 in --backend-config to see why)"
            ) from error

    async def generate(self, request: inference_pb2.GenerateRequest, timeout_s: float | None) -> types_pb2.Response:
        if request.prompt:
            body: dict[str, Any] = {"prompt": request.prompt}
            handler, to_response = self._server.handle_completions, response_from_completion
        else:
            body = {"messages": openai_messages(request.messages)}
            if request.tools:
                body["tools"] = openai_tools(request.tools)
            choice = self._tool_choice(request.params)
            if choice is not None:
                body["tool_choice"] = choice
            handler, to_response = self._server.handle_chat_completions, response_from_chat_completion
        if request.params.HasField("json_schema"):
            # As a grammar: xllamacpp's chat handler ignores response_format and json_schema (checked with
            # xllamacpp 2026.10), while both handlers constrain the answer to a grammar.
            import xllamacpp

            body["grammar"] = xllamacpp.json_schema_to_grammar(struct_to_json(request.params.json_schema.schema))
        body.update(sampling_fields(request.params))
        body.update(extra_fields(request.params))
        loop = asyncio.get_running_loop()
        try:
            completion = await loop.run_in_executor(self._executor, handler, body)
        except ValueError as error:
            raise BackendError(grpc.StatusCode.INVALID_ARGUMENT, f"llama.cpp rejected the request: {error}") from None
        _raise_for_error(completion)
        response = to_response(completion)
        response.model = self._path.name
        return response

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        text = request.prompt
        if not text:
            rendering: dict[str, Any] = {"messages": openai_messages(request.messages)}
            if request.tools:
                rendering["tools"] = openai_tools(request.tools)
            text = (await asyncio.to_thread(self._http_json, "POST", "/apply-template", rendering))["prompt"]
        # Both generation handlers tokenize their prompt with special tokens added and parsed; so does this.
        tokens = await asyncio.to_thread(
            self._http_json, "POST", "/tokenize", {"content": text, "add_special": True, "parse_special": True}
        )
        return inference_pb2.CountTokensResponse(
            prompt_tokens=len(tokens["tokens"]), max_model_len=self._context_per_request()
        )

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

    def _tool_choice(self, params: types_pb2.GenerationParams) -> str | None:
        """llama.cpp's tool_choice for ``params``, or INVALID_ARGUMENT when llama.cpp cannot honour it."""
        if not params.HasField("tool_choice"):
            return None
        if params.tool_choice.mode == ToolChoice.NAMED:
            raise BackendError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "params.tool_choice: llama.cpp cannot force a named tool (its tool_choice is auto, none or required)",
            )
        if params.tool_choice.mode == ToolChoice.REQUIRED and not self._supports_tools:
            raise BackendError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"params.tool_choice: REQUIRED cannot be honoured: the chat template of {self._path.name} does not "
                "render tools, so llama.cpp ignores them",
            )
        return ToolChoice.Mode.Name(params.tool_choice.mode).lower()

    def _http_json(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        """Call xllamacpp's loopback HTTP listener (blocking; run it in a thread)."""
        request = urllib.request.Request(
            f"{self._server.listening_address}{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {self._api_key}", "Content-Type": "application/json"},
        )
        # No proxies: the listener is on loopback, and a proxy from the environment would not reach it.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=TOKENIZE_TIMEOUT_S) as answer:
                return dict(json.load(answer))
        except urllib.error.HTTPError as error:
            code = HTTP_TO_GRPC.get(error.code, grpc.StatusCode.INTERNAL)
            raise BackendError(code, f"llama.cpp's {path} answered HTTP {error.code}: {error.read()[:300]!r}") from None
        except OSError as error:
            raise BackendError(grpc.StatusCode.INTERNAL, f"llama.cpp's {path} failed: {error}") from None

    def _context_per_request(self) -> int:
        if self._options.kv_unified:
            return self._options.n_ctx
        return self._options.n_ctx // self._options.n_parallel


def _raise_for_error(completion: Mapping[str, Any]) -> None:
    error = completion.get("error")
    if error:
        code = HTTP_TO_GRPC.get(int(error.get("code") or 500), grpc.StatusCode.INTERNAL)
        raise BackendError(code, f"llama.cpp rejected the request: {error.get('message') or error}")
