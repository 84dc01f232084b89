"""Which model to evaluate (or judge with) and how to reach it, read from the merged config."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nejumi.config import Config
from nejumi.request_key import CAPACITY_KEYS, ModelIdentity

# api values: nejumi serves llamacpp/vllm models itself through its gRPC service;
# "grpc" uses a service that is already running; the rest speak OpenAI's HTTP API.
SERVED = ("llamacpp", "vllm", "vllm-docker")
OPENAI_LIKE = ("openai", "openai-compatible", "vllm-external")
APIS = (*SERVED, "grpc", *OPENAI_LIKE)


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
        """The inference-service backend for a served model."""
        return "vllm" if self.api in ("vllm", "vllm-docker") else self.api

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
        endpoint = cfg.get_str("inference.endpoint")
        if api == "grpc" and not endpoint:
            raise cfg.error(
                "inference.endpoint",
                "is required with api: grpc (host:port of a nejumi inference service)",
            )
        base_url = cfg.get_str("base_url")
        if api in ("openai-compatible", "vllm-external") and not base_url:
            raise cfg.error(
                "base_url",
                f"is required with api: {api} (e.g. http://localhost:8000/v1)",
            )
        default_key = "OPENAI_API_KEY" if api == "openai" else None
        return cls(
            api=api,
            name=name,
            base_url=base_url,
            api_key_env=cfg.get_str("api_key_env", default_key),
            endpoint=endpoint if api == "grpc" else None,
            backend_config=backend_config,
        )


JUDGE_APIS = ("openai", "openai-compatible", "grpc")


@dataclass(frozen=True)
class JudgeSpec:
    """A judge: `<benchmark>.judge` in the config (model, endpoint, concurrency, rate limit)."""

    section: str
    model: ModelSpec
    parallel: int
    requests_per_minute: float | None
    params: dict[str, Any]

    @classmethod
    def from_config(cls, cfg: Config, section: str, default_model: str) -> JudgeSpec:
        api = cfg.get_str(f"{section}.api", "openai", choices=JUDGE_APIS) or "openai"
        name = cfg.get_str(f"{section}.model", default_model) or default_model
        base_url = cfg.get_str(f"{section}.base_url")
        endpoint = cfg.get_str(f"{section}.endpoint")
        if api == "openai-compatible" and not base_url:
            raise cfg.error(f"{section}.base_url", "is required with api: openai-compatible")
        if api == "grpc" and not endpoint:
            raise cfg.error(f"{section}.endpoint", "is required with api: grpc (host:port of a nejumi service)")
        default_key = "OPENAI_API_KEY" if api == "openai" else None
        model = ModelSpec(
            api=api,
            name=name,
            base_url=base_url,
            api_key_env=cfg.get_str(f"{section}.api_key_env", default_key),
            endpoint=endpoint,
        )
        return cls(
            section=section,
            model=model,
            parallel=cfg.get_int(f"{section}.parallel", 8, minimum=1) or 8,
            requests_per_minute=cfg.get_float(f"{section}.requests_per_minute", minimum=0.0),
            params=cfg.get_mapping(f"{section}.params"),
        )
