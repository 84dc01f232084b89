"""OpenAI Responses API backend (upstream's ``api: openai_responses``, and its judges).

Chat requests and raw prompts go to ``responses.create`` (structured output as ``text.format``, which is what
upstream's ``responses.parse(text_format=...)`` sends); CountTokens to ``responses.input_tokens.count``. The key
is ``$OPENAI_API_KEY``. With ``azure_endpoint_env`` set it talks to an Azure OpenAI resource instead, as
upstream's judge client does when ``OPENAI_API_TYPE=azure``.
"""

import asyncio
import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from nejumi_inference.backends.openai_api import DEFAULT_BASE_URL, api_key_from_env, mapped_error
from nejumi_inference.backends.options import OptionsError, parse_options
from nejumi_inference.backends.responses_format import response_from_responses, responses_arguments, responses_input
from nejumi_inference.backends.upstream_params import check_mode
from nejumi_proto.v1 import inference_pb2, types_pb2


@dataclasses.dataclass(frozen=True)
class ResponsesOptions:
    base_url: str | None = None  # None: api.openai.com
    api_key_env: str | list[str] = "OPENAI_API_KEY"
    # Set: the variable holding an Azure OpenAI resource URL; the model is then the deployment name.
    azure_endpoint_env: str | None = None
    api_version: str | None = None  # Azure's api-version (only with azure_endpoint_env)
    # official: temperature/top_p dropped, extra_body.reasoning not promoted (upstream); corrected: both sent.
    compatibility: str = "official"
    max_retries: int = 2  # the SDK default, which upstream's Responses client keeps
    timeout_s: float = 300.0
    max_concurrency: int = 64


class ResponsesBackend:
    def __init__(self, model: str, options: ResponsesOptions) -> None:
        self._model = model
        self._options = options
        self._upstream = options.base_url or DEFAULT_BASE_URL
        self._client: Any = None
        self._slots = asyncio.Semaphore(options.max_concurrency)

    @classmethod
    def from_config(cls, model: str, config: Mapping[str, Any]) -> "ResponsesBackend":
        options = parse_options(ResponsesOptions, config, "openai_responses")
        if not model:
            raise OptionsError("the openai_responses backend needs --model <model name as the API knows it>")
        if options.max_concurrency < 1:
            raise OptionsError("--backend-config: max_concurrency of the openai_responses backend must be >= 1")
        check_mode(options.compatibility, "openai_responses")
        return cls(model, options)

    async def start(self) -> None:
        from openai import AsyncAzureOpenAI, AsyncOpenAI

        api_key = api_key_from_env(self._options.api_key_env)
        common: dict[str, Any] = {
            "api_key": api_key,
            "max_retries": self._options.max_retries,
            "timeout": self._options.timeout_s,
        }
        if self._options.azure_endpoint_env is None:
            self._client = AsyncOpenAI(base_url=self._options.base_url, **common)
            return
        endpoint = self._options.base_url or os.environ.get(self._options.azure_endpoint_env)
        if not endpoint:
            raise OptionsError(
                f"the Azure OpenAI Responses client needs the resource URL in ${self._options.azure_endpoint_env}"
            )
        self._upstream = endpoint
        self._client = AsyncAzureOpenAI(azure_endpoint=endpoint, api_version=self._options.api_version, **common)

    async def generate(self, request: inference_pb2.GenerateRequest, timeout_s: float | None) -> types_pb2.Response:
        import openai

        timeout = self._options.timeout_s if timeout_s is None else min(timeout_s, self._options.timeout_s)
        arguments = responses_arguments(self._model, request, self._options.compatibility == "official")
        try:
            async with self._slots:
                answer = await self._client.responses.create(**arguments, timeout=timeout)
        except openai.APIError as error:
            raise mapped_error(error, self._upstream) from None
        response = response_from_responses(answer.model_dump())
        response.model = response.model or self._model
        return response

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        import openai

        counted: dict[str, Any] = {
            "model": self._model,
            "input": request.prompt if request.prompt else responses_input(request.messages),
        }
        try:
            async with self._slots:
                answer = await self._client.responses.input_tokens.count(**counted)
        except openai.APIError as error:
            raise mapped_error(error, self._upstream) from None
        return inference_pb2.CountTokensResponse(prompt_tokens=int(answer.input_tokens))

    def info(self) -> inference_pb2.ModelInfoResponse:
        return inference_pb2.ModelInfoResponse(
            model=self._model,
            backend="openai_responses",
            max_concurrency=self._options.max_concurrency,
            details={"base_url": self._upstream},
        )

    def down_reason(self) -> str | None:
        return None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
