"""JBBQ parity with the official harness: every golden key and every item.

The real JBBQ data is gated, so the golden set (../shared/golden/jbbq.*) carries its
labels in the prediction lines: five scenarios (the `task` field) of 40 synthetic
items. This test writes them as task files in the official layout (`test/<scenario>.json`)
and re-scores the predictions through the `score` path, with JBBQ registered.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from _shared import require_shared_dir
from golden_data import read_jsonl
from jbbq_fixture import write_golden_dataset

from nejumi.benchmarks.jbbq import Jbbq
from nejumi.benchmarks.jbbq.scoring import score_answer
from nejumi.compat import Compatibility
from nejumi.predictions import read_predictions
from nejumi.rescore import rescore_predictions


def same(expected: float | None, got: float | None) -> bool:
    if expected is None or got is None:
        return expected is got
    return math.isclose(expected, got, rel_tol=0, abs_tol=1e-12)


@pytest.fixture(scope="module")
def golden() -> Path:
    return require_shared_dir("golden") / "golden"


@pytest.fixture(scope="module")
def data_dir(golden: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_golden_dataset(tmp_path_factory.mktemp("jbbq"), read_jsonl(golden / "jbbq.predictions.jsonl"))


def rescore(golden: Path, data_dir: Path, compat: Compatibility) -> dict[str, float | None]:
    return rescore_predictions(golden / "jbbq.predictions.jsonl", data_dir, compat, print)


def test_every_golden_key_matches(golden: Path, data_dir: Path) -> None:
    expected = json.loads((golden / "jbbq.expected.json").read_text(encoding="utf-8"))
    scores = rescore(golden, data_dir, Compatibility())
    mismatched = {k: (v, scores.get(k, "missing")) for k, v in expected.items() if not same(v, scores.get(k))}
    assert mismatched == {}
    assert set(scores) == set(expected)
    # JBBQ has no number-changing quirk: the corrected mode scores alike.
    assert rescore(golden, data_dir, Compatibility("corrected")) == scores


def test_every_item_matches(golden: Path, data_dir: Path) -> None:
    predictions = read_predictions(golden / "jbbq.predictions.jsonl")
    benchmark = Jbbq.for_predictions(data_dir, Compatibility(), predictions, print)
    samples = {(s.task, s.shots, s.id): s for s in benchmark.plan()}
    outputs = {(p.task, p.shots, p.id): p.output for p in predictions}
    items = read_jsonl(golden / "jbbq.items.jsonl")
    for item in items:
        key = (item["task"], item["shots"], item["id"])
        scores = {s.metric: s for s in score_answer(samples[key], outputs[key])}
        assert scores[item["metric"]].value == item["value"], item
        assert scores["correct"].details["output"] == item["upstream_output"], item
        assert scores["format_error"].value == item["format_error"], item
    assert len(items) == len(samples) == 200
