"""Which model to evaluate and how to reach it, read from the merged config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nejumi.config import Config

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

    @property
    def model_id(self) -> str:
        """Part of every request key: answers are reused only for the same model."""
        return f"{self.backend}:{self.name}"

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
            endpoint=endpoint,
            backend_config=backend_config,
        )
