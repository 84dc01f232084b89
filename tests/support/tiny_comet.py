"""A tiny COMET RegressionMetric built at test time, in unbabel-comet's on-disk layout.

`<folder>/checkpoints/model.ckpt` (a Lightning-style checkpoint: `state_dict` and
`hyper_parameters`), `<folder>/hparams.yaml` naming `<folder>/encoder` as its
`pretrained_model`, and that encoder folder (an XLM-RoBERTa config and a character-level fast
tokenizer). Every weight comes from numpy's seeded legacy generator in sorted name order,
never from torch's initialisers, so the same files come out under any torch or transformers
version: unbabel-comet's own scores of these files (tests/support/comet_reference.json, made by
tests/support/comet_reference.py in a venv with unbabel-comet 2.2.6) stay valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from support.tiny_roberta import MAX_POSITIONS, character_tokenizer

HIDDEN = 16
LAYERS = 2
FEED_FORWARD = (24, 8)
# The texts every tiny COMET's vocabulary covers: the reference rows use only their characters.
VOCABULARY_TEXTS = [
    "The cat sat on the mat. A quick brown fox jumps over the lazy dog, 0123456789!?",
    "THE CAT SAT ON THE MAT. A QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
    "猫がマットの上に座った。素早い茶色の狐が怠け者の犬を飛び越える。今日は良い天気です。",
    "私は毎朝コーヒーを飲みます。東京駅で友達に会いました。会議は午後三時に始まる予定です。",
]


@dataclass(frozen=True)
class Variant:
    """The hparams.yaml choices a tiny COMET is built with (wmt22-comet-da: sparsemax, no layer norm, avg)."""

    layer_transformation: str = "sparsemax"
    layer_norm: bool = False
    pool: str = "avg"
    layer: str | int = "mix"
    seed: int = 0

    @property
    def name(self) -> str:
        return f"{self.layer_transformation}-{'ln' if self.layer_norm else 'noln'}-{self.pool}-{self.layer}-{self.seed}"


VARIANTS = (
    Variant(),
    Variant(layer_transformation="softmax", layer_norm=True, seed=1),
    Variant(pool="cls", seed=2),
    Variant(pool="max", layer=1, seed=3),
)


def hparams(variant: Variant, encoder: Path) -> dict[str, Any]:
    return {
        "class_identifier": "regression_metric",
        "encoder_model": "XLM-RoBERTa",
        "pretrained_model": str(encoder),
        "layer": variant.layer,
        "layer_transformation": variant.layer_transformation,
        "layer_norm": variant.layer_norm,
        "pool": variant.pool,
        "hidden_sizes": list(FEED_FORWARD),
        "activations": "Tanh",
        "final_activation": None,
        "dropout": 0.1,
        "keep_embeddings_frozen": True,
        "nr_frozen_epochs": 0.3,
        "load_pretrained_weights": False,
    }


def parameter_shapes(config: Any, variant: Variant) -> dict[str, tuple[int, ...]]:
    """unbabel-comet's state-dict names and shapes for this encoder config."""
    from transformers import XLMRobertaModel

    encoder = XLMRobertaModel(config, add_pooling_layer=False)
    shapes = {f"encoder.model.{name}": tuple(p.shape) for name, p in encoder.named_parameters()}
    if variant.layer == "mix":
        shapes.update({f"layerwise_attention.scalar_parameters.{i}": (1,) for i in range(LAYERS + 1)})
        shapes["layerwise_attention.gamma"] = (1,)
    sizes = [6 * HIDDEN, *FEED_FORWARD, 1]
    for index, (size_in, size_out) in enumerate(pairwise(sizes)):
        shapes[f"estimator.ff.{3 * index}.weight"] = (size_out, size_in)
        shapes[f"estimator.ff.{3 * index}.bias"] = (size_out,)
    return shapes


def build_tiny_comet(folder: Path, variant: Variant = Variant()) -> Path:
    """Writes the model folder; returns it (what `jaster.comet_model` points at)."""
    import numpy as np
    import torch
    import yaml
    from transformers import XLMRobertaConfig

    encoder = folder / "encoder"
    tokenizer = character_tokenizer(VOCABULARY_TEXTS)
    tokenizer.save_pretrained(encoder)
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=MAX_POSITIONS,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    config.save_pretrained(encoder)
    rng = np.random.RandomState(variant.seed)
    state = {}
    for name, shape in sorted(parameter_shapes(config, variant).items()):
        values = rng.normal(0.0, 0.5, size=shape)
        if name.endswith("LayerNorm.weight") or name == "layerwise_attention.gamma":
            values = 1.0 + values / 5
        state[name] = torch.tensor(values, dtype=torch.float32)
    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    parameters = hparams(variant, encoder)
    torch.save(
        {"state_dict": state, "hyper_parameters": parameters, "pytorch-lightning_version": "2.5.2", "epoch": 0},
        folder / "checkpoints" / "model.ckpt",
    )
    (folder / "hparams.yaml").write_text(yaml.safe_dump(parameters), encoding="utf-8")
    return folder
