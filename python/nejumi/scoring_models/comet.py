"""COMET for jaster's translation tasks: unbabel-comet 2.2.6's RegressionMetric, in torch and transformers.

Upstream (scripts/evaluator/jaster_translation.py) scores alt-e-to-j and alt-j-to-e with
`Unbabel/wmt22-comet-da`: `load_from_checkpoint` then `predict(data, batch_size=8, gpus=1)`, one
`{"src", "mt", "ref"}` per row. This module computes the same numbers without unbabel-comet and
pytorch-lightning (whose pins would hold back the rest of nejumi's stack):

- the encoder is `XLMRobertaModel` (no pooling layer) built from the config of the checkpoint's
  `pretrained_model`, its weights from `checkpoints/model.ckpt`; texts are tokenized with that
  model's own tokenizer (AutoTokenizer: XLMRobertaTokenizerFast for xlm-roberta-large), padded per
  batch and cut at `max_position_embeddings - 4` tokens;
- layer `mix`: every hidden state (embeddings included) weighted by sparsemax or softmax of the
  learned scalars and scaled by gamma, optionally layer-normalised under the mask;
- `avg` pooling over the non-padding tokens (or `max`, `cls`);
- the estimator sees `[mt, ref, mt*ref, |mt-ref|, mt*src, |mt-src|]` through its feed-forward layers;
- batches of 8 in order of the source's length, scores put back in the rows' order.

The model folder is a local folder or a hub id already in the Hugging Face cache (nejumi never
downloads mid-run); so is the encoder its `hparams.yaml` names (`xlm-roberta-large`: only its config
and tokenizer are read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from nejumi.scoring_models.local_model import ScoringModelUnavailable, locate, require_dependencies

DEFAULT_MODEL = "Unbabel/wmt22-comet-da"
MODEL_KEY = "jaster.comet_model"
BATCH_SIZE = 8  # upstream's predict(batch_size=8); batches change padding only, never a score
POOLS = ("avg", "max", "cls")
TRANSFORMS = ("softmax", "sparsemax", "sparsemax_patch")


@dataclass(frozen=True)
class Triple:
    """One row to score: the source text, the model's translation and the reference."""

    src: str
    mt: str
    ref: str


@dataclass(frozen=True)
class CometHparams:
    """The parts of a RegressionMetric's hparams.yaml that decide its scores."""

    pretrained_model: str
    layer: str | int
    layer_transformation: str
    layer_norm: bool
    pool: str
    hidden_sizes: tuple[int, ...]
    activations: str
    final_activation: str | None

    @classmethod
    def read(cls, path: Path) -> CometHparams:
        import yaml

        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as err:
            raise ScoringModelUnavailable(f"{path}: cannot be read: {err}") from None
        if not isinstance(raw, dict):
            raise ScoringModelUnavailable(f"{path}: not a mapping of hyper-parameters")

        def field(key: str, default: Any) -> Any:
            return raw.get(key, default)

        checks = {
            "class_identifier": (field("class_identifier", None) == "regression_metric", "regression_metric"),
            "encoder_model": (field("encoder_model", "XLM-RoBERTa") == "XLM-RoBERTa", "XLM-RoBERTa"),
            "pool": (field("pool", "avg") in POOLS, " or ".join(POOLS)),
            "layer_transformation": (field("layer_transformation", "softmax") in TRANSFORMS, " or ".join(TRANSFORMS)),
        }
        for key, (ok, wanted) in checks.items():
            if not ok:
                raise ScoringModelUnavailable(
                    f"{path}: {key} is {raw.get(key)!r}; nejumi's COMET reads RegressionMetric checkpoints with "
                    f"{key} {wanted} (as Unbabel/wmt22-comet-da)"
                )
        layer = field("layer", "mix")
        if layer != "mix" and not (isinstance(layer, int) and layer >= 0):
            raise ScoringModelUnavailable(f"{path}: layer must be 'mix' or a layer number (got {layer!r})")
        return cls(
            pretrained_model=str(field("pretrained_model", "xlm-roberta-large")),
            layer=layer,
            layer_transformation=str(field("layer_transformation", "softmax")),
            layer_norm=bool(field("layer_norm", True)),
            pool=str(field("pool", "avg")),
            hidden_sizes=tuple(int(size) for size in field("hidden_sizes", [3072, 1024])),
            activations=str(field("activations", "Tanh")),
            final_activation=field("final_activation", None),
        )


def model_files(model_name: str) -> tuple[Path, Path]:
    """(checkpoints/model.ckpt, hparams.yaml) of a COMET model folder, as unbabel-comet lays them out."""
    folder = locate(model_name, MODEL_KEY)
    checkpoint, hparams = folder / "checkpoints" / "model.ckpt", folder / "hparams.yaml"
    for path in (checkpoint, hparams):
        if not path.is_file():
            raise ScoringModelUnavailable(f"{model_name} ({folder}) has no {path.relative_to(folder)}")
    return checkpoint, hparams


def check_available(model_name: str) -> None:
    """Raises ScoringModelUnavailable unless the model and its encoder's files are here (nothing is loaded)."""
    require_dependencies()
    _, hparams_path = model_files(model_name)
    hparams = CometHparams.read(hparams_path)
    locate(hparams.pretrained_model, f"{hparams_path}'s pretrained_model")


def sparsemax(weights: Any) -> Any:
    """entmax's sparsemax over one vector (full sort), as unbabel-comet's layerwise attention uses it."""
    import torch

    shifted = weights - weights.max()
    ordered, _ = torch.sort(shifted, descending=True)
    cumulative = ordered.cumsum(0) - 1
    ranks = torch.arange(1, len(ordered) + 1, dtype=weights.dtype, device=weights.device)
    support = (ranks * ordered > cumulative).sum().unsqueeze(0)
    tau = cumulative.gather(0, support - 1) / support.to(weights.dtype)
    return torch.clamp(shifted - tau, min=0)


def masked_layer_norm(tensor: Any, mask: Any) -> Any:
    """unbabel-comet's layer norm over the unmasked tokens of each sentence."""
    import torch

    broadcast = mask.unsqueeze(-1)
    masked = tensor * broadcast
    batch, _, width = tensor.size()
    count = mask.sum(1) * width
    mean = (masked.view(batch, -1).sum(1) / count).view(batch, 1, 1)
    variance = (((masked - mean) * broadcast) ** 2).view(batch, -1).sum(1) / count
    return (tensor - mean) / torch.sqrt(variance + 1e-12).view(batch, 1, 1)


def build_network(hparams: CometHparams, encoder_config: Any) -> Any:
    """The RegressionMetric's modules under unbabel-comet's state-dict names (encoder.model.*, ...)."""
    import torch
    from transformers import XLMRobertaModel

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = XLMRobertaModel(encoder_config, add_pooling_layer=False)

    class LayerwiseAttention(torch.nn.Module):
        def __init__(self, layers: int) -> None:
            super().__init__()
            self.scalar_parameters = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(1)) for _ in range(layers)])
            self.gamma = torch.nn.Parameter(torch.ones(1))

    class FeedForward(torch.nn.Module):
        def __init__(self, width: int) -> None:
            super().__init__()
            sizes = [width, *hparams.hidden_sizes]
            modules: list[torch.nn.Module] = []
            for size_in, size_out in pairwise(sizes):
                modules += [torch.nn.Linear(size_in, size_out), activation(hparams.activations), torch.nn.Dropout()]
            modules.append(torch.nn.Linear(sizes[-1], 1))
            if hparams.final_activation is not None:
                modules.append(activation(hparams.final_activation))
            self.ff = torch.nn.Sequential(*modules)

    network = torch.nn.Module()
    network.encoder = Encoder()
    if hparams.layer == "mix":
        network.layerwise_attention = LayerwiseAttention(encoder_config.num_hidden_layers + 1)
    network.estimator = FeedForward(6 * encoder_config.hidden_size)
    return network


def activation(name: str) -> Any:
    import torch

    module = getattr(torch.nn, name.title(), None)
    if module is None:
        raise ScoringModelUnavailable(f"{name} is not a torch.nn activation")
    return module()


def load_weights(network: Any, checkpoint: Path) -> None:
    """The checkpoint's state dict into the network: every parameter must be there; extra entries are ignored
    (unbabel-comet loads with strict=False; its dropout buffers and a pooler have no place here)."""
    import torch

    try:
        saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception as err:  # a broken file, or one holding more than tensors and plain data
        raise ScoringModelUnavailable(f"{checkpoint} does not load: {type(err).__name__}: {err}") from None
    state = saved.get("state_dict", saved) if isinstance(saved, dict) else None
    if not isinstance(state, dict):
        raise ScoringModelUnavailable(f"{checkpoint} holds no state_dict")
    missing, _ = network.load_state_dict(state, strict=False)
    missing = [key for key in missing if not key.endswith("position_ids")]
    if missing:
        raise ScoringModelUnavailable(f"{checkpoint} lacks {len(missing)} weights, e.g. {', '.join(missing[:3])}")


class Comet:
    """Segment scores of (src, mt, ref) triples, as RegressionMetric.predict computes them."""

    def __init__(self, hparams: CometHparams, tokenizer: Any, network: Any, device: Any, max_length: int) -> None:
        self.hparams = hparams
        self.tokenizer = tokenizer
        self.network = network
        self.device = device
        self.max_length = max_length

    @classmethod
    def load(cls, model_name: str = DEFAULT_MODEL) -> Comet:
        require_dependencies()
        checkpoint, hparams_path = model_files(model_name)
        hparams = CometHparams.read(hparams_path)
        encoder = locate(hparams.pretrained_model, f"{hparams_path}'s pretrained_model")
        import torch
        from transformers import AutoTokenizer, XLMRobertaConfig

        try:
            tokenizer = AutoTokenizer.from_pretrained(encoder, local_files_only=True)
            config = XLMRobertaConfig.from_pretrained(encoder, local_files_only=True)
        except Exception as err:
            raise ScoringModelUnavailable(
                f"the encoder {hparams.pretrained_model} ({encoder}) does not load: {type(err).__name__}: {err}"
            ) from err
        network = build_network(hparams, config)
        load_weights(network, checkpoint)
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        network.to(device).eval()
        # unbabel-comet: max_length = max_positions - 2, where max_positions = max_position_embeddings - 2.
        return cls(hparams, tokenizer, network, device, config.max_position_embeddings - 4)

    def scores(self, triples: Sequence[Triple]) -> list[float]:
        """One score per triple, in their order."""
        import numpy as np
        import torch

        # predict(length_batching=True): batches follow np.argsort of the sources' lengths.
        order = [int(i) for i in np.argsort([len(t.src) for t in triples])]
        scored: dict[int, float] = {}
        with torch.inference_mode():
            for start in range(0, len(order), BATCH_SIZE):
                batch = [triples[i] for i in order[start : start + BATCH_SIZE]]
                values = self._batch_scores(batch).tolist()
                scored.update(zip(order[start : start + BATCH_SIZE], values, strict=True))
        return [scored[i] for i in range(len(triples))]

    def _batch_scores(self, batch: Sequence[Triple]) -> Any:
        import torch

        src = self._sentence_embedding([t.src for t in batch])
        mt = self._sentence_embedding([t.mt for t in batch])
        ref = self._sentence_embedding([t.ref for t in batch])
        features = torch.cat((mt, ref, mt * ref, torch.abs(mt - ref), mt * src, torch.abs(mt - src)), dim=1)
        return self.network.estimator.ff(features).view(-1)

    def _sentence_embedding(self, texts: list[str]) -> Any:
        import torch

        inputs = self.tokenizer(
            texts, return_tensors="pt", padding=True, truncation=True, max_length=self.max_length
        ).to(self.device)
        ids, mask = inputs["input_ids"], inputs["attention_mask"]
        layers = self.network.encoder.model(
            input_ids=ids, attention_mask=mask, output_hidden_states=True, return_dict=True
        ).hidden_states
        embeddings = self._mix(layers, mask) if self.hparams.layer == "mix" else layers[self.hparams.layer]
        pad = self.tokenizer.pad_token_id
        if self.hparams.pool == "cls":
            return embeddings[:, 0, :]
        if self.hparams.pool == "max":
            padded = embeddings.float().masked_fill(ids.eq(pad).unsqueeze(-1), float("-inf")).type_as(embeddings)
            return padded.max(dim=1)[0]
        words = embeddings.float().masked_fill(ids.eq(pad).unsqueeze(-1), 0.0).type_as(embeddings)
        return torch.sum(words, 1) / mask.unsqueeze(-1).expand(embeddings.size()).float().sum(1)

    def _mix(self, layers: Sequence[Any], mask: Any) -> Any:
        import torch

        attention = self.network.layerwise_attention
        weights = torch.cat(list(attention.scalar_parameters))
        # unbabel-comet >= 2.2.4 reads `sparsemax_patch` as softmax (its issue #244).
        sparse = self.hparams.layer_transformation == "sparsemax"
        normed = sparsemax(weights) if sparse else torch.softmax(weights, dim=0)
        if self.hparams.layer_norm:
            layers = [masked_layer_norm(layer, mask.float()) for layer in layers]
        pieces = [weight * layer for weight, layer in zip(torch.split(normed, 1), layers, strict=True)]
        return attention.gamma * sum(pieces)

    def close(self) -> None:
        """Frees the GPU memory the model holds, once every row is scored."""
        import torch

        self.network = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
