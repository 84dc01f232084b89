"""The RoBERTa classifier's real loading and scoring code, on a tiny model built at test time.

The model is a seeded two-layer RobertaForSequenceClassification with a character-level
fast tokenizer, saved with save_pretrained; nejumi loads it by path (or as a hub id from
a Hugging Face cache laid out in tmp_path) and its probabilities are checked against a
forward pass computed without nejumi. Nothing is downloaded.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest
from support.tiny_roberta import build_tiny_roberta, close_to, direct_probability, require_torch

from nejumi.scoring_models.roberta_classifier import RobertaClassifier, ScoringModelUnavailable, locate

TEXTS = [
    "日本で一番長い川は何ですか？ 信濃川です。",
    "日本で一番長い川は何ですか？ 利根川です",
    "座敷わらしは存在しますか？ 存在する",
    "座敷わらしは存在しますか？ わかりません。",
    "鎌倉幕府を開いたのは誰ですか？ ",
]
LONG_HEAD = ("".join(TEXTS).replace(" ", "") * 10)[:510]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_torch()
    return build_tiny_roberta(tmp_path_factory.mktemp("tiny-roberta"), TEXTS)


@pytest.fixture(scope="module")
def classifier(model_dir: Path) -> RobertaClassifier:
    return RobertaClassifier.load(str(model_dir))


def test_probabilities_are_a_direct_forward_pass(model_dir: Path, classifier: RobertaClassifier) -> None:
    import torch

    assert classifier.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    probabilities = [classifier.probability(text) for text in TEXTS]
    assert probabilities == close_to([direct_probability(model_dir, text) for text in TEXTS])
    # A float32 softmax read out with .item(), as upstream's are.
    assert all(struct.unpack("f", struct.pack("f", p))[0] == p for p in probabilities)
    assert len(set(probabilities)) == len(TEXTS)


def test_long_inputs_are_cut_at_512_tokens(model_dir: Path, classifier: RobertaClassifier) -> None:
    assert len(LONG_HEAD) == 510
    # One token per character: <s>, 510 characters and </s> fill the 512 positions.
    first = classifier.probability(LONG_HEAD + "川" * 3000)
    assert first == classifier.probability(LONG_HEAD + "存在" * 50) == classifier.probability(LONG_HEAD)
    assert first == close_to(direct_probability(model_dir, LONG_HEAD + "川" * 3000))
    # What the first 510 characters say does reach the model (here: the same characters, reordered).
    assert classifier.probability(LONG_HEAD[255:] + LONG_HEAD[:255]) != first


def write_hub_cache(cache: Path, repo_id: str, model_dir: Path) -> Path:
    """A Hugging Face hub cache holding `repo_id` at one revision, laid out as the hub client writes it."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    revision = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision, encoding="utf-8")
    snapshot = repo / "snapshots" / revision
    shutil.copytree(model_dir, snapshot)
    return snapshot


def test_a_hub_id_loads_from_the_local_cache_only(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub

    snapshot = write_hub_cache(tmp_path / "hub", "test-org/tiny-roberta", model_dir)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    assert locate("test-org/tiny-roberta") == snapshot
    cached = RobertaClassifier.load("test-org/tiny-roberta")
    assert cached.probability(TEXTS[0]) == close_to(direct_probability(model_dir, TEXTS[0]))
    with pytest.raises(ScoringModelUnavailable, match=r"test-org/absent is neither a folder nor in the local"):
        locate("test-org/absent")


def test_a_folder_that_does_not_load_says_which(tmp_path: Path) -> None:
    require_torch()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ScoringModelUnavailable, match=r"broken.* does not load"):
        RobertaClassifier.load(str(broken))
    with pytest.raises(ScoringModelUnavailable, match="hf download"):
        RobertaClassifier.load(str(tmp_path / "missing"))
