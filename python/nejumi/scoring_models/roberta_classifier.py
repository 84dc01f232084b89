"""JTruthfulQA's scoring model: a RoBERTa sequence classifier, loaded and run as upstream does.

Upstream's `RoBERTaEvaluator` (scripts/evaluator/jtruthfulqa.py) loads
`jtruthfulqa.roberta_model_name` with `AutoTokenizer` and
`AutoModelForSequenceClassification`, on CUDA when there is one, and scores one text at
a time (`truncation=True, max_length=512`) as softmax(logits)[0][1], a float32 read out
with `.item()`. Texts are scored one by one, never padded into a batch, so every
probability is the one upstream's loop computes.

The model is a local folder or a hub id already in the local Hugging Face cache:
nejumi never downloads it mid-run. torch and transformers are optional extras; without
them, or without the model, `ScoringModelUnavailable` says what to install or download.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

MAX_LENGTH = 512
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


def locate(model_name: str) -> Path:
    """The folder holding the model: `model_name` itself, or its snapshot in the local HF cache."""
    folder = Path(model_name).expanduser()
    if folder.is_dir():
        return folder
    download = (
        f"download it first (`hf download {model_name}`), or point jtruthfulqa.roberta_model_name at a folder "
        "holding the model"
    )
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


class RobertaClassifier:
    """P(class 1) of a text, as upstream's RoBERTaEvaluator.evaluate computes it."""

    def __init__(self, tokenizer: Any, model: Any, device: Any) -> None:
        self.tokenizer = tokenizer
        self.model = model
        self.device = device

    @classmethod
    def load(cls, model_name: str) -> RobertaClassifier:
        require_dependencies()
        folder = locate(model_name)
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder)
            model = AutoModelForSequenceClassification.from_pretrained(folder).to(device)
        except Exception as err:  # a broken folder, or a tokenizer needing what is absent (Juman++)
            raise ScoringModelUnavailable(
                f"{model_name} ({folder}) does not load: {type(err).__name__}: {err}"
            ) from err
        return cls(tokenizer, model, device)

    def probability(self, text: str) -> float:
        import torch

        inputs = self.tokenizer(text, return_tensors="pt", truncation=True, max_length=MAX_LENGTH).to(self.device)
        with torch.no_grad():
            logits = self.model(**inputs).logits
        return float(torch.nn.functional.softmax(logits, dim=-1)[0][1].item())

    def close(self) -> None:
        """Frees the GPU memory the model holds, as upstream does once every answer is scored."""
        import torch

        self.model = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
