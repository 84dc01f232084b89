"""Which model to evaluate (or judge with) and how to reach it, read from the merged config."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nejumi.compat import Compatibility
from nejumi.config import Config
from nejumi.request_key import CAPACITY_KEYS, ModelIdentity

# api values: nejumi serves llamacpp/vllm models itself through its gRPC service;
# "grpc" uses a service that is already running; the HTTP APIs (upstream's names,
# spec §12.1) are backends of the inference service run in-process.
SERVED = ("llamacpp", "vllm", "vllm-docker")
HTTP_APIS = (
    "openai",
    "openai_chat",
    "openai_responses",
    "openai-compatible",
    "vllm-external",
    "azure-openai",
    "anthropic",
    "amazon_bedrock",
    "google",
    "mistral",
    "cohere",
    "xai",
    "upstage",
)
# Accepted so that the message can say what to use instead.
REFUSED = {
    "vllm-local": "is deprecated upstream and broken there (its client gets model_name= instead of model=); "
    "use api: vllm, with which nejumi starts vLLM itself, or api: openai-compatible with base_url for a "
    "running server",
}
APIS = (*SERVED, "grpc", *HTTP_APIS, *REFUSED)
# Backends with an official/corrected difference of their own (docs/compatibility.md); the Anthropic API
# refuses what upstream's client drops, so that backend has none.
COMPATIBILITY_BACKENDS = tuple(api for api in HTTP_APIS if api != "anthropic")


@dataclass(frozen=True)
class ModelSpec:
    api: str
    name: str
    base_url: str | None = None
    api_key_env: str | None = None
    endpoint: str | None = None
    backend_config: dict[str, Any] = field(default_factory=dict)

    @property
    def backend(self) -> str:
        """The inference-service backend that serves or reaches the model."""
        return "vllm" if self.api in ("vllm", "vllm-docker") else self.api

    def provider_config(self) -> dict[str, Any]:
        """The options of an in-process HTTP-API backend: its serving options, endpoint and key variable."""
        config = dict(self.backend_config)
        if self.base_url:
            config["base_url"] = self.base_url
        if self.api_key_env:
            config["api_key_env"] = self.api_key_env
        return config

    def identity(self) -> ModelIdentity:
        """The model's identity before the service described it (see request_key.py)."""
        serving = {k: v for k, v in sorted(self.backend_config.items()) if k not in CAPACITY_KEYS}
        template = serving.get("chat_template")
        if isinstance(template, str) and template and Path(template).is_file():
            # The template's text decides the prompts; its path does not.
            serving["chat_template"] = "sha256:" + hashlib.sha256(Path(template).read_bytes()).hexdigest()
        endpoint = self.endpoint or self.base_url or ""
        return ModelIdentity(api=self.backend, model=self.name, serving=serving, endpoint=endpoint)

    @classmethod
    def from_config(cls, cfg: Config) -> ModelSpec:
        api = cfg.get_str("api", choices=APIS)
        if api is None:
            raise cfg.error("api", f"is required: one of {', '.join(APIS)}")
        if api in REFUSED:
            raise cfg.error("api", f"{api} {REFUSED[api]}")
        name = cfg.get_str("model.pretrained_model_name_or_path")
        if not name:
            raise cfg.error(
                "model.pretrained_model_name_or_path",
                "is required (the model to evaluate)",
            )
        backend_config: dict[str, Any] = {}
        if api == "llamacpp":
            backend_config = cfg.get_mapping("llamacpp")
        elif api in ("vllm", "vllm-docker"):
            backend_config = cfg.get_mapping("vllm")
            template = cfg.get_str("vllm.chat_template")
            if template and template.endswith(".jinja"):
                # Upstream configs name template files relative to the config; the service
                # runs elsewhere, so hand it an absolute path.
                path = cfg.get_path("vllm.chat_template")
                if path is None or not path.is_file():
                    raise cfg.error("vllm.chat_template", f"template file not found: {path}")
                backend_config["chat_template"] = str(path)
            num_gpus = cfg.get_int("num_gpus", minimum=1)
            if num_gpus is not None:
                backend_config.setdefault("tensor_parallel_size", num_gpus)
        elif api in HTTP_APIS:
            backend_config = http_backend_config(cfg, api)
        endpoint = cfg.get_str("inference.endpoint")
        if api == "grpc" and not endpoint:
            raise cfg.error(
                "inference.endpoint",
                "is required with api: grpc (host:port of a nejumi inference service)",
            )
        base_url = cfg.get_str("base_url")
        default_key = "OPENAI_API_KEY" if api == "openai" else None
        return cls(
            api=api,
            name=name,
            base_url=base_url,
            api_key_env=cfg.get_str("api_key_env", default_key),
            endpoint=endpoint if api == "grpc" else None,
            backend_config=backend_config,
        )


def http_backend_config(cfg: Config, api: str) -> dict[str, Any]:
    """What an HTTP-API backend reads from the model config, as upstream's client for `api` reads it."""
    config: dict[str, Any] = {}
    if api in COMPATIBILITY_BACKENDS:
        config["compatibility"] = Compatibility.from_config(cfg).mode
    if api == "azure-openai" and cfg.get_str("model.api_version"):
        config["api_version"] = cfg.get_str("model.api_version")
    if api == "anthropic":
        thinking = cfg.get("model.thinking")
        if thinking is True or isinstance(thinking, dict):
            config["thinking"] = {} if thinking is True else cfg.get_mapping("model.thinking")
        elif thinking not in (None, False):
            raise cfg.error("model.thinking", f"must be a mapping such as {{budget_tokens: 16384}} (got {thinking!r})")
    if api == "google":
        budget = cfg.get_int("model.thinking_budget")
        if budget is not None:
            config["thinking_budget"] = budget
        if cfg.get("model.safety_settings") is not None:
            config["safety_settings"] = cfg.get("model.safety_settings")
    if api == "amazon_bedrock":
        # Upstream's Bedrock client sends cfg.generator, not the benchmarks' per-call settings (§12.2).
        config["generator"] = cfg.get_mapping("generator")
    return config


# A judge nejumi serves itself (llamacpp, vllm) makes a fully local run possible; one
# served exactly as the evaluated model asks the model's own service.
JUDGE_APIS = ("openai", "openai-compatible", "azure-openai", "grpc", "llamacpp", "vllm")
# Upstream's Azure judge client (spec §1.4): endpoint and key from these, the model minus "azure-" as deployment.
AZURE_ENDPOINT_ENV = "AZURE_OPENAI_ENDPOINT"
AZURE_KEY_ENV = "AZURE_OPENAI_API_KEY"
# Upstream's 2023-07-01-preview has no Responses API (structured judging via Azure is broken there).
AZURE_JUDGE_API_VERSION = "2025-03-01-preview"


@dataclass(frozen=True)
class JudgeSpec:
    """A judge: `<benchmark>.judge` in the config (model, endpoint, concurrency, rate limit)."""

    section: str
    model: ModelSpec
    parallel: int
    requests_per_minute: float | None
    params: dict[str, Any]

    @classmethod
    def from_config(
        cls, cfg: Config, section: str, default_model: str, environ: Mapping[str, str] = os.environ
    ) -> JudgeSpec:
        """`api: openai` is upstream's judge: the Responses API with structured output, on Azure when
        $OPENAI_API_TYPE is azure; `openai-compatible` asks a local server's Chat Completions API."""
        api = cfg.get_str(f"{section}.api", "openai", choices=JUDGE_APIS) or "openai"
        if api == "openai" and environ.get("OPENAI_API_TYPE") == "azure":
            api = "azure-openai"
        name = cfg.get_str(f"{section}.model", default_model) or default_model
        base_url = cfg.get_str(f"{section}.base_url")
        endpoint = cfg.get_str(f"{section}.endpoint")
        if api == "openai-compatible" and not base_url:
            raise cfg.error(f"{section}.base_url", "is required with api: openai-compatible")
        if api == "grpc" and not endpoint:
            raise cfg.error(f"{section}.endpoint", "is required with api: grpc (host:port of a nejumi service)")
        if api in SERVED and not cfg.get_str(f"{section}.model"):
            raise cfg.error(f"{section}.model", f"is required with api: {api} (the judge model to serve)")
        mode = {"compatibility": Compatibility.from_config(cfg).mode}
        backend_config: dict[str, Any] = {}
        api_key_env = cfg.get_str(f"{section}.api_key_env")
        if api == "openai":
            api, backend_config = "openai_responses", mode
        elif api == "azure-openai":
            version = cfg.get_str(f"{section}.api_version", AZURE_JUDGE_API_VERSION)
            backend_config = {**mode, "azure_endpoint_env": AZURE_ENDPOINT_ENV, "api_version": version}
            # base_config names OpenAI's key variable for the openai judge; Azure has its own.
            if api_key_env in (None, "OPENAI_API_KEY"):
                api_key_env = AZURE_KEY_ENV
            api, name = "openai_responses", name.removeprefix("azure-")
        elif api == "openai-compatible":
            backend_config = mode
        if api in ("openai_responses", "openai-compatible"):
            # Upstream's judge client waits `openai.http_timeout.read` (300 s in base_config).
            timeout = cfg.get_float(f"{section}.timeout_s", minimum=0.0)
            if timeout is not None:
                backend_config = {**backend_config, "timeout_s": timeout}
        elif api in SERVED:
            # The run's own serving section (`llamacpp:`, `vllm:`) unless the judge has its own.
            backend_config = cfg.get_mapping(f"{section}.{api}") or cfg.get_mapping(api)
        model = ModelSpec(
            api=api,
            name=name,
            base_url=base_url,
            api_key_env=api_key_env,
            endpoint=endpoint,
            backend_config=backend_config,
        )
        return cls(
            section=section,
            model=model,
            parallel=cfg.get_int(f"{section}.parallel", 8, minimum=1) or 8,
            requests_per_minute=cfg.get_float(f"{section}.requests_per_minute", minimum=0.0),
            params=cfg.get_mapping(f"{section}.params"),
        )
