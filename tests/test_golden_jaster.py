"""jaster parity with the official harness: every golden key and every item.

The golden set (../shared/golden) holds synthetic model outputs with the values
upstream's own code computed for them (wandb/llm-leaderboard @ 6e29db4).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import pytest
from _shared import require_shared_dir
from golden_data import read_jsonl

from nejumi.benchmark import ScoredRow
from nejumi.benchmarks.jaster import (
    ROBUSTNESS_TASKS,
    UNSUPPORTED,
    Jaster,
    JasterSettings,
    robustness_scores,
    score_answer,
)
from nejumi.compat import Compatibility
from nejumi.predictions import read_predictions
from nejumi.rescore import rescore_predictions
from nejumi_proto.v1 import transcript_pb2


def row(sample: object, output: str, scores: object) -> ScoredRow:
    return ScoredRow(transcript_pb2.Transcript(sample=sample, output=output), tuple(scores))


# The three tasks of the foundation slice; the rest of jaster is checked below too.
SLICE = ("jcommonsenseqa", "jnli", "jsquad")


def same(expected: float | None, got: float | None) -> bool:
    if expected is None or got is None:
        return expected is got
    return math.isclose(expected, got, rel_tol=0, abs_tol=1e-12)


@pytest.fixture(scope="module")
def shared() -> Path:
    return require_shared_dir("golden", "data")


@pytest.fixture(scope="module")
def scores(shared: Path) -> dict[str, float | None]:
    return rescore_predictions(
        shared / "golden" / "jaster.predictions.jsonl", shared / "data" / "jaster", Compatibility(), print
    )


@pytest.fixture(scope="module")
def expected(shared: Path) -> dict[str, float | None]:
    return json.loads((shared / "golden" / "jaster.expected.json").read_text(encoding="utf-8"))


def test_slice_keys_match(scores: dict, expected: dict) -> None:
    keys = [k for k in expected if k.split("/")[1] in SLICE]
    # jsquad has no control check (upstream no_check), so 10 keys.
    assert len(keys) == 10
    mismatched = {k: (expected[k], scores.get(k)) for k in keys if not same(expected[k], scores.get(k))}
    assert mismatched == {}


def test_every_golden_jaster_key_matches(scores: dict, expected: dict, shared: Path) -> None:
    mismatched = {k: (v, scores.get(k, "missing")) for k, v in expected.items() if not same(v, scores.get(k))}
    assert mismatched == {}
    jhumaneval = json.loads((shared / "golden" / "jaster_jhumaneval.expected.json").read_text(encoding="utf-8"))
    assert set(scores) == set(expected) | {k for k in jhumaneval if "intended" not in k}


def test_jhumaneval_reproduces_the_stale_metric_bug(scores: dict, shared: Path) -> None:
    """Upstream scores JHumanEval with jemhopqa's char_f1 on str([code]); see docs/compatibility.md."""
    expected = json.loads((shared / "golden" / "jaster_jhumaneval.expected.json").read_text(encoding="utf-8"))
    official = {k: v for k, v in expected.items() if "intended" not in k}
    assert {k: scores[k] for k in official} == pytest.approx(official, abs=1e-12)


def test_every_item_matches(shared: Path) -> None:
    data = shared / "data" / "jaster"
    predictions = {
        (p["task"], p["shots"], p["id"]): p["output"]
        for p in read_jsonl(shared / "golden" / "jaster.predictions.jsonl")
    }
    items = [i for i in read_jsonl(shared / "golden" / "jaster.items.jsonl") if i["task"] not in UNSUPPORTED]
    plan_tasks = tuple(sorted({i["task"] for i in items} - {"jmmlu_robust", *ROBUSTNESS_TASKS}))
    jaster = Jaster(JasterSettings(data, plan_tasks, 2, True, {"test": 10**6, "dev": 0}, None, {}, Compatibility()))
    samples = {(s.task, s.shots, s.id): s for s in jaster.plan() if s.subset == "test"}
    rows_by_pass: dict[int, list[ScoredRow]] = defaultdict(list)
    checked = 0
    for item in items:
        if item["task"] == "jmmlu_robust":
            continue
        key = (item["task"], item["shots"], item["id"])
        sample = samples[key]
        output = predictions[key]
        scored = {s.metric: s for s in score_answer(sample, output)}
        score = scored[item["metric"]]
        got = score.value if score.HasField("value") else None
        assert same(item["value"], got), (item, got)
        if item["metric"] != "control":
            assert score.details["output"] == item["upstream_output"], item
            rows_by_pass[item["shots"]].append(row(sample, output, scored.values()))
        checked += 1
    assert checked > 1000
    robust_items = sorted((i for i in items if i["task"] == "jmmlu_robust"), key=lambda i: int(i["id"]))
    variants = [
        row(sample, predictions[key], score_answer(sample, predictions[key]))
        for key, sample in samples.items()
        if sample.task in ROBUSTNESS_TASKS
    ]
    consistency = robustness_scores(rows_by_pass[2] + variants)
    assert consistency == [i["value"] for i in robust_items]


def test_score_command_reads_the_interchange_format(shared: Path, tmp_path: Path) -> None:
    lines = (shared / "golden" / "jaster.predictions.jsonl").read_text(encoding="utf-8").splitlines()
    slice_only = tmp_path / "slice.jsonl"
    slice_only.write_text("\n".join(line for line in lines if json.loads(line)["task"] in SLICE), encoding="utf-8")
    assert {p.task for p in read_predictions(slice_only)} == set(SLICE)
    scores = rescore_predictions(slice_only, shared / "data" / "jaster", Compatibility(), print)
    assert scores["jaster/jnli/2shot/exact_match"] == pytest.approx(0.5)


def test_corrected_mode_averages_every_task(shared: Path, scores: dict) -> None:
    corrected = rescore_predictions(
        shared / "golden" / "jaster.predictions.jsonl", shared / "data" / "jaster", Compatibility("corrected"), print
    )
    tasks = {k.split("/")[1] for k in scores if k.split("/")[1] not in ("_all", "jmmlu_robust", "jhumaneval")}
    per_task = []
    for task in sorted(tasks):
        metric = next(k for k in scores if k.startswith(f"jaster/{task}/0shot/") and not k.endswith("/control"))
        per_task.append(scores[metric])
    assert corrected["jaster/_all/0shot/AVG"] == pytest.approx(sum(per_task) / len(per_task))
    assert corrected["jaster/_all/0shot/AVG"] != pytest.approx(scores["jaster/_all/0shot/AVG"])
