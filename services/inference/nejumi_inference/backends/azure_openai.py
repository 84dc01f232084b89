"""Azure OpenAI chat backend (upstream's ``api: azure-openai``): the OpenAI chat backend on an Azure deployment.

The endpoint and key come from ``$AZURE_OPENAI_ENDPOINT`` and ``$AZURE_OPENAI_API_KEY`` and the API version
from the model config's ``model.api_version`` (default 2024-05-01-preview), as upstream reads them. Under
``compatibility: official`` it forwards upstream's AzureOpenAIClient allow-list and, as that client does,
returns the answer's text only (no reasoning, no tool calls).
"""

import dataclasses
import os
from typing import Any, ClassVar

from nejumi_inference.backends.openai_api import OpenAIBackend, OpenAIOptions
from nejumi_inference.backends.options import OptionsError
from nejumi_inference.backends.upstream_params import AZURE_OPENAI_CHAT
from nejumi_proto.v1 import types_pb2

DEFAULT_API_VERSION = "2024-05-01-preview"


@dataclasses.dataclass(frozen=True)
class AzureOpenAIOptions(OpenAIOptions):
    api_key_env: str | list[str] = "AZURE_OPENAI_API_KEY"
    endpoint_env: str = "AZURE_OPENAI_ENDPOINT"  # the resource URL, e.g. https://my-resource.openai.azure.com
    api_version: str = DEFAULT_API_VERSION


class AzureOpenAIBackend(OpenAIBackend):
    allow_list: ClassVar[frozenset[str]] = AZURE_OPENAI_CHAT
    client_name: ClassVar[str] = "AzureOpenAIClient"
    name: ClassVar[str] = "azure-openai"
    options_type: ClassVar[type[OpenAIOptions]] = AzureOpenAIOptions

    def _new_client(self, api_key: str) -> Any:
        from openai import AsyncAzureOpenAI

        assert isinstance(self._options, AzureOpenAIOptions)
        endpoint = self._options.base_url or os.environ.get(self._options.endpoint_env)
        if not endpoint:
            raise OptionsError(
                f"the azure-openai backend needs the Azure resource URL in ${self._options.endpoint_env} "
                "(e.g. https://my-resource.openai.azure.com)"
            )
        self._upstream = endpoint
        return AsyncAzureOpenAI(
            azure_endpoint=endpoint,
            api_key=api_key,
            api_version=self._options.api_version,
            max_retries=self._options.max_retries,
            timeout=self._options.timeout_s,
        )

    def _answer(self, response: types_pb2.Response) -> types_pb2.Response:
        if self._options.compatibility == "official":
            response.reasoning_text = ""
            del response.tool_calls[:]
        return response
