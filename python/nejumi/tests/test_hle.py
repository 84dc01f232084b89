"""HLE: settings, data, prompts, verdict parsing, the flow, calibration and the subset scores."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from nejumi.benchmark import ScoredRow
from nejumi.benchmarks.hle import JUDGE, Hle, HleSettings, VerdictScorer, predicted_transcript
from nejumi.benchmarks.hle_judge import answer_prompt, judge_params, judge_prompt, parse_verdict
from nejumi.benchmarks.hle_metrics import SubsetScores, bin_size, calibration_error
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError
from nejumi.predictions import Prediction
from nejumi_proto.v1 import inference_pb2, transcript_pb2, types_pb2

OFFICIAL = Compatibility()
CORRECTED = Compatibility("corrected")


def config(**hle: Any) -> Config:
    return Config(data={"generator": {"max_tokens": 128, "top_p": 1.0}, "hle": hle})


def verdict(correct: str = "yes", confidence: Any = 80, **extra: Any) -> str:
    document = {"extracted_final_answer": "5", "reasoning": "一致", "correct": correct, "confidence": confidence}
    return json.dumps({**document, "strict": True, **extra}, ensure_ascii=False)


def write_data(folder: Path, test: int = 3, dev: int = 12) -> Path:
    (folder / "hle-ja").mkdir(parents=True)
    for name, count in (("test", test), ("dev", dev)):
        rows = [{"id": f"{name}{i}", "question": f"問{i}", "answer": str(i), "image": ""} for i in range(count)]
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        (folder / "hle-ja" / f"{name}.jsonl").write_text(text, encoding="utf-8")
    return folder


def test_settings_defaults_and_overrides() -> None:
    settings = HleSettings.from_config(config(), OFFICIAL)
    # Upstream's base hle.generator_config (max_tokens 4096) over the generator defaults.
    assert settings.generator == {"max_tokens": 4096, "top_p": 1.0}
    assert settings.judge is not None
    assert (settings.judge.model.name, settings.judge.parallel, settings.judge.params) == (
        "o3-mini-2025-01-31",
        32,
        {},
    )
    assert (settings.max_samples, settings.judge_max_attempts, settings.policy.mode) == (10, 1, "soft")
    assert settings.dataset is not None
    assert settings.dataset.artifact_path == "llm-leaderboard/nejumi-leaderboard4/hle-ja:production"

    tuned = HleSettings.from_config(
        config(
            data_dir="/data",
            generator_config={"temperature": 0.2},
            max_samples=3,
            judge={"model": "judge-x", "parallel": 4},
            judge_max_attempts=2,
            error_handling={"request_failure": {"mode": "hard"}},
        ),
        OFFICIAL,
    )
    assert tuned.generator == {"max_tokens": 128, "top_p": 1.0, "temperature": 0.2}
    assert tuned.dataset is not None and tuned.dataset.data_dir == Path("/data")
    assert tuned.judge is not None and (tuned.judge.model.name, tuned.judge.parallel) == ("judge-x", 4)
    assert (tuned.max_samples, tuned.judge_max_attempts, tuned.policy.mode) == (3, 2, "hard")


def test_plan_all_test_then_the_first_dev_questions(tmp_path: Path) -> None:
    bench = Hle(HleSettings(data_dir=write_data(tmp_path)))
    samples = bench.plan()
    assert [(s.task, s.id) for s in samples][:4] == [
        ("test", "test0"),
        ("test", "test1"),
        ("test", "test2"),
        ("dev", "dev0"),
    ]
    assert len(samples) == 3 + 10 and {s.subset for s in samples} == {"test"}
    assert samples[0].messages[0].content == answer_prompt("問0") and samples[0].payload["answer"] == "0"
    assert bench.generation.max_tokens == 4096
    testmode = Hle(HleSettings(data_dir=tmp_path, testmode=True, max_samples=2))
    assert [s.id for s in testmode.plan()] == ["dev0", "dev1"]


def test_data_errors(tmp_path: Path) -> None:
    folder = write_data(tmp_path)
    (folder / "hle-ja" / "dev.jsonl").write_text('{"id": "x", "question": "q", "answer": 3}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1: answer"):
        Hle(HleSettings(data_dir=folder))


def test_prompts_are_the_official_strings() -> None:
    assert answer_prompt("Q") == (
        "回答は以下の形式で行ってください：\n説明: {選択した答えに対する説明}\n答え: {選択した答え}\n"
        "信頼度: {答えに対する0%から100%の信頼度スコア}\n\nQ"
    )
    request = judge_prompt("Q", "A", "R")
    assert request.startswith("以下の[質問]に対する[回答]が、明確で曖昧さのない[正解]に基づいて")
    assert "[質問]: Q\n\n[回答]: R\n\n判定は以下の形式と基準に従って行ってください：" in request
    assert "\n\n[正解]: A\n\nreasoning: " in request
    assert request.endswith("信頼度スコアが利用できない場合は100を記載してください。")


def test_judge_params_carry_extracted_answer() -> None:
    official = judge_params({"temperature": 0.0, "max_tokens": 4}, OFFICIAL)
    assert not official.HasField("temperature") and official.max_tokens == 16
    assert official.json_schema.name == "ExtractedAnswer" and official.json_schema.strict
    assert list(official.json_schema.schema["required"]) == [
        "extracted_final_answer",
        "reasoning",
        "correct",
        "confidence",
        "strict",
    ]
    assert judge_params({"temperature": 0.0}, CORRECTED).HasField("temperature")


def test_verdicts_parse_as_extracted_answer() -> None:
    parsed = parse_verdict(verdict("no", 70.0, note="extra keys are ignored"))
    assert parsed is not None and (parsed.correct, parsed.confidence, parsed.is_correct) == ("no", 70, False)
    assert parse_verdict(json.dumps({**json.loads(verdict()), "strict": None})) is None
    without_strict = {k: v for k, v in json.loads(verdict()).items() if k != "strict"}
    assert parse_verdict(json.dumps(without_strict)) is not None  # strict defaults to True
    for bad in (verdict("Yes"), verdict(confidence="80"), verdict(confidence=True), verdict(confidence=7.5), "", "[]"):
        assert parse_verdict(bad) is None, bad


def test_calibration_bins_as_upstream() -> None:
    assert [bin_size(n) for n in (5, 150, 199, 200, 999, 1000)] == [10, 15, 19, 50, 50, 100]
    assert calibration_error([], [], OFFICIAL) is None
    # Fewer than 20 judged: one bin; |0.9 - 0.5| = 0.4.
    assert calibration_error([80, 100], [True, False], OFFICIAL) == 40.0
    # 21 judged: bins [0, 10) and [10, 21), the last extended.
    low, high = [10] * 10, [90] * 11
    assert calibration_error(low + high, [False] * 10 + [True] * 11, OFFICIAL) == 10.0
    assert calibration_error(high + low, [True] * 11 + [False] * 10, CORRECTED) == 10.0


def test_subset_scores_round_as_upstream() -> None:
    scores = SubsetScores.of(24, [88] * 21, [True] * 11 + [False] * 10, OFFICIAL)
    assert (scores.accuracy_percent, scores.accuracy, scores.confidence_half_width) == (45.83, 0.4583, 19.93)
    assert (scores.total_questions, scores.answered_questions) == (24, 21)


class FakeContext:
    """A Context whose model answers once (or fails) and whose judge answers from a list per attempt."""

    def __init__(self, sample: types_pb2.Sample, answer: str, verdicts: Sequence[str], failed: bool = False) -> None:
        self.sample = sample
        self.answer, self.verdicts, self.failed = answer, list(verdicts), failed
        self.events: list[transcript_pb2.TranscriptEvent] = []

    def record(self, role: str, judge: str, attempt: int, request: Any, response: types_pb2.Response) -> None:
        position = transcript_pb2.CallPosition(role=role, attempt=attempt)
        call = transcript_pb2.ModelCall(position=position, request=request, response=response, judge=judge)
        self.events.append(transcript_pb2.TranscriptEvent(model_call=call))

    async def generate(self, messages: Any, **_: Any) -> types_pb2.Response:
        response = types_pb2.Response(text="" if self.failed else self.answer, error="400" if self.failed else "")
        self.record("model", "", 0, inference_pb2.GenerateRequest(messages=messages), response)
        return response

    async def judge(self, name: str, messages: Any, *, params: Any = None, attempt: int = 0, **_: Any) -> Any:
        response = types_pb2.Response(text=self.verdicts[attempt])
        self.record("judge", name, attempt, inference_pb2.GenerateRequest(messages=messages, params=params), response)
        return response

    def transcript(self, output: str) -> transcript_pb2.Transcript:
        return transcript_pb2.Transcript(sample=self.sample, events=self.events, output=output)


def solved(bench: Hle, sample: types_pb2.Sample, ctx: FakeContext) -> ScoredRow:
    output = asyncio.run(bench.solve(ctx))  # type: ignore[arg-type]
    transcript = ctx.transcript(output)
    scores = asyncio.run(VerdictScorer().score(transcript, judge=None))  # type: ignore[arg-type]
    return ScoredRow(transcript, tuple(scores))


def test_flow_judges_once_and_scores_every_question(tmp_path: Path) -> None:
    bench = Hle(HleSettings(data_dir=write_data(tmp_path, test=3, dev=0)))
    first, second, third = bench.plan()
    right = FakeContext(first, "答え: 0\n信頼度: 80%", [verdict("yes", 80)])
    unjudged = FakeContext(second, "答え: 9", ["申し訳ありません"])
    failed = FakeContext(third, "", [], failed=True)
    rows = [solved(bench, s, c) for s, c in ((first, right), (second, unjudged), (third, failed))]
    assert "[回答]: 答え: 0\n信頼度: 80%" in right.events[1].model_call.request.messages[0].content
    assert right.events[1].model_call.judge == JUDGE
    assert right.events[1].model_call.request.params.json_schema.name == "ExtractedAnswer"
    assert len(unjudged.events) == 2 and len(failed.events) == 1
    assert [(r.value("correct"), r.value("judged"), r.value("answered")) for r in rows] == [
        (1.0, 1.0, 1.0),
        (0.0, 0.0, 1.0),
        (0.0, 0.0, 0.0),
    ]
    scores = bench.summarize(rows)
    assert scores["hle/test/0shot/accuracy_percent"] == 33.33 and scores["hle/test/0shot/answered_questions"] == 1
    assert scores["hle/test/0shot/calibration_error"] == 20.0 and scores["hle/test/0shot/invalid_verdicts"] == 1
    assert "hle/dev/0shot/accuracy" not in scores
    tables = {t.name: t for t in bench.tables(rows, "m")}
    assert tables["hle_test_leaderboard_table"].rows == [["m", 0.3333, 33.33, 20.0, 53.34, 3, 1]]
    assert tables["hle_test_output_table"].rows == [
        ["m", "test0", "問0", "0", "答え: 0\n信頼度: 80%", "5", "yes", 80, "一致"]
    ]

    # A store re-score has no data read: each row is one planned question.
    unread = Hle(HleSettings(data_dir=None))
    assert unread.summarize(rows)["hle/test/0shot/total_questions"] == 3


def test_a_verdict_is_asked_again_up_to_the_attempts(tmp_path: Path) -> None:
    bench = Hle(HleSettings(data_dir=write_data(tmp_path, test=1, dev=0), judge_max_attempts=3))
    [sample] = bench.plan()
    ctx = FakeContext(sample, "答え: 0", ["拒否", verdict("no", 40), verdict("yes", 90)])
    row = solved(bench, sample, ctx)
    assert [e.model_call.position.attempt for e in ctx.events if e.model_call.judge] == [0, 1]
    assert (row.value("correct"), row.value("confidence"), row.value("invalid_verdicts")) == (0.0, 40.0, 1.0)


def test_upstream_lines_replay_their_verdicts(tmp_path: Path) -> None:
    bench = Hle(HleSettings(data_dir=write_data(tmp_path, test=2, dev=0)))
    first, second = bench.plan()
    line = Prediction("hle", "test", 0, "test0", "答え: 0", extra={"judge": json.loads(verdict("yes", 60))})
    refused = Prediction("hle", "test", 0, "test1", "答え: 1", extra={"judge": None})
    judged = predicted_transcript(first, line)
    assert [e.model_call.judge for e in judged.events] == ["", JUDGE]
    assert parse_verdict(judged.events[1].model_call.response.text) is not None
    assert parse_verdict(predicted_transcript(second, refused).events[1].model_call.response.text) is None
    # The scorer reads the replayed verdicts as it reads a run's own judge calls.
    scorer = Hle.for_predictions(tmp_path, OFFICIAL, [line, refused], print).scorers[0]
    scores = asyncio.run(scorer.score(judged, judge=None))  # type: ignore[arg-type]
    assert {s.metric: s.value for s in scores}["confidence"] == 60.0
