"""A tiny RoBERTa sequence classifier built at test time, saved as a Hugging Face model folder.

Same architecture and files as `nlp-waseda/roberta_jtruthfulqa` would give
`from_pretrained` (config.json, weights, a fast tokenizer), but random seeded weights,
two layers and a character-level vocabulary: the production loading and scoring code
runs on it in seconds on a CPU. torch and transformers are optional extras: tests
skip without them, and fail under CI=true.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
# RoBERTa positions start after the padding index: 512 tokens need 514 positions.
MAX_POSITIONS = 514
# On a CPU nejumi's probabilities equal the direct ones bit for bit; on a GPU its kernels
# may differ from the CPU's in the last bits.
TOLERANCE = 1e-6


def close_to(expected: Any) -> Any:
    """`expected` (a probability or a list of them) up to TOLERANCE, for ==."""
    return pytest.approx(expected, rel=0, abs=TOLERANCE)


def require_torch() -> None:
    """Skip (fail under CI=true) when the scoring models' extras are absent."""
    for name in ("torch", "transformers", "tokenizers"):
        try:
            __import__(name)
        except ImportError as err:
            reason = f"{name} is not installed ({err}); the scoring-model tests need nejumi's extras"
            if os.environ.get("CI", "").strip().lower() == "true":
                pytest.fail(reason + " (required when CI=true)")
            pytest.skip(reason)


def character_tokenizer(texts: list[str]) -> Any:
    """A fast tokenizer whose tokens are the texts' characters, with RoBERTa's <s> ... </s>."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    characters = sorted({c for text in texts for c in text if not c.isspace()})
    vocab = {token: index for index, token in enumerate(SPECIALS + characters)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    # Every character is its own word; spaces only separate.
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split("", behavior="isolated")]
    )
    tokenizer.post_processor = processors.RobertaProcessing(("</s>", vocab["</s>"]), ("<s>", vocab["<s>"]))
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        model_max_length=512,
    )


def build_tiny_roberta(folder: Path, texts: list[str], seed: int = 0) -> Path:
    """Saves a seeded two-layer RobertaForSequenceClassification and its tokenizer into `folder`."""
    import torch
    from transformers import RobertaConfig, RobertaForSequenceClassification

    tokenizer = character_tokenizer(texts)
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=MAX_POSITIONS,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        num_labels=2,
        # Far wider random weights than RoBERTa's 0.02, so that different texts get
        # probabilities spread on both sides of 0.5 instead of one value for all.
        initializer_range=1.0,
    )
    torch.manual_seed(seed)
    model = RobertaForSequenceClassification(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def direct_probability(folder: Path, text: str, max_tokens: int = 512) -> float:
    """P(class 1) computed without nejumi, on the CPU: the saved tokenizer's vocabulary and a forward pass."""
    import torch
    from tokenizers import Tokenizer
    from transformers import RobertaForSequenceClassification

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    ids = tokenizer.encode(text, add_special_tokens=False).ids[: max_tokens - 2]
    bos, eos = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    model = RobertaForSequenceClassification.from_pretrained(folder)
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([[bos, *ids, eos]])).logits
    return torch.softmax(logits, dim=-1)[0][1].item()
