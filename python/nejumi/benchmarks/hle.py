"""HLE (Humanity's Last Exam, ja) as Nejumi Leaderboard 4 runs it (spec upstream-benchmarks.md §5).

Every `test` question, then the first `hle.max_samples` (10) `dev` questions (testmode:
dev only), each asked once with the answer format before the question. A question whose
generation fails has no prediction (upstream catches the error; failures are soft by
default). Otherwise the flow asks the judge (`hle.judge`, o3-mini) for an ExtractedAnswer
verdict; one that does not parse leaves the question unjudged, as upstream's caught
exception does (`hle.judge_max_attempts` > 1 asks again). The verdicts land in the
transcript, so the scorer only reads them and a re-score asks nobody. Each subset scores
accuracy over **all** its questions, the RMS calibration error over the judged ones and
the 95% half-width (hle_metrics.py); the aggregate reads `hle_test_leaderboard_table`.

Samples: task = the subset (`test` | `dev`), id = the question `id`; the sample's
`subset` stays "test" because both subsets feed scores.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nejumi.benchmark import Context, FlatScores, Judge, ScoredRow, score_key
from nejumi.benchmarks.hle_judge import Verdict, answer_prompt, judge_params, judge_prompt, parse_verdict
from nejumi.benchmarks.hle_metrics import SubsetScores
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError
from nejumi.datasets import DatasetSpec, read_jsonl
from nejumi.generation import generation_params
from nejumi.model_spec import JudgeSpec
from nejumi.predictions import Prediction
from nejumi.request_queue import FailurePolicy
from nejumi.settings import benchmark_generator, benchmark_policy
from nejumi.tables import Table
from nejumi_proto.v1 import transcript_pb2, types_pb2

NAME = "hle"
JUDGE = "hle.judge"
JUDGE_MODEL = "o3-mini-2025-01-31"
JUDGE_PARALLEL = 32
ARTIFACT = "llm-leaderboard/nejumi-leaderboard4/hle-ja:production"
FOLDER = "hle-ja"
SUBSETS = ("test", "dev")
MAX_TOKENS = 4096
MAX_SAMPLES = 10
OUTPUT_COLUMNS = [
    "model_name",
    "id",
    "question",
    "correct_answer",
    "model_response",
    "model_answer",
    "correct",
    "confidence",
    "reasoning",
]
LEADERBOARD_COLUMNS = [
    "model_name",
    "accuracy",
    "accuracy_percent",
    "calibration_error",
    "confidence_half_width",
    "total_questions",
    "answered_questions",
]


def resolve_data_dir(path: Path) -> Path:
    """The folder holding hle-ja/ (the artifact's layout); also accepts one holding hle/hle-ja/."""
    return path / NAME if (path / NAME / FOLDER).is_dir() else path


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answer: str


def read_questions(path: Path) -> list[Question]:
    questions = []
    for number, record in read_jsonl(path):
        if not isinstance(record, dict):
            raise ConfigError(str(path), f"line {number}", "must be a JSON object with id, question and answer")
        for key in ("id", "question", "answer"):
            if not isinstance(record.get(key), str):
                raise ConfigError(str(path), f"line {number}: {key}", "must be a string")
        # `image` is never sent (upstream only warns), so it is not read.
        questions.append(Question(record["id"], record["question"], record["answer"]))
    return questions


@dataclass(frozen=True)
class HleSettings:
    # The folder holding hle-ja/ when known up front (re-scoring, tests); otherwise the runner resolves `dataset`.
    data_dir: Path | None
    dataset: DatasetSpec | None = None
    generator: dict[str, Any] = field(default_factory=lambda: {"max_tokens": MAX_TOKENS})
    max_samples: int = MAX_SAMPLES
    testmode: bool = False
    judge: JudgeSpec | None = None
    judge_max_attempts: int = 1
    compatibility: Compatibility = field(default_factory=Compatibility)
    # Upstream catches every generation error and goes on.
    policy: FailurePolicy = field(default_factory=lambda: FailurePolicy(mode="soft"))

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility) -> HleSettings:
        return cls(
            data_dir=None,
            dataset=dataset_spec(cfg),
            generator=generator(cfg),
            max_samples=cfg.get_int(f"{NAME}.max_samples", MAX_SAMPLES, minimum=0) or 0,
            testmode=cfg.get_bool("testmode"),
            judge=judge_spec(cfg),
            judge_max_attempts=cfg.get_int(f"{NAME}.judge_max_attempts", 1, minimum=1) or 1,
            compatibility=compatibility,
            policy=benchmark_policy(cfg, NAME, default_mode="soft"),
        )


def dataset_spec(cfg: Config) -> DatasetSpec:
    """`hle.data_dir` (a folder holding hle-ja/), else the `hle.artifact_path` artifact."""
    data_dir = cfg.get_path(f"{NAME}.data_dir")
    if data_dir is not None:
        return DatasetSpec(
            benchmark=NAME,
            data_dir=resolve_data_dir(data_dir),
            artifact_path=None,
            config_file=cfg.source_of(f"{NAME}.data_dir"),
        )
    return DatasetSpec(
        benchmark=NAME,
        data_dir=None,
        artifact_path=cfg.get_str(f"{NAME}.artifact_path", ARTIFACT),
        artifact_key="artifact_path",
        config_file=cfg.source_of(f"{NAME}.artifact_path"),
    )


def generator(cfg: Config) -> dict[str, Any]:
    """`hle.generator_config` over `generator`; without the section, upstream's base one (max_tokens 4096)."""
    if cfg.get(f"{NAME}.generator_config") is not None:
        return benchmark_generator(cfg, NAME)
    return {**cfg.get_mapping("generator"), "max_tokens": MAX_TOKENS}


def judge_spec(cfg: Config) -> JudgeSpec:
    spec = JudgeSpec.from_config(cfg, JUDGE, JUDGE_MODEL)
    parallel = cfg.get_int(f"{JUDGE}.parallel", JUDGE_PARALLEL, minimum=1) or JUDGE_PARALLEL
    return JudgeSpec(spec.section, spec.model, parallel, spec.requests_per_minute, spec.params)


def user(text: str) -> types_pb2.ChatMessage:
    return types_pb2.ChatMessage(role="user", content=text)


def model_response(transcript: transcript_pb2.Transcript) -> types_pb2.Response | None:
    """The model's answer; None when its request failed (upstream: no prediction)."""
    for event in transcript.events:
        call = event.model_call
        if event.HasField("model_call") and call.position.role == "model":
            return None if call.response.error else call.response
    return None


def first_verdict(transcript: transcript_pb2.Transcript) -> tuple[Verdict | None, int]:
    """The first valid verdict among the judge's attempts, and how many attempts did not parse."""
    verdict, invalid = None, 0
    for event in transcript.events:
        call = event.model_call
        if not event.HasField("model_call") or call.judge != JUDGE:
            continue
        parsed = parse_verdict(call.response.text)
        if parsed is None:
            invalid += 1
        elif verdict is None:
            verdict = parsed
    return verdict, invalid


class VerdictScorer:
    """Reads the judge's verdict from the transcript: correct (yes = 1), judged, answered, confidence."""

    name = "hle_verdict"
    version = "1"

    async def score(self, transcript: transcript_pb2.Transcript, judge: Judge) -> list[types_pb2.Score]:
        verdict, invalid = first_verdict(transcript)
        answered = model_response(transcript) is not None
        scores = [
            types_pb2.Score(metric="correct", value=float(verdict is not None and verdict.is_correct)),
            types_pb2.Score(metric="judged", value=float(verdict is not None)),
            types_pb2.Score(metric="answered", value=float(answered)),
            types_pb2.Score(metric="invalid_verdicts", value=float(invalid)),
        ]
        if verdict is not None:
            confidence = types_pb2.Score(metric="confidence", value=float(verdict.confidence))
            confidence.details.update(
                {
                    "extracted_final_answer": verdict.extracted_final_answer,
                    "reasoning": verdict.reasoning,
                    "correct": verdict.correct,
                }
            )
            scores.append(confidence)
        return scores


def predicted_transcript(sample: types_pb2.Sample, line: Prediction) -> transcript_pb2.Transcript:
    """A question's transcript from its line: nejumi's own (every call) or upstream's (output + `judge`).

    Upstream's `judge` is the parsed ExtractedAnswer, or null when the judge failed (unjudged).
    """
    if "judge" not in line.extra:
        return line.transcript(sample)
    transcript = transcript_pb2.Transcript(sample=sample, output=line.output)
    model = transcript_pb2.CallPosition(role="model")
    transcript.events.add(
        model_call=transcript_pb2.ModelCall(position=model, response=types_pb2.Response(text=line.output))
    )
    verdict = line.extra["judge"]
    text = json.dumps(verdict, ensure_ascii=False) if verdict is not None else ""
    judged = transcript_pb2.CallPosition(role="judge")
    transcript.events.add(
        model_call=transcript_pb2.ModelCall(position=judged, response=types_pb2.Response(text=text), judge=JUDGE)
    )
    return transcript


class Hle:
    name = NAME

    def __init__(self, settings: HleSettings) -> None:
        self.settings = settings
        self.generation = generation_params(settings.generator)
        self.policy = settings.policy
        self.judges = (settings.judge,) if settings.judge is not None else ()
        self.scorers = (VerdictScorer(),)
        self.datasets = {NAME: settings.dataset} if settings.dataset is not None else {}
        self.judge_request_params = judge_params(
            settings.judge.params if settings.judge else {}, settings.compatibility
        )
        self._questions: dict[str, list[Question]] | None = None
        if settings.data_dir is not None:
            self.check({NAME: resolve_data_dir(settings.data_dir)})

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility, say: Callable[[str], None]) -> Hle:
        return cls(HleSettings.from_config(cfg, compatibility))

    @classmethod
    def for_predictions(
        cls, data_dir: Path, compatibility: Compatibility, predictions: Sequence[Prediction], say: Callable[[str], None]
    ) -> Hle:
        """Plans every question of `data_dir`; the registry's `predicted_transcript` reads the lines' verdicts."""
        return cls(HleSettings(data_dir=data_dir, compatibility=compatibility))

    def check(self, folders: Mapping[str, Path]) -> None:
        folder = resolve_data_dir(folders[NAME]) / FOLDER
        self._questions = {subset: read_questions(folder / f"{subset}.jsonl") for subset in SUBSETS}

    def questions(self, subset: str) -> list[Question]:
        """test: all (none in testmode); dev: the first `max_samples`."""
        if self._questions is None:
            raise RuntimeError("hle: check() must receive the dataset folder before planning")
        if subset == "test":
            return [] if self.settings.testmode else self._questions["test"]
        return self._questions["dev"][: self.settings.max_samples]

    def plan(self) -> list[types_pb2.Sample]:
        samples = []
        for subset in SUBSETS:
            for question in self.questions(subset):
                sample = types_pb2.Sample(
                    benchmark=NAME,
                    task=subset,
                    id=question.id,
                    subset="test",
                    messages=[user(answer_prompt(question.question))],
                )
                sample.payload.update({"question": question.question, "answer": question.answer})
                samples.append(sample)
        return samples

    async def solve(self, ctx: Context) -> str:
        answer = await ctx.generate(ctx.sample.messages)
        if answer.error:
            return ""
        payload = ctx.sample.payload
        request = [user(judge_prompt(str(payload["question"]), str(payload["answer"]), answer.text))]
        for attempt in range(self.settings.judge_max_attempts):
            verdict = await ctx.judge(JUDGE, request, params=self.judge_request_params, attempt=attempt)
            if parse_verdict(verdict.text) is not None:
                break
        return answer.text

    def total_questions(self, subset: str, rows: Sequence[ScoredRow]) -> int:
        """The subset's planned questions: from the data when read (re-scoring a predictions file,
        whose failed generations have no line), else one row each (a run keeps every planned sample)."""
        if self._questions is not None:
            return len(self.questions(subset))
        return sum(row.sample.task == subset for row in rows)

    def subset_scores(self, rows: Sequence[ScoredRow]) -> dict[str, SubsetScores]:
        """Each planned subset's numbers; a question without a row (no prediction) counts as wrong."""
        found = {}
        for subset in SUBSETS:
            total = self.total_questions(subset, rows)
            if total == 0:
                continue
            judged = [r for r in rows if r.sample.task == subset and r.value("judged")]
            confidences = [int(r.value("confidence") or 0) for r in judged]
            correct = [bool(r.value("correct")) for r in judged]
            found[subset] = SubsetScores.of(total, confidences, correct, self.settings.compatibility)
        return found

    def summarize(self, rows: Sequence[ScoredRow]) -> FlatScores:
        flat: FlatScores = {}
        for subset, scores in self.subset_scores(rows).items():
            flat |= {score_key(NAME, subset, 0, metric): value for metric, value in scores.values().items()}
            invalid = sum(r.value("invalid_verdicts") or 0 for r in rows if r.sample.task == subset)
            flat[score_key(NAME, subset, 0, "invalid_verdicts")] = float(invalid)
        return flat

    def tables(self, rows: Sequence[ScoredRow], model_name: str) -> list[Table]:
        tables = []
        for subset, scores in self.subset_scores(rows).items():
            tables.append(self.output_table(subset, rows, model_name))
            row = [
                model_name,
                scores.accuracy,
                scores.accuracy_percent,
                scores.calibration_error,
                scores.confidence_half_width,
                scores.total_questions,
                scores.answered_questions,
            ]
            tables.append(Table(f"hle_{subset}_leaderboard_table", LEADERBOARD_COLUMNS, [row]))
        return tables

    def output_table(self, subset: str, rows: Sequence[ScoredRow], model_name: str) -> Table:
        """The judged questions only, as upstream logs them."""
        data = []
        for row in rows:
            verdict, _ = first_verdict(row.transcript)
            response = model_response(row.transcript)
            if row.sample.task != subset or verdict is None:
                continue
            data.append(
                [
                    model_name,
                    row.sample.id,
                    row.sample.payload["question"],
                    row.sample.payload["answer"],
                    response.text if response is not None else row.output,
                    verdict.extracted_final_answer,
                    verdict.correct,
                    verdict.confidence,
                    verdict.reasoning,
                ]
            )
        return Table(f"hle_{subset}_output_table", OUTPUT_COLUMNS, data)
