"""Backend registry. Each backend module is imported only when chosen, so CPU machines never import vLLM.

The HTTP-API backends carry upstream's ``api`` names (spec §12.1); the OpenAI-chat ones that differ only in
endpoint and key variable are presets of the openai backend. A vendor SDK that is not installed is reported
with the pip line that installs it.
"""

import importlib
import importlib.util
from collections.abc import Mapping
from typing import Any

from nejumi_inference.backends.base import Backend
from nejumi_inference.backends.options import OptionsError

# name -> (module, class); every class has from_config(model, config).
_CLASSES = {
    "llamacpp": ("nejumi_inference.backends.llamacpp", "LlamaCppBackend"),
    "openai": ("nejumi_inference.backends.openai_api", "OpenAIBackend"),
    "openai_responses": ("nejumi_inference.backends.openai_responses", "ResponsesBackend"),
    "azure-openai": ("nejumi_inference.backends.azure_openai", "AzureOpenAIBackend"),
    "anthropic": ("nejumi_inference.backends.anthropic_api", "AnthropicBackend"),
    "amazon_bedrock": ("nejumi_inference.backends.bedrock", "BedrockBackend"),
    "google": ("nejumi_inference.backends.google_genai", "GoogleBackend"),
    "mistral": ("nejumi_inference.backends.mistral_api", "MistralBackend"),
    "cohere": ("nejumi_inference.backends.cohere_api", "CohereBackend"),
    "vllm": ("nejumi_inference.backends.vllm_engine", "VllmBackend"),
    "scripted": ("nejumi_inference.backends.scripted", "ScriptedBackend"),
}
# Upstream's OpenAI-chat apis (§12.1): the openai backend with their endpoint and key; the config may override.
_OPENAI_PRESETS: dict[str, dict[str, Any]] = {
    "openai_chat": {},
    "openai-compatible": {
        "base_url": "http://localhost:8000/v1",
        "api_key_env": ["OPENAI_COMPATIBLE_API_KEY", "VLLM_API_KEY"],
    },
    "xai": {"base_url": "https://api.x.ai/v1", "api_key_env": "XAI_API_KEY"},
    "upstage": {"base_url": "https://api.upstage.ai/v1/solar", "api_key_env": "UPSTAGE_API_KEY"},
}
_OPENAI_PRESETS["vllm-external"] = _OPENAI_PRESETS["openai-compatible"]  # upstream's deprecated name
# Optional vendor SDKs: the module a backend imports and the pip line that installs the tested version.
SDKS = {
    "anthropic": ("anthropic", "anthropic==2.10.0"),
    "amazon_bedrock": ("boto3", "boto3==1.44.5"),
    "google": ("google.genai", "google-genai==3.3.0"),
    "mistral": ("mistralai", "mistralai==3.7.0"),
    "cohere": ("cohere", "cohere==7.3.1"),
}
BACKEND_NAMES = (*_CLASSES, *_OPENAI_PRESETS)
# Options that hand retries and concurrency to a caller's own request queue (nejumi's in-process provider), and
# the backends that take them; the others keep their SDK's retries.
QUEUE_OWNED_OPTIONS = {"max_retries": 0, "max_concurrency": 1 << 16}
_TAKE_QUEUE_OPTIONS = frozenset({"openai", "openai_responses", "azure-openai", "anthropic"})


class MissingSdkError(OptionsError):
    """The backend's vendor SDK is not installed."""


def create_backend(name: str, model: str, config: Mapping[str, Any], *, queue_owned: bool = False) -> Backend:
    """Build (not start) the backend ``name`` serving ``model`` with its ``--backend-config`` options.

    ``queue_owned``: the caller's request queue retries and bounds concurrency, so the backend does not.
    """
    if name in _OPENAI_PRESETS:
        config = {**_OPENAI_PRESETS[name], **config}
        name = "openai"
    if name not in _CLASSES:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}")
    if queue_owned and name in _TAKE_QUEUE_OPTIONS:
        config = {**config, **QUEUE_OWNED_OPTIONS}
    require_sdk(name)
    module, cls = _CLASSES[name]
    backend: Backend = getattr(importlib.import_module(module), cls).from_config(model, config)
    return backend


def require_sdk(name: str) -> None:
    """Fail with the install line when backend ``name`` needs a vendor SDK that is not installed."""
    if name not in SDKS:
        return
    module, requirement = SDKS[name]
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package (google for google.genai)
        found = False
    if not found:
        raise MissingSdkError(
            f"the {name} backend needs the {requirement.split('==')[0]} package: pip install {requirement}"
        )


__all__ = ["BACKEND_NAMES", "SDKS", "Backend", "MissingSdkError", "create_backend", "require_sdk"]
