"""HLE parity with the official harness: every golden key, re-scored from the recorded verdicts.

The golden set (../shared/golden) holds one line per evaluated question with the model's
output and the ExtractedAnswer upstream's judge client parsed (wandb/llm-leaderboard @
6e29db4); re-scoring reads those verdicts and asks no judge. A line with `output: null`
is a question whose generation failed upstream: it answers nothing (`read_predictions`
skips it), and the question counts as wrong.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from _shared import require_shared_dir
from golden_data import read_jsonl

from nejumi.benchmarks.hle import Hle, HleSettings, VerdictScorer, predicted_transcript
from nejumi.benchmarks.hle_judge import answer_prompt, judge_prompt
from nejumi.compat import Compatibility
from nejumi.predictions import read_predictions
from nejumi.rescore import rescore_predictions


@pytest.fixture(scope="module")
def shared() -> Path:
    return require_shared_dir("golden/hle.expected.json", "data/hle/hle-ja/test.jsonl")


def golden_lines(shared: Path) -> Path:
    """The golden predictions; the three lines of failed generations (`output: null`) answer nothing."""
    path = shared / "golden" / "hle.predictions.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert sum(line["output"] is None for line in lines) == 3
    return path


@pytest.mark.parametrize("data", ["data", "data/hle"])
def test_every_golden_key_matches(shared: Path, data: str) -> None:
    expected = json.loads((shared / "golden" / "hle.expected.json").read_text(encoding="utf-8"))
    scores = rescore_predictions(golden_lines(shared), shared / data, Compatibility(), print)
    assert len(expected) == 12
    assert {k: scores.get(k, "missing") for k in expected} == expected
    assert scores["hle/test/0shot/invalid_verdicts"] == scores["hle/dev/0shot/invalid_verdicts"] == 1


def test_every_item_matches(shared: Path) -> None:
    """Each evaluated question: planned, judged or not, and its verdict's value and confidence."""
    bench = Hle(HleSettings(data_dir=shared / "data"))
    samples = {(s.task, s.id): s for s in bench.plan()}
    assert len(samples) == 34
    lines = {(p.task, p.id): p for p in read_predictions(golden_lines(shared))}
    items = read_jsonl(shared / "golden" / "hle.items.jsonl")
    assert len(items) == 34
    for item in items:
        sample = samples[(item["task"], item["id"])]
        line = lines.get((item["task"], item["id"]))
        assert (line is not None) == item["has_prediction"], item
        if line is None:
            continue
        transcript = predicted_transcript(sample, line)
        # The scorer reads the recorded verdict and asks no judge.
        scores = {s.metric: s for s in asyncio.run(VerdictScorer().score(transcript, judge=None))}  # type: ignore[arg-type]
        assert scores["correct"].value == item["value"], item
        assert bool(scores["judged"].value) == item["judged"], item
        if item["judged"]:
            assert scores["confidence"].value == item["confidence"]
            assert scores["confidence"].details["extracted_final_answer"] == item["model_answer"]


def test_the_prompts_as_upstream_sends_them(shared: Path) -> None:
    bench = Hle(HleSettings(data_dir=shared / "data" / "hle"))
    for sample in bench.plan():
        [message] = sample.messages
        assert message.content == answer_prompt(sample.payload["question"])
        assert message.content.startswith("回答は以下の形式で行ってください：\n説明: ")
        assert message.content.endswith("信頼度スコア}\n\n" + sample.payload["question"])
        request = judge_prompt(sample.payload["question"], sample.payload["answer"], "答え: X")
        assert f"[質問]: {sample.payload['question']}\n\n[回答]: 答え: X\n\n" in request
        assert f"[正解]: {sample.payload['answer']}\n\nreasoning: " in request
