"""Amazon Bedrock backend (api ``amazon_bedrock``): Claude, Llama and Nova models through boto3's bedrock-runtime.

The region comes from ``$AWS_BEDROCK_REGION``, else ``$AWS_DEFAULT_REGION``, else us-east-1, and the credentials
from boto3's usual chain (``$AWS_ACCESS_KEY_ID``/``$AWS_SECRET_ACCESS_KEY``, ``$AWS_PROFILE``, ...), as upstream.

Upstream's ChatBedrock ignores every per-call parameter except ``max_tokens``: the sampling parameters come only
from the config's ``generator:`` section, so per-benchmark temperatures never apply (spec §15.12). Under
``compatibility: official`` this backend does the same with the ``generator`` option, and sends no tools; under
``corrected`` it uses each request's own parameters and tools. Unlike upstream, whose errors become empty answers,
failures are raised with the status the queue retries (throttling, 5xx, timeouts) or fails on (validation).
"""

import asyncio
import concurrent.futures
import dataclasses
import json
import logging
import os
from collections.abc import Mapping
from typing import Any

import grpc

from nejumi_inference.backends import api_errors
from nejumi_inference.backends import bedrock_bodies as bodies
from nejumi_inference.backends.anthropic_format import anthropic_tool_choice, anthropic_tools
from nejumi_inference.backends.options import OptionsError, parse_options
from nejumi_inference.backends.upstream_params import check_mode, request_extras
from nejumi_inference.chat_format import body_fields, sampling_fields
from nejumi_inference.errors import BackendError
from nejumi_proto.v1 import inference_pb2, types_pb2

log = logging.getLogger(__name__)

DEFAULT_REGION = "us-east-1"
# What an answer may be when neither the request nor the generator section sets max_tokens (Bedrock's Claude
# requires one); upstream's Anthropic client uses the same default.
DEFAULT_MAX_TOKENS = 1024

# Bedrock's error codes whose HTTP status alone would map them less precisely.
ERROR_CODES = {
    "ThrottlingException": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "ServiceQuotaExceededException": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "ServiceUnavailableException": grpc.StatusCode.UNAVAILABLE,
    "InternalServerException": grpc.StatusCode.UNAVAILABLE,
    "ModelNotReadyException": grpc.StatusCode.UNAVAILABLE,
    "ModelTimeoutException": grpc.StatusCode.DEADLINE_EXCEEDED,
    "ValidationException": grpc.StatusCode.INVALID_ARGUMENT,
    "ModelErrorException": grpc.StatusCode.INVALID_ARGUMENT,
    "AccessDeniedException": grpc.StatusCode.PERMISSION_DENIED,
    "ResourceNotFoundException": grpc.StatusCode.NOT_FOUND,
}


@dataclasses.dataclass(frozen=True)
class BedrockOptions:
    compatibility: str = "official"  # official: sampling only from `generator`, no tools; corrected: per request
    generator: dict[str, Any] = dataclasses.field(default_factory=dict)  # the config's `generator:` section
    region: str | None = None  # None: $AWS_BEDROCK_REGION, else $AWS_DEFAULT_REGION, else us-east-1
    endpoint_url: str | None = None  # None: the region's Bedrock endpoint (tests point it at a local server)
    read_timeout_s: float = 1000.0  # upstream's botocore settings
    connect_timeout_s: float = 60.0
    max_pool_connections: int = 50  # also the number of requests sent at once


class BedrockBackend:
    def __init__(self, model: str, options: BedrockOptions) -> None:
        self._model = model
        self._options = options
        self._official = options.compatibility == "official"
        self._route = bodies.route(model)
        self._region = (
            options.region
            or os.environ.get("AWS_BEDROCK_REGION")
            or os.environ.get("AWS_DEFAULT_REGION", DEFAULT_REGION)
        )
        self._client: Any = None
        # boto3 is synchronous: its calls run on these threads, one per pooled connection.
        self._threads = concurrent.futures.ThreadPoolExecutor(
            max_workers=options.max_pool_connections, thread_name_prefix="bedrock"
        )

    @classmethod
    def from_config(cls, model: str, config: Mapping[str, Any]) -> "BedrockBackend":
        # base_url is what other API backends call their endpoint; Bedrock has no API-key variable.
        options = parse_options(
            BedrockOptions,
            config,
            "amazon_bedrock",
            aliases={"base_url": "endpoint_url"},
            ignored=frozenset({"api_key_env"}),
        )
        if not model:
            raise OptionsError(
                "the amazon_bedrock backend needs --model <Bedrock model id, e.g. us.amazon.nova-lite-v1:0>"
            )
        if options.max_pool_connections < 1:
            raise OptionsError("--backend-config: max_pool_connections of the amazon_bedrock backend must be >= 1")
        check_mode(options.compatibility, "amazon_bedrock")
        return cls(model, options)

    async def start(self) -> None:
        import boto3
        from botocore.config import Config

        session = boto3.session.Session()
        if session.get_credentials() is None:
            raise BackendError(
                grpc.StatusCode.UNAUTHENTICATED,
                "the amazon_bedrock backend found no AWS credentials: set $AWS_ACCESS_KEY_ID and "
                "$AWS_SECRET_ACCESS_KEY (or $AWS_PROFILE)",
            )
        config = Config(
            read_timeout=self._options.read_timeout_s,
            connect_timeout=self._options.connect_timeout_s,
            max_pool_connections=self._options.max_pool_connections,
            retries={"total_max_attempts": 1, "mode": "standard"},  # the request queue is the only retrier
        )
        self._client = session.client(
            "bedrock-runtime", region_name=self._region, endpoint_url=self._options.endpoint_url, config=config
        )

    async def generate(self, request: inference_pb2.GenerateRequest, timeout_s: float | None) -> types_pb2.Response:
        if request.prompt:
            raise BackendError(
                grpc.StatusCode.INVALID_ARGUMENT, "the amazon_bedrock backend answers chat messages, not raw prompts"
            )
        call = self._converse if self._route == "converse" else self._invoke
        future = asyncio.get_running_loop().run_in_executor(self._threads, call, request)
        try:
            response = await asyncio.wait_for(future, timeout_s)
        except TimeoutError as error:
            # The boto3 call cannot be interrupted; it finishes on its thread and its answer is dropped.
            raise api_errors.timeout_error(self._upstream(), error) from None
        response.model = response.model or self._model
        return response

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        raise BackendError(
            grpc.StatusCode.UNIMPLEMENTED, "the amazon_bedrock backend cannot count tokens without sending a request"
        )

    def info(self) -> inference_pb2.ModelInfoResponse:
        return inference_pb2.ModelInfoResponse(
            model=self._model,
            backend="amazon_bedrock",
            max_concurrency=self._options.max_pool_connections,
            details={"region": self._region, "route": self._route, "compatibility": self._options.compatibility},
        )

    def down_reason(self) -> str | None:
        return None

    async def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        if self._client is not None:
            self._client.close()

    def _upstream(self) -> str:
        return self._options.endpoint_url or f"Amazon Bedrock ({self._region})"

    def _generation(self, request: inference_pb2.GenerateRequest) -> dict[str, Any]:
        """Sampling parameters under OpenAI's names, without max_tokens: the generator section's under official
        compatibility (upstream's quirk), else the request's own."""
        if self._official:
            fields = dict(self._options.generator)
        else:
            fields = body_fields(request_extras(request.params))
            fields.update(sampling_fields(request.params))
        fields.pop("max_tokens", None)
        fields.pop("seed", None)  # Bedrock's model APIs take no seed
        return fields

    def _max_tokens(self, params: types_pb2.GenerationParams) -> int:
        if params.HasField("max_tokens"):
            return params.max_tokens
        return int(self._options.generator.get("max_tokens") or DEFAULT_MAX_TOKENS)

    def _sends_tools(self, request: inference_pb2.GenerateRequest) -> bool:
        return bool(request.tools) and not self._official

    def _invoke(self, request: inference_pb2.GenerateRequest) -> types_pb2.Response:
        fields = self._generation(request)
        max_tokens = self._max_tokens(request.params)
        if self._route == "claude":
            if "stop" in fields:
                fields["stop_sequences"] = fields.pop("stop")
            if self._sends_tools(request):
                fields["tools"] = anthropic_tools(request.tools)
                if request.params.HasField("tool_choice"):
                    fields["tool_choice"] = anthropic_tool_choice(request.params.tool_choice)
            body = bodies.claude_body(request.messages, max_tokens, fields)
        else:
            fields.pop("stop", None)  # Llama's body has no stop sequences
            body = {"prompt": bodies.llama_prompt(request.messages), "max_gen_len": max_tokens, **fields}
        answer = self._call(
            "invoke_model",
            modelId=self._model,
            body=json.dumps(body, ensure_ascii=False),
            contentType="application/json",
            accept="application/json",
        )
        payload = json.loads(answer["body"].read())
        return bodies.claude_response(payload) if self._route == "claude" else bodies.llama_response(payload)

    def _converse(self, request: inference_pb2.GenerateRequest) -> types_pb2.Response:
        fields = self._generation(request)
        inference: dict[str, Any] = {"maxTokens": self._max_tokens(request.params)}
        for ours, theirs in (("temperature", "temperature"), ("top_p", "topP"), ("stop", "stopSequences")):
            if ours in fields:
                inference[theirs] = fields.pop(ours)
        arguments: dict[str, Any] = {
            "modelId": self._model,
            "messages": bodies.converse_messages(request.messages),
            "inferenceConfig": inference,
        }
        system = bodies.system_text(request.messages)
        if system:
            arguments["system"] = [{"text": system}]
        if fields and not self._official:
            arguments["additionalModelRequestFields"] = fields
        if self._sends_tools(request):
            choice = request.params.tool_choice if request.params.HasField("tool_choice") else None
            arguments["toolConfig"] = bodies.converse_tool_config(request.tools, choice)
        return bodies.converse_response(self._call("converse", **arguments))

    def _call(self, operation: str, **arguments: Any) -> Any:
        from botocore import exceptions

        try:
            return getattr(self._client, operation)(**arguments)
        except exceptions.ClientError as error:
            raise _client_error(error, self._upstream()) from None
        except exceptions.ReadTimeoutError as error:
            raise api_errors.timeout_error(self._upstream(), error) from None
        except (exceptions.ConnectTimeoutError, exceptions.EndpointConnectionError) as error:
            raise api_errors.connection_error(self._upstream(), error) from None
        except exceptions.NoCredentialsError as error:
            raise BackendError(grpc.StatusCode.UNAUTHENTICATED, f"{self._upstream()}: {error}") from None


def _client_error(error: Any, upstream: str) -> BackendError:
    """A Bedrock error answer as a BackendError: by its error code where it has a known one, else by HTTP status."""
    details = error.response.get("Error") or {}
    metadata = error.response.get("ResponseMetadata") or {}
    status = int(metadata.get("HTTPStatusCode") or 0)
    name = str(details.get("Code") or "")
    code = ERROR_CODES.get(name) or api_errors.grpc_code(status)
    message = details.get("Message") or str(error)
    retry_after = api_errors.retry_after_s(metadata.get("HTTPHeaders") or {})
    return BackendError(code, f"{upstream} answered HTTP {status} {name}: {message}", retry_after)
