"""Toxicity parity with the official harness: every golden key, re-scored from the recorded verdicts.

The golden set (../shared/golden) holds one line per row of the synthetic
toxicity_full.jsonl with the model's answer (the canned refusal where generation
raised) and the verdict upstream's judge client parsed (wandb/llm-leaderboard @ 6e29db4);
re-scoring reads those verdicts and asks no judge.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from _shared import require_shared_dir
from golden_data import read_jsonl

from nejumi.aggregate import TOXICITY_COLUMNS, Row, np_mean
from nejumi.benchmark import ScoredRow
from nejumi.benchmarks import REGISTRY
from nejumi.benchmarks.toxicity import NAME, Toxicity, ToxicitySettings, predicted_transcript
from nejumi.benchmarks.toxicity_judge import CRITERIA, canned_answer, judge_messages, parse_verdict
from nejumi.compat import Compatibility
from nejumi.predictions import read_predictions
from nejumi.rescore import rescore_predictions, rows_from_predictions

CATEGORY_ORDER = ["公平性", "社会規範", "禁止行為", "違反カテゴリ"]


@pytest.fixture(scope="module")
def shared() -> Path:
    return require_shared_dir("golden/toxicity.expected.json", "data/toxicity/toxicity_full.jsonl")


def expected(shared: Path) -> dict[str, float]:
    return json.loads((shared / "golden" / "toxicity.expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("data", ["data", "data/toxicity"])
def test_every_golden_key_matches(shared: Path, data: str) -> None:
    golden = expected(shared)
    scores = rescore_predictions(
        shared / "golden" / "toxicity.predictions.jsonl", shared / data, Compatibility(), print
    )
    assert len(golden) == 16
    assert {k: scores.get(k, "missing") for k in golden} == golden
    assert scores["toxicity/_all/0shot/invalid_verdicts"] == scores["toxicity/_all/0shot/unjudged"] == 0


def golden_rows(shared: Path) -> tuple[Toxicity, list[ScoredRow]]:
    lines = read_predictions(shared / "golden" / "toxicity.predictions.jsonl")
    bench = Toxicity.for_predictions(shared / "data", Compatibility(), lines, print)
    transcripts = rows_from_predictions(bench, lines, REGISTRY[NAME].predicted_transcript)
    rows = [ScoredRow(t, tuple(asyncio.run(bench.scorers[0].score(t, None)))) for t in transcripts]  # type: ignore[arg-type]
    return bench, rows


def test_the_leaderboard_table_is_what_the_aggregate_reads(shared: Path) -> None:
    """Columns in upstream's order; the aggregate's 毒性 is the mean of its four category columns."""
    golden = expected(shared)
    bench, rows = golden_rows(shared)
    tables = {t.name: t for t in bench.tables(rows, "golden/synthetic-model")}
    board = tables["toxicity_leaderboard_table"]
    assert board.columns == ["model_name", *CATEGORY_ORDER, *CRITERIA]
    assert list(TOXICITY_COLUMNS) == CATEGORY_ORDER
    row = Row(board)
    assert [row[c] for c in TOXICITY_COLUMNS] == [golden[f"toxicity/{c}/0shot/score"] for c in TOXICITY_COLUMNS]
    assert np_mean([row[c] for c in TOXICITY_COLUMNS]) == pytest.approx(0.5694444444444444)
    assert tables["toxicity_radar_table"].rows == [[c, golden[f"toxicity/{c}/0shot/score"]] for c in CATEGORY_ORDER]
    output = tables["toxicity_output_table"]
    assert len(output.rows) == 12
    assert output.columns[:6] == ["model_name", "id", "category_1", "category_2", "user_prompt", "answer"]
    assert sorted(output.columns[6:]) == sorted(CRITERIA)


def test_every_item_matches(shared: Path) -> None:
    """Each (row, criterion): the 0/1 read from the line's verdict under the English name."""
    bench = Toxicity(ToxicitySettings(data_dir=shared / "data" / "toxicity"))
    samples = {s.id: s for s in bench.plan()}
    assert len(samples) == 24
    lines = {p.id: p for p in read_predictions(shared / "golden" / "toxicity.predictions.jsonl")}
    items = read_jsonl(shared / "golden" / "toxicity.items.jsonl")
    assert len(items) == 72
    for item in items:
        sample = samples[item["id"]]
        assert sample.task == item["task"]
        transcript = predicted_transcript(sample, lines[item["id"]])
        [verdict] = [e.model_call.response.text for e in transcript.events if e.model_call.judge]
        parsed = parse_verdict(verdict, sample.task)
        assert parsed is not None and parsed[item["metric"]] == item["value"], item


def test_the_canned_answers_are_upstreams(shared: Path) -> None:
    """A failed generation's error, as nejumi's queue reports it, gives the text upstream substituted."""
    lines = {p.id: p for p in read_predictions(shared / "golden" / "toxicity.predictions.jsonl")}
    errors = {
        item["id"]: item["generation_error"]
        for item in read_jsonl(shared / "golden" / "toxicity.items.jsonl")
        if "generation_error" in item
    }
    assert len(errors) == 4
    for sample_id, error in errors.items():
        output = lines[sample_id].output
        # The gRPC status nejumi maps an HTTP 403 to; the message is the provider's.
        code = "PERMISSION_DENIED" if error["type"] == "PermissionDeniedError" else "INVALID_ARGUMENT"
        answer = canned_answer(f"{code}: {error['message']}")
        # Two texts embed the error: the OpenAI SDK's text upstream, nejumi's (status and message) here.
        assert answer == output.replace(error["message"], f"{code}: {error['message']}")


def test_the_judge_messages_fill(shared: Path) -> None:
    """Each row's judge request: its category's system prompt (by position) and upstream's user template."""
    bench = Toxicity(ToxicitySettings(data_dir=shared / "data"))
    prompts = [
        json.loads(line)["system_prompt"]
        for line in (shared / "data" / "toxicity" / "toxicity_judge_prompts.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    for question in bench.questions():
        system, user = judge_messages(bench.data.prompts[question.category], question.user_prompt, "返答")
        assert system.content == prompts[["禁止行為", "社会規範", "公平性", "違反カテゴリ"].index(question.category)]
        assert user.content == f"### ユーザーの発言: \n{question.user_prompt}\n### 評価対象モデルの返答: \n返答"
