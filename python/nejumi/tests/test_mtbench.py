"""MT-bench: settings, data checks, judge requests, verdict parsing, the flow's retries and the scores."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from nejumi.benchmark import ScoredRow
from nejumi.benchmarks.mtbench import (
    JUDGE,
    Mtbench,
    MtbenchSettings,
    RatingScorer,
    predicted_transcript,
)
from nejumi.benchmarks.mtbench_data import PROMPT_NAMES, JudgePrompt, Question
from nejumi.benchmarks.mtbench_judge import judge_params, judge_request, parse_verdict, template_name
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError
from nejumi.predictions import Prediction
from nejumi_proto.v1 import transcript_pb2, types_pb2

CORRECTED = Compatibility("corrected")
PROMPTS = {name: JudgePrompt(name, f"system {name}", "{question}|{answer}") for name in PROMPT_NAMES[:1]} | {
    "single-math-v1": JudgePrompt("single-math-v1", "s", "{question}|{ref_answer_1}|{answer}"),
    "single-v1-multi-turn": JudgePrompt(
        "single-v1-multi-turn", "s\n\n", "{question_1}|{answer_1}|{question_2}|{answer_2}"
    ),
    "single-math-v1-multi-turn": JudgePrompt(
        "single-math-v1-multi-turn", "s\n\n", "{ref_answer_1}|{ref_answer_2}|{answer_1}|{answer_2}"
    ),
}


def config(**mtbench: Any) -> Config:
    return Config(data={"generator": {"max_tokens": 128, "top_p": 1.0}, "mtbench": mtbench})


def verdict(rating: str, explanation: Any = "説明") -> str:
    return json.dumps({"explanation": explanation, "rating": rating}, ensure_ascii=False)


def write_data(folder: Path, questions: Sequence[dict[str, Any]], references: dict[int, list[str]]) -> Path:
    for name in ("question", "reference_answer", "judge_prompt"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    (folder / "question" / "question.jsonl").write_text(
        "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8"
    )
    answers = [{"question_id": i, "choices": [{"index": 0, "turns": t}]} for i, t in references.items()]
    (folder / "reference_answer" / "ref.jsonl").write_text("".join(json.dumps(a) + "\n" for a in answers), "utf-8")
    prompts = [
        {"name": p.name, "system_prompt": p.system_prompt, "prompt_template": p.prompt_template}
        for p in PROMPTS.values()
    ]
    (folder / "judge_prompt" / "judge_prompts.jsonl").write_text(
        "".join(json.dumps(p) + "\n" for p in prompts), "utf-8"
    )
    return folder


QUESTIONS = [
    {"question_id": 7, "category": "writing", "turns": ["書いて", "直して"]},
    {"question_id": 8, "category": "math", "turns": ["計算して", "倍にして"]},
]


@pytest.fixture
def bench(tmp_path: Path) -> Mtbench:
    return Mtbench(MtbenchSettings(data_dir=write_data(tmp_path, QUESTIONS, {8: ["4", "8"]})))


def test_settings_defaults_and_overrides() -> None:
    settings = MtbenchSettings.from_config(config(data_dir="/data"), Compatibility())
    assert settings.generator == {"max_tokens": 1024, "top_p": 1.0}
    assert settings.temperatures["writing"] == 0.7 and settings.temperatures["math"] == 0.0
    assert settings.judge is not None
    assert (settings.judge.model.name, settings.judge.parallel) == ("gpt-4.1-2025-04-14", 32)
    assert settings.judge.params == {"max_tokens": 2048, "temperature": 0.0}
    assert (settings.judge_count, settings.judge_max_attempts) == (1, 50)
    assert sorted(settings.datasets) == ["judge_prompt", "question", "reference_answer"]

    tuned = MtbenchSettings.from_config(
        config(
            generator_config={"temperature": 0.6, "top_p": 0.95},
            max_new_token=512,
            temperature_override={"writing": 0.6},
            judge={"model": "judge-x", "parallel": 4, "params": {"max_tokens": 8}},
            judge_count=2,
        ),
        Compatibility(),
    )
    # generator_config without max_tokens: max_new_token, as upstream falls back.
    assert tuned.generator == {"max_tokens": 512, "temperature": 0.6, "top_p": 0.95}
    assert tuned.temperatures["writing"] == 0.6 and tuned.temperatures["stem"] == 0.1
    assert tuned.judge is not None and (tuned.judge.model.name, tuned.judge.parallel) == ("judge-x", 4)
    assert tuned.judge.params == {"max_tokens": 8} and tuned.judge_count == 2
    no_new_token = MtbenchSettings.from_config(config(generator_config={"top_p": 0.9}), Compatibility())
    assert no_new_token.generator["max_tokens"] == 128
    with pytest.raises(ConfigError, match=r"temperature_override\.math"):
        MtbenchSettings.from_config(config(temperature_override={"math": "hot"}), Compatibility())


def test_artifacts_unless_a_data_dir_is_given() -> None:
    specs = MtbenchSettings.from_config(config(), Compatibility()).datasets
    assert specs["question"].artifact_path == "llm-leaderboard/nejumi-leaderboard4/mtbench_ja_question:production"
    assert specs["judge_prompt"].artifact_key == "judge_prompt_artifacts_path"
    test = Config(data={"testmode": True})
    small = MtbenchSettings.from_config(test, Compatibility()).datasets
    assert small["reference_answer"].artifact_key == "referenceanswer_artifacts_path_test"
    assert small["judge_prompt"].artifact_key == "judge_prompt_artifacts_path"


def test_plan_and_generation_params(bench: Mtbench) -> None:
    samples = bench.plan()
    assert [(s.task, s.id, s.messages[0].content) for s in samples] == [
        ("writing", "7", "書いて"),
        ("math", "8", "計算して"),
    ]
    assert "reference" not in samples[0].payload and list(samples[1].payload["reference"]) == ["4", "8"]
    assert bench.params("writing").temperature == pytest.approx(0.7) and bench.params("math").max_tokens == 1024


def test_data_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no reference answer for question\(s\) \[8\]"):
        Mtbench(MtbenchSettings(data_dir=write_data(tmp_path / "a", QUESTIONS, {})))
    arena = [{"question_id": 1, "category": "unknown", "turns": ["a", "b"]}]
    with pytest.raises(ConfigError, match=r"no mtbench\.temperature_override"):
        Mtbench(MtbenchSettings(data_dir=write_data(tmp_path / "b", arena, {})))
    folder = write_data(tmp_path / "c", QUESTIONS, {8: ["4", "8"]})
    (folder / "judge_prompt" / "judge_prompts.jsonl").write_text(
        '{"name": "single-v1", "system_prompt": "", "prompt_template": ""}\n'
    )
    with pytest.raises(ConfigError, match="lacks the judge prompt"):
        Mtbench(MtbenchSettings(data_dir=folder))


def test_judge_params_drop_temperature_as_upstream() -> None:
    official = judge_params({"max_tokens": 2048, "temperature": 0.0, "top_p": 1.0}, Compatibility())
    assert not official.HasField("temperature") and not official.HasField("top_p") and official.max_tokens == 2048
    assert official.json_schema.name == "JudgeSingle" and official.json_schema.strict
    assert list(official.json_schema.schema["properties"]["rating"]["enum"])[10] == "[[10]]"
    corrected = judge_params({"max_tokens": 4, "temperature": 0.0}, CORRECTED)
    assert corrected.HasField("temperature") and corrected.temperature == 0.0
    assert corrected.max_tokens == 16  # the Responses client's floor


def test_judge_requests_fill_the_four_templates() -> None:
    math = Question(8, "math", ("q1", "q2"))
    first = judge_request(PROMPTS, math, ("a1", "a2"), ("r1", "r2"), 0)
    assert first.template == "single-math-v1"
    assert [(m.role, m.content) for m in first.messages] == [("system", "s"), ("user", "q1|r1|a1")]
    second = judge_request(PROMPTS, math, ("a1", "a2"), ("r1", "r2"), 1)
    assert (second.template, second.messages[1].content) == ("single-math-v1-multi-turn", "r1|r2|a1|a2")
    writing = Question(7, "writing", ("q1", "q2"))
    assert judge_request(PROMPTS, writing, ("a1", "a2"), None, 1).messages[1].content == "q1|a1|q2|a2"
    assert [template_name(c, 0) for c in ("coding", "reasoning", "stem")] == [
        "single-math-v1",
        "single-math-v1",
        "single-v1",
    ]


def test_verdicts_parse_as_judge_single() -> None:
    assert parse_verdict(verdict("[[0]]")).rating == 0  # type: ignore[union-attr]  # 0 counts, as upstream
    assert parse_verdict(verdict("[[10]]")).rating == 10  # type: ignore[union-attr]
    extra = json.dumps({"explanation": "e", "rating": "[[3]]", "note": 1})
    assert parse_verdict(extra).rating == 3  # type: ignore[union-attr]
    for bad in (verdict("[[8.5]]"), verdict("8"), verdict("[[11]]"), verdict("[[5]]", 5), "Rating: [[5]]", "", "[]"):
        assert parse_verdict(bad) is None, bad


class FakeContext:
    """A Context whose judge answers from a list per (turn, attempt)."""

    def __init__(self, sample: types_pb2.Sample, verdicts: dict[tuple[int, int], str]) -> None:
        self.sample = sample
        self.verdicts = verdicts
        self.events: list[transcript_pb2.TranscriptEvent] = []

    def record(
        self, role: str, judge: str, turn: int, step: int, attempt: int, request: Any, text: str
    ) -> types_pb2.Response:
        response = types_pb2.Response(text=text)
        position = transcript_pb2.CallPosition(role=role, turn=turn, step=step, attempt=attempt)
        call = transcript_pb2.ModelCall(position=position, request=request, response=response, judge=judge)
        self.events.append(transcript_pb2.TranscriptEvent(model_call=call))
        return response

    async def generate(self, messages: Any, *, params: Any = None, turn: int = 0, **_: Any) -> types_pb2.Response:
        from nejumi_proto.v1 import inference_pb2

        request = inference_pb2.GenerateRequest(messages=messages, params=params)
        return self.record("model", "", turn, 0, 0, request, f"answer{turn}")

    async def judge(
        self, name: str, messages: Any, *, params: Any = None, turn: int = 0, step: int = 0, attempt: int = 0
    ) -> types_pb2.Response:
        from nejumi_proto.v1 import inference_pb2

        request = inference_pb2.GenerateRequest(messages=messages, params=params)
        return self.record("judge", name, turn, step, attempt, request, self.verdicts.get((turn, attempt), "bad"))

    def transcript(self, output: str) -> transcript_pb2.Transcript:
        return transcript_pb2.Transcript(sample=self.sample, events=self.events, output=output)


def score(transcript: transcript_pb2.Transcript) -> dict[str, float | None]:
    scores = asyncio.run(RatingScorer().score(transcript, None))  # type: ignore[arg-type]
    return {s.metric: (s.value if s.HasField("value") else None) for s in scores}


def test_an_invalid_verdict_is_asked_again_then_counted(tmp_path: Path) -> None:
    bench = Mtbench(MtbenchSettings(data_dir=write_data(tmp_path, QUESTIONS, {8: ["4", "8"]}), judge_max_attempts=3))
    math = bench.plan()[1]
    ctx = FakeContext(math, {(0, 0): verdict("[[8.5]]"), (0, 1): verdict("[[9]]")})
    output = asyncio.run(bench.solve(ctx))  # type: ignore[arg-type]
    transcript = ctx.transcript(output)
    judged = [
        (e.model_call.position.turn, e.model_call.position.attempt) for e in transcript.events if e.model_call.judge
    ]
    assert judged == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    assert all(e.model_call.judge == JUDGE for e in transcript.events if e.model_call.position.role == "judge")
    turn2 = transcript.events[1].model_call.request.messages
    assert [m.content for m in turn2] == ["計算して", "answer0", "倍にして"]
    assert score(transcript) == {"turn_1": 9.0, "turn_2": None, "invalid_verdicts": 4.0, "unjudged_turns": 1.0}


def row(bench: Mtbench, sample: types_pb2.Sample, ratings: dict[int, float | None]) -> ScoredRow:
    scores = [
        types_pb2.Score(metric=f"turn_{t}", **({"value": v} if v is not None else {})) for t, v in ratings.items()
    ]
    return ScoredRow(
        transcript_pb2.Transcript(sample=sample), (*scores, types_pb2.Score(metric="invalid_verdicts", value=0))
    )


def test_summary_and_tables(bench: Mtbench) -> None:
    writing, math = bench.plan()
    rows = [row(bench, writing, {1: 7, 2: 6}), row(bench, math, {1: 10, 2: None})]
    flat = bench.summarize(rows)
    assert flat["mtbench/writing/0shot/score"] == pytest.approx(0.65)
    assert flat["mtbench/math/0shot/score"] == 1.0
    assert flat["mtbench/_all/0shot/AVG_mtbench"] == pytest.approx(0.825)
    assert "mtbench/coding/0shot/score" not in flat
    tables = {t.name: t for t in bench.tables(rows, "org/model")}
    assert tables["mtbench_leaderboard_table"].columns == ["model_name", "AVG_mtbench", "math", "writing"]
    assert tables["mtbench_radar_table"].rows == [["math", 1.0], ["writing", pytest.approx(0.65)]]


def test_judge_count_repeats_are_averaged(tmp_path: Path) -> None:
    bench = Mtbench(MtbenchSettings(data_dir=write_data(tmp_path, QUESTIONS, {8: ["4", "8"]}), judge_count=2))
    ctx = FakeContext(bench.plan()[0], {(0, 0): verdict("[[7]]"), (1, 0): verdict("[[4]]")})
    transcript = ctx.transcript(asyncio.run(bench.solve(ctx)))  # type: ignore[arg-type]
    assert [e.model_call.position.step for e in transcript.events if e.model_call.judge] == [0, 1, 0, 1]
    assert score(transcript)["turn_1"] == 7.0


def test_upstream_lines_merge_into_one_transcript(bench: Mtbench) -> None:
    math = bench.plan()[1]
    lines = [
        Prediction("mtbench", "math", 0, "8", "二", extra={"turn": 2, "judge": None}),
        Prediction(
            "mtbench", "math", 0, "8", "一", extra={"turn": 1, "judge": {"explanation": "e", "rating": "[[6]]"}}
        ),
    ]
    transcript = predicted_transcript(math, lines)
    assert transcript.output == "二"
    assert [(e.model_call.position.role, e.model_call.position.turn) for e in transcript.events] == [
        ("model", 0),
        ("model", 1),
        ("judge", 0),
        ("judge", 1),
    ]
    # A refusal (no parsed verdict) is an invalid verdict, never dropped silently.
    assert score(transcript) == {"turn_1": 6.0, "turn_2": None, "invalid_verdicts": 1.0, "unjudged_turns": 1.0}
