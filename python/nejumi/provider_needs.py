"""What a model's `api` needs from this machine before a run: the served engine, and the credentials.

`nejumi plan` checks these without sending anything. The key variables are the ones
the official harness reads (upstream-benchmarks.md §12.1), which nejumi's backends read
too; a config's own `api_key_env` replaces an api's key variable. (The vendor SDKs are
checked by building the backend, as a run does: nejumi_inference.backends.)
"""

from __future__ import annotations

import importlib.util
import ipaddress
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

from nejumi.model_spec import ModelSpec

# The engine package nejumi's inference service imports for a served model, and how to get it.
SERVED_PACKAGES = {
    "vllm": ("vllm", "pip install vllm==0.11.0 on a GPU machine (see services/inference/README.md)"),
    "llamacpp": ("xllamacpp", "it is part of the default install (requirements-model.lock)"),
}
# Variables an api must have; each group is satisfied by any one of its names.
KEYS: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "openai": (("OPENAI_API_KEY",),),
    "openai_chat": (("OPENAI_API_KEY",),),
    "openai_responses": (("OPENAI_API_KEY",),),
    "azure-openai": (("AZURE_OPENAI_API_KEY",),),
    "xai": (("XAI_API_KEY",),),
    "upstage": (("UPSTAGE_API_KEY",),),
    "anthropic": (("ANTHROPIC_API_KEY",),),
    "google": (("GOOGLE_API_KEY",),),
    "mistral": (("MISTRAL_API_KEY",),),
    "cohere": (("COHERE_API_KEY",),),
}
# Variables read when set; without them an OpenAI-compatible server is sent the key "EMPTY".
OPTIONAL_KEYS: Mapping[str, tuple[str, ...]] = {
    "openai-compatible": ("OPENAI_COMPATIBLE_API_KEY", "VLLM_API_KEY"),
    "vllm-external": ("OPENAI_COMPATIBLE_API_KEY", "VLLM_API_KEY"),
}
AZURE_ENDPOINT_ENV = "AZURE_OPENAI_ENDPOINT"
# Where boto3 finds credentials without asking a metadata server.
_AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def missing_served_package(spec: ModelSpec) -> str | None:
    """Why nejumi's inference service could not load the engine of a served model, or None."""
    if spec.backend not in SERVED_PACKAGES or spec.api == "grpc":
        return None
    module, install = SERVED_PACKAGES[spec.backend]
    if importlib.util.find_spec(module) is not None:
        return None
    return f"{spec.api} needs the Python package {module!r}, which is not installed: {install}"


def _endpoint_env(spec: ModelSpec) -> str | None:
    """Azure reads its resource URL from a variable unless base_url gives it."""
    if spec.base_url:
        return None
    if spec.api == "azure-openai":
        return str(spec.backend_config.get("endpoint_env", AZURE_ENDPOINT_ENV))
    # A judge on Azure: the Responses backend with Azure's endpoint variable.
    endpoint = spec.backend_config.get("azure_endpoint_env")
    return str(endpoint) if endpoint else None


def missing_credentials(spec: ModelSpec, explicit_key: bool, environ: Mapping[str, str]) -> list[str]:
    """The variables `spec`'s api needs that `environ` lacks ("$A", or "$A or $B" where either will do).

    `explicit_key`: the model config itself names `spec.api_key_env`; it is then needed even
    by an api whose key is optional (the user meant it to be set).
    """
    groups = list(KEYS.get(spec.api, ()))
    if spec.api_key_env and (groups or explicit_key):
        groups[:1] = [(spec.api_key_env,)]
    endpoint = _endpoint_env(spec)
    if endpoint:
        groups.append((endpoint,))
    return [" or ".join(f"${name}" for name in group) for group in groups if not any(environ.get(n) for n in group)]


def credential_warnings(spec: ModelSpec, environ: Mapping[str, str], home: Path) -> list[str]:
    """Credentials that may be missing, which plan cannot tell without a request."""
    if spec.api == "amazon_bedrock":
        files = [
            Path(environ.get("AWS_SHARED_CREDENTIALS_FILE", home / ".aws" / "credentials")),
            Path(environ.get("AWS_CONFIG_FILE", home / ".aws" / "config")),
        ]
        if not any(environ.get(name) for name in _AWS_ENV) and not any(path.is_file() for path in files):
            return [
                "amazon_bedrock finds no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...) "
                "or in ~/.aws; that works only on a machine with an IAM role"
            ]
    optional = OPTIONAL_KEYS.get(spec.api, ())
    if spec.api_key_env:
        optional = (spec.api_key_env, *optional)
    url = spec.base_url
    if optional and url and _public_host(url) and not any(environ.get(name) for name in optional):
        names = " or ".join(f"${name}" for name in optional)
        return [f"{spec.api}: {url} looks like a hosted API, but {names} is not set (it is sent the key 'EMPTY')"]
    return []


def _public_host(url: str) -> bool:
    """A host name with a dot that is not a private address: likely a hosted API that wants a key."""
    host = urlparse(url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." in host and not host.endswith((".local", ".internal", ".lan"))
    return address.is_global
