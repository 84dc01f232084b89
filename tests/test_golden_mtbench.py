"""MT-bench parity with the official harness: every golden key, re-scored from the recorded verdicts.

The golden set (../shared/golden) holds one line per (question, turn) with the model's
answer and the verdict upstream's judge client parsed (wandb/llm-leaderboard @ 6e29db4);
re-scoring reads those verdicts and asks no judge.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _shared import require_shared_dir
from golden_data import read_jsonl

from nejumi.benchmarks.mtbench import Mtbench, MtbenchSettings, predicted_transcript
from nejumi.benchmarks.mtbench_data import NEED_REF_CATS
from nejumi.benchmarks.mtbench_judge import judge_request, parse_verdict, template_name
from nejumi.compat import Compatibility
from nejumi.predictions import read_predictions
from nejumi.rescore import rescore_predictions


@pytest.fixture(scope="module")
def shared() -> Path:
    return require_shared_dir("golden/mtbench.expected.json", "data/mtbench/question/question.jsonl")


@pytest.mark.parametrize("data", ["data", "data/mtbench"])
def test_every_golden_key_matches(shared: Path, data: str) -> None:
    expected = json.loads((shared / "golden" / "mtbench.expected.json").read_text(encoding="utf-8"))
    scores = rescore_predictions(shared / "golden" / "mtbench.predictions.jsonl", shared / data, Compatibility(), print)
    assert len(expected) == 9
    assert {k: scores.get(k, "missing") for k in expected} == expected
    # The golden verdicts are the valid ones upstream's retry ended on.
    assert scores["mtbench/_all/0shot/invalid_verdicts"] == scores["mtbench/_all/0shot/unjudged_turns"] == 0


def test_every_item_matches(shared: Path) -> None:
    """Each (question, turn): the rating read from the line's verdict and the judge prompt template."""
    bench = Mtbench(MtbenchSettings(data_dir=shared / "data" / "mtbench"))
    samples = {s.id: s for s in bench.plan()}
    assert len(samples) == 40
    lines = read_predictions(shared / "golden" / "mtbench.predictions.jsonl")
    items = read_jsonl(shared / "golden" / "mtbench.items.jsonl")
    assert len(items) == 80
    for item in items:
        sample = samples[item["id"]]
        assert sample.task == item["task"]
        transcript = predicted_transcript(sample, [p for p in lines if p.id == item["id"]])
        turn = item["turn"] - 1
        [verdict] = [
            e.model_call.response.text
            for e in transcript.events
            if e.model_call.judge and e.model_call.position.turn == turn
        ]
        parsed = parse_verdict(verdict)
        assert parsed is not None and parsed.rating == item["rating"], item
        assert template_name(sample.task, turn) == item["judge_prompt_template"]
        assert bench.params(sample.task).temperature == item["gen_temperature"]
        assert bench.params(sample.task).max_tokens == item["gen_max_tokens"]


def test_the_official_judge_prompts_fill(shared: Path) -> None:
    """Every question's two judge requests from the data set's judge_prompts.jsonl (str.format, as upstream)."""
    bench = Mtbench(MtbenchSettings(data_dir=shared / "data" / "mtbench"))
    for question in bench.questions():
        reference = bench.data.references.get(question.question_id) if question.category in NEED_REF_CATS else None
        answers = ("一つ目の回答", "二つ目の回答")
        first = judge_request(bench.data.prompts, question, answers, reference, 0)
        second = judge_request(bench.data.prompts, question, answers, reference, 1)
        assert first.messages[0].content == "You are a helpful assistant."
        assert second.messages[0].content.endswith("\n\n")
        assert f"[Question]\n{question.turns[0]}\n\n" in first.messages[1].content
        assert f"### User:\n{question.turns[1]}\n\n### Assistant A:\n二つ目の回答" in second.messages[1].content
        assert (reference is not None) == ("Reference" in first.messages[1].content)
        if reference is not None:
            assert f"### Reference answer:\n{reference[1]}" in second.messages[1].content
