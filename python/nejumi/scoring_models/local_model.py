"""Where a scoring model comes from: a local folder, or a hub id already in the Hugging Face cache.

nejumi never downloads a scoring model mid-run. torch and transformers are optional extras; without them, or
without the model, `ScoringModelUnavailable` says what to install or download, naming the config key to point
at a folder instead.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

DEPENDENCIES = ("torch", "transformers")


class ScoringModelUnavailable(Exception):
    """The scoring model cannot run here; the message says why and what to do."""


def require_dependencies() -> None:
    missing = [name for name in DEPENDENCIES if importlib.util.find_spec(name) is None]
    if missing:
        raise ScoringModelUnavailable(
            f"{' and '.join(missing)} not installed: install nejumi's extras "
            "(pip install -r requirements-extras.lock, or NEJUMI_EXTRAS=1 with tools/bazel)"
        )


def locate(model_name: str, key: str) -> Path:
    """The folder holding the model: `model_name` itself, or its snapshot in the local HF cache.

    `key` is the config key that names the model, for the message that says how to point it at a folder.
    """
    folder = Path(model_name).expanduser()
    if folder.is_dir():
        return folder
    download = f"download it first (`hf download {model_name}`), or point {key} at a folder holding the model"
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise ScoringModelUnavailable(f"{model_name} is not a folder, and huggingface_hub is not installed") from None
    try:
        return Path(snapshot_download(model_name, local_files_only=True))
    except Exception as err:  # not in the cache, or not even a valid hub id
        raise ScoringModelUnavailable(
            f"{model_name} is neither a folder nor in the local Hugging Face cache ({type(err).__name__}): {download}"
        ) from None
