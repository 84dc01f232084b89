"""Google Gemini backend (api ``google``) through the google-genai SDK on the v1beta API, keyed by ``$GOOGLE_API_KEY``.

It sends what upstream's GoogleClient sends (spec §12.2, §12.4): the system prompt prepended to the first user
message, ``assistant`` turns as ``model`` turns, no tools, and under ``compatibility: official`` only the keys of
upstream's allow-list (``max_tokens`` and ``stop`` renamed). ``thinking_budget`` (the config's
``model.thinking_budget``) turns thinking off when absent, automatic at -1, else caps it; thought parts the API
returns become the reasoning text, apart from the answer. An empty answer is asked again up to 3 more times, as
upstream does. Unlike upstream, which answers every failure with empty text, errors are raised with the status the
queue retries (429 with its retry delay, 5xx, timeouts) or fails on.
"""

import dataclasses
import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import grpc

from nejumi_inference.backends import api_errors
from nejumi_inference.backends.options import OptionsError, parse_options
from nejumi_inference.backends.upstream_params import check_mode
from nejumi_inference.backends.vendor_sdk import request_timeout, upstream_kwargs
from nejumi_inference.chat_format import struct_to_json
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import inference_pb2, types_pb2

log = logging.getLogger(__name__)

API_VERSION = "v1beta"
# GoogleClient's allow-list after its renames.
ALLOW_LIST = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "max_output_tokens",
        "candidate_count",
        "stop_sequences",
        "thinking_config",
        "safety_settings",
    }
)
RENAMES = {"max_tokens": "max_output_tokens", "stop": "stop_sequences"}
EMPTY_ANSWER_RETRIES = 3  # upstream asks again this many times when the answer has no text
FILTERED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}
FINISH_REASONS = {"STOP": "stop", "MAX_TOKENS": "length"}
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


@dataclasses.dataclass(frozen=True)
class GoogleOptions:
    compatibility: str = "official"  # official: upstream's allow-list; corrected: every generator key is sent
    api_key_env: str = "GOOGLE_API_KEY"
    base_url: str | None = None  # None: Google's endpoint (tests point it at a local server)
    thinking_budget: int | None = None  # the config's model.thinking_budget: None -> 0 (off), -1 -> automatic
    safety_settings: list[Any] | None = None  # the config's model.safety_settings: [{category, threshold}, ...]
    timeout_s: float = 300.0  # per request, unless the client's deadline is sooner


class GoogleBackend:
    def __init__(self, model: str, options: GoogleOptions) -> None:
        self._model = model
        self._options = options
        self._official = options.compatibility == "official"
        self._client: Any = None

    @classmethod
    def from_config(cls, model: str, config: Mapping[str, Any]) -> "GoogleBackend":
        raw = dict(config)
        # A list of objects, which parse_options does not coerce: checked here.
        safety = raw.pop("safety_settings", None)
        if safety is not None and (not isinstance(safety, list) or not all(isinstance(item, dict) for item in safety)):
            raise OptionsError(
                "--backend-config: safety_settings of the google backend must be a list of "
                '{"category": ..., "threshold": ...} objects'
            )
        options = dataclasses.replace(parse_options(GoogleOptions, raw, "google"), safety_settings=safety)
        if not model:
            raise OptionsError("the google backend needs --model <Gemini model name, e.g. gemini-2.5-flash>")
        check_mode(options.compatibility, "google")
        return cls(model, options)

    async def start(self) -> None:
        from google import genai
        from google.genai import types

        api_key = os.environ.get(self._options.api_key_env)
        if not api_key:
            raise BackendError(
                grpc.StatusCode.UNAUTHENTICATED, f"the google backend needs an API key in ${self._options.api_key_env}"
            )
        http = types.HttpOptions(api_version=API_VERSION, base_url=self._options.base_url)
        self._client = genai.Client(api_key=api_key, http_options=http)

    async def generate(self, request: inference_pb2.GenerateRequest, timeout_s: float | None) -> types_pb2.Response:
        if request.prompt:
            raise BackendError(
                grpc.StatusCode.INVALID_ARGUMENT, "the google backend answers chat messages, not raw prompts"
            )
        contents = gemini_contents(request.messages)
        config = self._config(request, request_timeout(self._options.timeout_s, timeout_s))
        response = await self._ask(contents, config)
        for attempt in range(EMPTY_ANSWER_RETRIES):
            if response.text:
                break
            log.info("empty answer from %s; asking again (%d of %d)", self._model, attempt + 1, EMPTY_ANSWER_RETRIES)
            response = await self._ask(contents, config)
        response.model = response.model or self._model
        return response

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        raise BackendError(grpc.StatusCode.UNIMPLEMENTED, "the google backend does not count tokens")

    def info(self) -> inference_pb2.ModelInfoResponse:
        return inference_pb2.ModelInfoResponse(
            model=self._model,
            backend="google",
            details={"base_url": self._upstream(), "compatibility": self._options.compatibility},
        )

    def down_reason(self) -> str | None:
        return None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aio.aclose()

    def _upstream(self) -> str:
        return self._options.base_url or "the Gemini API"

    def _config(self, request: inference_pb2.GenerateRequest, timeout_s: float) -> Any:
        try:
            return self._checked_config(request, timeout_s)
        except ValueError as error:  # pydantic's ValidationError: a key or value Gemini's config does not take
            raise BackendError(
                grpc.StatusCode.INVALID_ARGUMENT, f"google backend: bad generation config: {error}"
            ) from None

    def _checked_config(self, request: inference_pb2.GenerateRequest, timeout_s: float) -> Any:
        from google.genai import types

        kwargs = upstream_kwargs(
            request.params, renames=RENAMES, allow_list=ALLOW_LIST, official=self._official, client="GoogleClient"
        )
        if not self._official and request.params.HasField("json_schema"):
            kwargs["response_mime_type"] = "application/json"
            kwargs["response_json_schema"] = struct_to_json(request.params.json_schema.schema)
        kwargs["thinking_config"] = types.ThinkingConfig(
            **{**self._thinking(), **(kwargs.get("thinking_config") or {})}
        )
        if self._options.safety_settings is not None:
            kwargs.setdefault("safety_settings", self._options.safety_settings)
        kwargs["http_options"] = types.HttpOptions(timeout=int(timeout_s * 1000))
        return types.GenerateContentConfig(**kwargs)

    def _thinking(self) -> dict[str, Any]:
        budget = self._options.thinking_budget
        if budget == -1:
            return {}  # the model decides
        return {"thinking_budget": budget or 0}

    async def _ask(self, contents: list[dict[str, Any]], config: Any) -> types_pb2.Response:
        import httpx2
        from google.genai import errors

        try:
            answer = await self._client.aio.models.generate_content(model=self._model, contents=contents, config=config)
        except errors.APIError as error:
            raise _api_error(error, self._upstream()) from None
        except httpx2.TimeoutException as error:
            raise api_errors.timeout_error(self._upstream(), error) from None
        except httpx2.HTTPError as error:
            raise api_errors.connection_error(self._upstream(), error) from None
        return gemini_response(answer.model_dump(mode="json", exclude_none=True))


def gemini_contents(messages: Sequence[types_pb2.ChatMessage]) -> list[dict[str, Any]]:
    """Messages as Gemini contents the way upstream builds them: the system text joins the first user message."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    contents: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        text = message.content
        if system and message.role == "user":
            text, system = f"{system}\n\n{text}", ""
        contents.append({"role": "model" if message.role == "assistant" else "user", "parts": [{"text": text}]})
    if system:  # no user message to carry it
        contents.insert(0, {"role": "user", "parts": [{"text": system}]})
    return contents


def gemini_response(answer: Mapping[str, Any]) -> types_pb2.Response:
    """A generateContent answer (as JSON) as a Response: thought parts apart from the answer text."""
    response = types_pb2.Response(model=answer.get("model_version") or "")
    candidates = answer.get("candidates") or []
    if candidates:
        candidate = candidates[0]
        reason = str(candidate.get("finish_reason") or "")
        response.finish_reason = "content_filter" if reason in FILTERED else FINISH_REASONS.get(reason, reason.lower())
        parts = (candidate.get("content") or {}).get("parts") or []
        response.text = "".join(p.get("text") or "" for p in parts if not p.get("thought"))
        response.reasoning_text = "".join(p.get("text") or "" for p in parts if p.get("thought"))
    elif (answer.get("prompt_feedback") or {}).get("block_reason"):
        response.finish_reason = "content_filter"  # the prompt itself was blocked
    usage = answer.get("usage_metadata") or {}
    response.usage.prompt_tokens = int(usage.get("prompt_token_count") or 0)
    response.usage.completion_tokens = int(usage.get("candidates_token_count") or 0) + int(
        usage.get("thoughts_token_count") or 0
    )
    response.usage.total_tokens = int(
        usage.get("total_token_count") or response.usage.prompt_tokens + response.usage.completion_tokens
    )
    return response


def _api_error(error: Any, upstream: str) -> BackendError:
    status = int(error.code or 0)
    headers = getattr(error.response, "headers", None) or {}
    wait = api_errors.retry_after_s(headers)
    if wait is None:
        wait = _retry_delay_s(error.details)
    return BackendError(
        api_errors.grpc_code(status), f"{upstream} answered HTTP {status} {error.status or ''}: {error.message}", wait
    )


def _retry_delay_s(details: Any) -> float | None:
    """The ``retryDelay`` of a google.rpc.RetryInfo in an error body (such as ``"37s"``), in seconds."""
    inner = details.get("error", details) if isinstance(details, dict) else {}
    for item in inner.get("details") or [] if isinstance(inner, dict) else []:
        if isinstance(item, dict) and item.get("@type") == RETRY_INFO:
            match = re.fullmatch(r"([0-9.]+)s", str(item.get("retryDelay") or ""))
            if match:
                return float(match.group(1))
    return None
