"""Backend registry. Each backend module is imported only when chosen, so CPU machines never import vLLM."""

from collections.abc import Mapping
from typing import Any

from nejumi_inference.backends.base import Backend

BACKEND_NAMES = ("llamacpp", "openai", "vllm", "scripted")


def create_backend(name: str, model: str, config: Mapping[str, Any]) -> Backend:
    """Build (not start) the backend ``name`` serving ``model`` with its ``--backend-config`` options."""
    if name == "llamacpp":
        from nejumi_inference.backends.llamacpp import LlamaCppBackend

        return LlamaCppBackend.from_config(model, config)
    if name == "openai":
        from nejumi_inference.backends.openai_api import OpenAIBackend

        return OpenAIBackend.from_config(model, config)
    if name == "vllm":
        from nejumi_inference.backends.vllm_engine import VllmBackend

        return VllmBackend.from_config(model, config)
    if name == "scripted":
        from nejumi_inference.backends.scripted import ScriptedBackend

        return ScriptedBackend.from_config(model, config)
    raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}")


__all__ = ["BACKEND_NAMES", "Backend", "create_backend"]
