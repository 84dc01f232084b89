"""ARC-AGI parity with the official harness: every golden key and every item.

`arc_agi.predictions.jsonl` holds two synthetic answers per task (lines carry `attempt`);
upstream's `evaluator.arc_agi.evaluate()` (wandb/llm-leaderboard @ 6e29db4) computed the
expected values from them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from _shared import require_shared_dir
from golden_data import read_jsonl

from nejumi.benchmark import ScoredRow
from nejumi.benchmarks.arc_agi import ArcAgi, grade
from nejumi.compat import Compatibility
from nejumi.predictions import read_predictions
from nejumi.rescore import rescore_predictions, rows_from_predictions


@pytest.fixture(scope="module")
def shared() -> Path:
    return require_shared_dir("golden/arc_agi.predictions.jsonl", "golden/arc_agi.expected.json", "data/arc_agi")


@pytest.fixture(scope="module")
def expected(shared: Path) -> dict[str, float | None]:
    return json.loads((shared / "golden" / "arc_agi.expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("data", ["data", "data/arc_agi"])
def test_every_golden_key_matches(shared: Path, expected: dict[str, float | None], data: str) -> None:
    """`nejumi score arc_agi.predictions.jsonl --data DIR`, with the whole data folder or ARC's own."""
    predictions = shared / "golden" / "arc_agi.predictions.jsonl"
    scores = rescore_predictions(predictions, shared / data, Compatibility(), print)
    assert scores == expected
    assert len(expected) == 3


def scored_rows(shared: Path, compat: Compatibility) -> tuple[ArcAgi, list[ScoredRow]]:
    predictions = read_predictions(shared / "golden" / "arc_agi.predictions.jsonl")
    arc = ArcAgi.for_predictions(shared / "data", compat, predictions, print)
    transcripts = rows_from_predictions(arc, predictions)
    # Every line answers exactly one planned attempt: nothing is merged or left out.
    assert len(transcripts) == len(predictions) == 40
    return arc, [ScoredRow(t, tuple(grade(t.sample, t.output, compat))) for t in transcripts]


def test_every_item_matches(shared: Path) -> None:
    arc, rows = scored_rows(shared, Compatibility())
    by_attempt = {(r.sample.task, r.sample.id, r.sample.attempt): r for r in rows}
    by_task = defaultdict(list)
    for row in rows:
        by_task[(row.sample.task, row.sample.id)].append(row)
    items = read_jsonl(shared / "golden" / "arc_agi.items.jsonl")
    checked = defaultdict(int)
    for item in items:
        if item["metric"] == "attempt_correct":
            row = by_attempt[(item["task"], item["id"], item["attempt"])]
            assert row.value("attempt_correct") == item["value"], (item, row.score("attempt_correct"))
        else:
            assert item["metric"] == "accuracy"
            # One task's rows: its version's score is that task's pass@2 accuracy.
            value = arc.version_scores(by_task[(item["task"], item["id"])])[item["task"]]
            assert value == item["value"], item
        checked[item["metric"]] += 1
    assert checked == {"attempt_correct": 40, "accuracy": 20}


def test_output_tables_log_every_attempt(shared: Path, expected: dict[str, float | None]) -> None:
    arc, rows = scored_rows(shared, Compatibility())
    tables = {t.name: t for t in arc.tables(rows, "golden-model")}
    assert len(tables["arc_agi_1_output_table"].rows) == len(tables["arc_agi_2_output_table"].rows) == 20
    assert tables["arc_agi_leaderboard_table"].rows == [
        [
            "golden-model",
            *(expected[f"arc_agi/{v}/0shot/accuracy"] for v in ("arc-agi-1", "arc-agi-2")),
            expected["arc_agi/_all/0shot/AVG"],
        ]
    ]


def test_corrected_refuses_only_answers_the_cast_bent(shared: Path) -> None:
    """`nejumi.compatibility: corrected`: float and string cells no longer pass."""
    _, official = scored_rows(shared, Compatibility())
    _, corrected = scored_rows(shared, Compatibility("corrected"))
    variants = {
        json.dumps([p["task"], p["id"], p["attempt"]]): p["variant"]
        for p in read_jsonl(shared / "golden" / "arc_agi.predictions.jsonl")
    }
    changed = {
        variants[json.dumps([a.sample.task, a.sample.id, a.sample.attempt])]
        for a, b in zip(official, corrected, strict=True)
        if a.value("attempt_correct") != b.value("attempt_correct")
    }
    assert changed == {"float_values", "string_values"}
    scores = rescore_predictions(
        shared / "golden" / "arc_agi.predictions.jsonl", shared / "data", Compatibility("corrected"), print
    )
    assert scores == {
        "arc_agi/arc-agi-1/0shot/accuracy": 0.4,
        "arc_agi/arc-agi-2/0shot/accuracy": 0.4,
        "arc_agi/_all/0shot/AVG": 0.4,
    }
