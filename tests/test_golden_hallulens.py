"""HalluLens parity with the official harness: the golden key, re-scored from the recorded verdicts.

The golden set (../shared/golden) holds one line per prompt (test and dev) with the model's
answer and the `JudgeOutput` upstream's judge client parsed (wandb/llm-leaderboard @ 6e29db4);
re-scoring reads those verdicts and asks no judge.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from _shared import require_shared_dir
from golden_data import read_jsonl

from nejumi.benchmark import ScoredRow
from nejumi.benchmarks.hallulens import BeliefScorer, Hallulens, HallulensSettings, predicted_transcript
from nejumi.benchmarks.hallulens_judge import judge_prompt
from nejumi.compat import Compatibility
from nejumi.predictions import read_predictions
from nejumi.rescore import rescore_predictions


@pytest.fixture(scope="module")
def shared() -> Path:
    return require_shared_dir("golden/hallulens.expected.json", "data/hallulens/test/generation.jsonl")


@pytest.mark.parametrize("data", ["data", "data/hallulens"])
def test_every_golden_key_matches(shared: Path, data: str) -> None:
    expected = json.loads((shared / "golden" / "hallulens.expected.json").read_text(encoding="utf-8"))
    scores = rescore_predictions(
        shared / "golden" / "hallulens.predictions.jsonl", shared / data, Compatibility(), print
    )
    assert len(expected) == 1
    assert {k: scores.get(k, "missing") for k in expected} == expected
    assert scores["hallulens/_all/0shot/invalid_verdicts"] == scores["hallulens/_all/0shot/unjudged_prompts"] == 0


def test_every_item_matches(shared: Path) -> None:
    """Each prompt, test and dev: the value read from the line's verdict."""
    bench = Hallulens(HallulensSettings(data_dir=shared / "data" / "hallulens"))
    samples = {(s.task, s.id): s for s in bench.plan()}
    assert len(samples) == 26
    lines = {(p.task, p.id): p for p in read_predictions(shared / "golden" / "hallulens.predictions.jsonl")}
    items = read_jsonl(shared / "golden" / "hallulens.items.jsonl")
    assert len(items) == 26
    for item in items:
        sample = samples[(item["task"], item["id"])]
        assert sample.payload["name"] == item["name"]
        transcript = predicted_transcript(sample, lines[(item["task"], item["id"])])
        scores = {s.metric: s for s in asyncio.run(BeliefScorer().score(transcript, None))}  # type: ignore[arg-type]
        assert scores["hallucination_resistance"].value == item["value"], item
        assert scores["hallucination_resistance"].details["does_believe"] == item["does_believe"]


def test_the_leaderboard_table_is_what_the_roll_up_reads(shared: Path) -> None:
    bench = Hallulens(HallulensSettings(data_dir=shared / "data" / "hallulens"))
    lines = {(p.task, p.id): p for p in read_predictions(shared / "golden" / "hallulens.predictions.jsonl")}
    rows = []
    for sample in bench.plan():
        transcript = predicted_transcript(sample, lines[(sample.task, sample.id)])
        rows.append(ScoredRow(transcript, tuple(asyncio.run(BeliefScorer().score(transcript, None)))))  # type: ignore[arg-type]
    tables = {t.name: t for t in bench.tables(rows, "golden/synthetic-model")}
    board = tables["hallulens_leaderboard_table"]
    assert board.columns == ["model_name", "hallucination_resistance"]
    assert board.rows == [["golden/synthetic-model", 0.55]]
    assert [len(tables[n].rows) for n in ("hallulens_output_table", "hallulens_output_table_dev")] == [20, 6]


def test_the_judge_prompt_takes_the_english_in_for_a_place(shared: Path) -> None:
    bench = Hallulens(HallulensSettings(data_dir=shared / "data" / "hallulens"))
    for sample in bench.plan():
        payload = sample.payload
        prompt = judge_prompt(str(payload["name"]), str(payload["type_"]), str(payload["place"]), "回答")
        place = str(payload["place"])
        marker = f"{payload['type_']}という種類の{payload['name']}"
        assert (marker + (f" in {place}を" if place else "を")) in prompt
        assert prompt.endswith("生成された文章: 回答\n回答: \n")
