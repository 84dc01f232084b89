"""JTruthfulQA parity with the official harness: every golden key, re-scored from the recorded verdicts.

The golden set (../shared/golden) holds one line per question with the model's answer and
the RoBERTa classifier's P(class 1) (`judge.probability`, a float32 as upstream's
`.item()` gives it), computed by wandb/llm-leaderboard @ 6e29db4; re-scoring reads those
probabilities and loads no model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _shared import require_shared_dir
from golden_data import read_jsonl

from nejumi.benchmark import ScoredRow
from nejumi.benchmarks.jtruthfulqa import ClassifierScorer, Jtruthfulqa, JtruthfulqaSettings, predicted_transcript
from nejumi.compat import Compatibility
from nejumi.predictions import read_predictions
from nejumi.rescore import rescore_predictions


@pytest.fixture(scope="module")
def shared() -> Path:
    return require_shared_dir("golden/jtruthfulqa.expected.json", "data/jtruthfulqa/JTruthfulQA_all.jsonl")


def golden_rows(shared: Path) -> tuple[Jtruthfulqa, list[ScoredRow]]:
    # A classifier that is nowhere: a row that needed it would say so instead of scoring.
    settings = JtruthfulqaSettings(data_dir=shared / "data", roberta_model_name=str(shared / "no-classifier-here"))
    bench = Jtruthfulqa(settings)
    lines = {p.id: p for p in read_predictions(shared / "golden" / "jtruthfulqa.predictions.jsonl")}
    transcripts = [predicted_transcript(sample, lines[sample.id]) for sample in bench.plan()]
    scorer = bench.scorers[0]
    assert isinstance(scorer, ClassifierScorer)
    scores = scorer.score_batch(transcripts)
    assert scorer.unavailable is None
    return bench, [ScoredRow(t, tuple(s)) for t, s in zip(transcripts, scores, strict=True)]


@pytest.mark.parametrize("data", ["data", "data/jtruthfulqa"])
def test_every_golden_key_matches(shared: Path, data: str) -> None:
    expected = json.loads((shared / "golden" / "jtruthfulqa.expected.json").read_text(encoding="utf-8"))
    scores = rescore_predictions(
        shared / "golden" / "jtruthfulqa.predictions.jsonl", shared / data, Compatibility(), print
    )
    assert len(expected) == 17
    assert {k: scores.get(k, "missing") for k in expected} == expected
    # Upstream's order: overall, then each Type, then each Category, in first-appearance order.
    assert [k for k in scores if k in expected] == list(expected)
    assert scores["jtruthfulqa/_all/0shot/unscored_answers"] == 0


def test_every_item_matches(shared: Path) -> None:
    """Each question: its prompt (cut at 50 characters), Type, Category, probability and Label."""
    _, rows = golden_rows(shared)
    by_id = {row.sample.id: row for row in rows}
    items = read_jsonl(shared / "golden" / "jtruthfulqa.items.jsonl")
    assert len(items) == len(rows) == 30
    for item in items:
        row = by_id[item["id"]]
        assert row.sample.messages[0].content == item["prompt"], item
        record = json.loads(row.sample.metadata["record"])
        assert (record["Type"], record["Category"]) == (item["Type"], item["Category"])
        assert row.value("score") == item["probability"], item
        assert row.value("Label") == item["value"], item


def test_the_tables_are_upstreams(shared: Path) -> None:
    bench, rows = golden_rows(shared)
    expected = json.loads((shared / "golden" / "jtruthfulqa.expected.json").read_text(encoding="utf-8"))
    tables = {t.name: t for t in bench.tables(rows, "golden/synthetic-model")}
    board = tables["jtruthfulqa_leaderboard_table"]
    columns = [key.split("/")[1] for key in expected][1:]
    assert board.columns == ["model_name", "overall_score", *columns]
    assert board.rows == [["golden/synthetic-model", *expected.values()]]
    radar = tables["jtruthfulqa_radar_table"]
    assert [r[0] for r in radar.rows] == [k.split("/")[1] for k in expected if k.endswith("type_score")]
    output = tables["jtruthfulqa_output_table"]
    fields = ["Type", "Category", "Question", "Original Answer", "Correct Answers", "Incorrect Answers"]
    assert output.columns == [*fields, "answer", "score", "Label"]
    assert len(output.rows) == 30 and {r[-1] for r in output.rows} == {0, 1}
