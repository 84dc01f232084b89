"""MT-bench (ja) as Nejumi Leaderboard 4 runs it (spec upstream-benchmarks.md §2).

Each question is one sample with two dependent turns: turn 1 asks the first question,
turn 2 sends it again with the model's first answer and the second question, both at
the category's temperature (`mtbench.temperature_override` over
`mtbench.generator_config` over `generator`). The flow then asks the judge
(`mtbench.judge`) once per turn (`judge_count` times), with the single-v1 prompts, or
single-math-v1 and the reference answer for math, reasoning and coding; a verdict that
fails the JudgeSingle schema is asked again (attempt 1, 2, ...) up to
`mtbench.judge_max_attempts` times, then counted as invalid. The judge calls land in the
transcript, so the scorer only reads verdicts and a re-score asks nobody. A category
scores the mean rating of its (question, turn) cells / 10; `AVG_mtbench` is the mean of
the category scores.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nejumi.benchmark import Context, FlatScores, Judge, ScoredRow, score_key
from nejumi.benchmarks.mtbench_data import NEED_REF_CATS, MtbenchData, Question
from nejumi.benchmarks.mtbench_judge import judge_params, judge_request, parse_verdict, template_name
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError
from nejumi.datasets import DatasetSpec
from nejumi.generation import generation_params
from nejumi.model_spec import JudgeSpec
from nejumi.predictions import Prediction
from nejumi.request_queue import FailurePolicy
from nejumi.settings import benchmark_generator, benchmark_policy
from nejumi.tables import Table
from nejumi_proto.v1 import transcript_pb2, types_pb2

NAME = "mtbench"
JUDGE = "mtbench.judge"
JUDGE_MODEL = "gpt-4.1-2025-04-14"
JUDGE_PARAMS = {"max_tokens": 2048, "temperature": 0.0}
JUDGE_PARALLEL = 32
# Upstream's backoff gives a verdict 50 tries before giving up.
JUDGE_MAX_ATTEMPTS = 50
MAX_TOKENS = 1024
# Upstream's base config: the generation temperature of each category (both turns).
TEMPERATURES = {
    "writing": 0.7,
    "roleplay": 0.7,
    "extraction": 0.0,
    "math": 0.0,
    "coding": 0.0,
    "reasoning": 0.0,
    "stem": 0.1,
    "humanities": 0.1,
}
# The three datasets: config key of the artifact (and of its testmode artifact), folder name under data_dir.
DATASETS = {
    "question": ("question_artifacts_path", "question"),
    "reference_answer": ("referenceanswer_artifacts_path", "reference_answer"),
    "judge_prompt": ("judge_prompt_artifacts_path", "judge_prompt"),
}
ARTIFACTS = {
    "question_artifacts_path": "llm-leaderboard/nejumi-leaderboard4/mtbench_ja_question:production",
    "question_artifacts_path_test": "llm-leaderboard/nejumi-leaderboard4/mtbench_ja_question_small_for_test:production",
    "referenceanswer_artifacts_path": "llm-leaderboard/nejumi-leaderboard4/mtbench_ja_referenceanswer:production",
    "referenceanswer_artifacts_path_test": (
        "llm-leaderboard/nejumi-leaderboard4/mtbench_ja_referenceanswer_small_for_test:production"
    ),
    "judge_prompt_artifacts_path": "llm-leaderboard/nejumi-leaderboard4/mtbench_ja_prompt:production",
}
SUB_CATEGORIES = {
    "writing": "creation",
    "roleplay": "creation",
    "extraction": "stem",
    "math": "stem",
    "coding": "stem",
    "reasoning": "stem",
    "stem": "stem",
    "humanities": "humanities",
    "arena-hard-200": "arena-hard-200",
}
OUTPUT_COLUMNS = [
    "model_name",
    "question_id",
    "category",
    "question",
    "answer",
    "judge_model",
    "judge_prompt_template",
    "judge_prompt",
    "judgment",
    "score",
    "turn",
    "tstamp",
    "sub_category",
]
AVG = "AVG_mtbench"
ALL = "_all"


def resolve_data_dir(path: Path) -> Path:
    """Accepts the folder holding question/, reference_answer/ and judge_prompt/, or one holding mtbench/."""
    return path / NAME if (path / NAME / "question").is_dir() else path


def user(text: str) -> types_pb2.ChatMessage:
    return types_pb2.ChatMessage(role="user", content=text)


@dataclass(frozen=True)
class MtbenchSettings:
    # The folder holding the three datasets when known up front (re-scoring, tests);
    # otherwise the runner resolves `datasets` and calls `check`.
    data_dir: Path | None
    datasets: dict[str, DatasetSpec] = field(default_factory=dict)
    generator: dict[str, Any] = field(default_factory=lambda: {"max_tokens": MAX_TOKENS})
    temperatures: dict[str, float] = field(default_factory=lambda: dict(TEMPERATURES))
    first_n: int | None = None
    judge: JudgeSpec | None = None
    judge_count: int = 1
    judge_max_attempts: int = JUDGE_MAX_ATTEMPTS
    compatibility: Compatibility = field(default_factory=Compatibility)
    policy: FailurePolicy = field(default_factory=FailurePolicy)

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility) -> MtbenchSettings:
        return cls(
            data_dir=None,
            datasets=dataset_specs(cfg),
            generator=generator(cfg),
            temperatures=temperatures(cfg),
            first_n=cfg.get_int(f"{NAME}.first_n", minimum=1),
            judge=judge_spec(cfg),
            judge_count=cfg.get_int(f"{NAME}.judge_count", 1, minimum=1) or 1,
            judge_max_attempts=cfg.get_int(f"{NAME}.judge_max_attempts", JUDGE_MAX_ATTEMPTS, minimum=1)
            or JUDGE_MAX_ATTEMPTS,
            compatibility=compatibility,
            policy=benchmark_policy(cfg, NAME),
        )


def dataset_specs(cfg: Config) -> dict[str, DatasetSpec]:
    """`mtbench.data_dir` (one folder with the three), else the three artifacts (testmode: the small ones)."""
    data_dir = cfg.get_path(f"{NAME}.data_dir")
    testmode = cfg.get_bool("testmode")
    specs = {}
    for name, (artifact_key, folder) in DATASETS.items():
        if data_dir is not None:
            specs[name] = DatasetSpec(
                benchmark=NAME,
                data_dir=resolve_data_dir(data_dir),
                artifact_path=None,
                subdir=folder,
                config_file=cfg.source_of(f"{NAME}.data_dir"),
            )
            continue
        key = f"{artifact_key}_test" if testmode and f"{artifact_key}_test" in ARTIFACTS else artifact_key
        specs[name] = DatasetSpec(
            benchmark=NAME,
            data_dir=None,
            artifact_path=cfg.get_str(f"{NAME}.{key}", ARTIFACTS[key]),
            artifact_key=key,
            config_file=cfg.source_of(f"{NAME}.{key}"),
        )
    return specs


def generator(cfg: Config) -> dict[str, Any]:
    """`mtbench.generator_config` over `generator`; max_tokens as upstream picks it (§2.4).

    Without a `mtbench.generator_config` section, upstream's base one applies (max_tokens 1024).
    """
    own = cfg.get_mapping(f"{NAME}.generator_config") if cfg.get(f"{NAME}.generator_config") is not None else None
    tokens = own.get("max_tokens") if own is not None else MAX_TOKENS
    if tokens is None:
        tokens = cfg.get_int(f"{NAME}.max_new_token") or cfg.get_int("generator.max_tokens") or MAX_TOKENS
    return {**benchmark_generator(cfg, NAME), "max_tokens": tokens}


def temperatures(cfg: Config) -> dict[str, float]:
    table = {**TEMPERATURES, **cfg.get_mapping(f"{NAME}.temperature_override")}
    for category, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise cfg.error(f"{NAME}.temperature_override.{category}", f"must be a number (got {value!r})")
    return {category: float(value) for category, value in table.items()}


def judge_spec(cfg: Config) -> JudgeSpec:
    spec = JudgeSpec.from_config(cfg, JUDGE, JUDGE_MODEL)
    parallel = cfg.get_int(f"{JUDGE}.parallel", JUDGE_PARALLEL, minimum=1) or JUDGE_PARALLEL
    params = spec.params if cfg.get(f"{JUDGE}.params") is not None else dict(JUDGE_PARAMS)
    return JudgeSpec(spec.section, spec.model, parallel, spec.requests_per_minute, params)


@dataclass(frozen=True)
class TurnVerdicts:
    """The verdicts of one (question, turn): one list of attempts per repeat (`judge_count`)."""

    texts: list[list[str]]

    def ratings(self) -> list[int]:
        """Each repeat's first valid verdict (the one upstream's retry ends on)."""
        found = []
        for attempts in self.texts:
            verdicts = [v for v in map(parse_verdict, attempts) if v is not None]
            if verdicts:
                found.append(verdicts[0].rating)
        return found

    def invalid(self) -> int:
        return sum(parse_verdict(text) is None for attempts in self.texts for text in attempts)


def turn_verdicts(transcript: transcript_pb2.Transcript, turn: int) -> TurnVerdicts:
    by_step: dict[int, dict[int, str]] = defaultdict(dict)
    for event in transcript.events:
        call = event.model_call
        if event.HasField("model_call") and call.judge == JUDGE and call.position.turn == turn:
            by_step[call.position.step][call.position.attempt] = call.response.text
    return TurnVerdicts([[attempts[a] for a in sorted(attempts)] for _, attempts in sorted(by_step.items())])


def turn_answers(transcript: transcript_pb2.Transcript) -> dict[int, str]:
    return {
        event.model_call.position.turn: event.model_call.response.text
        for event in transcript.events
        if event.HasField("model_call") and event.model_call.position.role == "model"
    }


class RatingScorer:
    """Reads the judge's verdicts from the transcript: one rating (0-10) per turn, and the invalid ones."""

    name = "mtbench_rating"
    version = "1"

    async def score(self, transcript: transcript_pb2.Transcript, judge: Judge) -> list[types_pb2.Score]:
        scores = []
        invalid = unjudged = 0
        for turn in (0, 1):
            verdicts = turn_verdicts(transcript, turn)
            ratings = verdicts.ratings()
            invalid += verdicts.invalid()
            score = types_pb2.Score(metric=f"turn_{turn + 1}")
            if ratings:
                # Upstream's groupby(question_id, turn).mean() over judge_count repeats.
                score.value = sum(ratings) / len(ratings)
            else:
                # Upstream aborts the run here; nejumi leaves the cell out of its category and counts it.
                unjudged += 1
            score.details.update({"ratings": ratings, "invalid_verdicts": verdicts.invalid()})
            scores.append(score)
        scores.append(types_pb2.Score(metric="invalid_verdicts", value=invalid))
        scores.append(types_pb2.Score(metric="unjudged_turns", value=unjudged))
        return scores


def predicted_transcript(sample: types_pb2.Sample, lines: Sequence[Prediction]) -> transcript_pb2.Transcript:
    """One question's transcript from its lines: nejumi's own (one line, every call) or upstream's (one per turn).

    An upstream line carries `turn` (1 or 2) and the judge's structured verdict `judge`
    (null: a refusal, which reads as an invalid verdict).
    """
    per_turn = [line for line in lines if "turn" in line.extra]
    if not per_turn:
        return lines[0].transcript(sample)
    transcript = transcript_pb2.Transcript(sample=sample)
    by_turn = {int(line.extra["turn"]) - 1: line for line in per_turn}
    for turn, line in sorted(by_turn.items()):
        model = transcript_pb2.CallPosition(role="model", turn=turn)
        transcript.events.add(
            model_call=transcript_pb2.ModelCall(position=model, response=types_pb2.Response(text=line.output))
        )
    for turn, line in sorted(by_turn.items()):
        verdict = line.extra.get("judge")
        text = json.dumps(verdict, ensure_ascii=False) if verdict is not None else ""
        position = transcript_pb2.CallPosition(role="judge", turn=turn)
        transcript.events.add(
            model_call=transcript_pb2.ModelCall(position=position, response=types_pb2.Response(text=text), judge=JUDGE)
        )
    transcript.output = by_turn[max(by_turn)].output
    return transcript


class Mtbench:
    name = NAME

    def __init__(self, settings: MtbenchSettings) -> None:
        self.settings = settings
        self.generation = generation_params(settings.generator)
        self.policy = settings.policy
        self.judges = (settings.judge,) if settings.judge is not None else ()
        self.scorers = (RatingScorer(),)
        self.datasets = settings.datasets
        self.judge_request_params = judge_params(
            settings.judge.params if settings.judge else JUDGE_PARAMS, settings.compatibility
        )
        self._data: MtbenchData | None = None
        if settings.data_dir is not None:
            folder = resolve_data_dir(settings.data_dir)
            self.check({name: folder / sub for name, (_, sub) in DATASETS.items()})

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility, say: Callable[[str], None]) -> Mtbench:
        return cls(MtbenchSettings.from_config(cfg, compatibility))

    @classmethod
    def for_predictions(
        cls, data_dir: Path, compatibility: Compatibility, predictions: Sequence[Prediction], say: Callable[[str], None]
    ) -> Mtbench:
        """Plans every question of `data_dir`; the registry's `predicted_transcript` reads the lines' verdicts."""
        return cls(MtbenchSettings(data_dir=data_dir, compatibility=compatibility))

    @property
    def data(self) -> MtbenchData:
        if self._data is None:
            raise RuntimeError("mtbench: check() must receive the dataset folders before planning")
        return self._data

    def check(self, folders: Mapping[str, Path]) -> None:
        data = MtbenchData.read(folders["question"], folders["reference_answer"], folders["judge_prompt"])
        unknown = sorted({q.category for q in data.questions} - set(self.settings.temperatures))
        if unknown:
            # Upstream fails with a KeyError once generation starts.
            raise ConfigError(
                str(folders["question"]), "", f"categories {unknown} have no mtbench.temperature_override"
            )
        self._data = data

    def questions(self) -> list[Question]:
        questions = self.data.questions
        return questions[: self.settings.first_n] if self.settings.first_n else questions

    def plan(self) -> list[types_pb2.Sample]:
        samples = []
        for question in self.questions():
            sample = types_pb2.Sample(
                benchmark=NAME,
                task=question.category,
                id=str(question.question_id),
                subset="test",
                messages=[user(question.turns[0])],
            )
            sample.payload.update({"turns": list(question.turns)})
            reference = self.data.references.get(question.question_id)
            if question.category in NEED_REF_CATS and reference is not None:
                sample.payload.update({"reference": list(reference)})
            samples.append(sample)
        return samples

    def params(self, category: str) -> types_pb2.GenerationParams:
        """`{**generator_config, "temperature": temperature_override[category]}`, for both turns."""
        params = types_pb2.GenerationParams()
        params.CopyFrom(self.generation)
        params.temperature = self.settings.temperatures[category]
        return params

    async def solve(self, ctx: Context) -> str:
        sample = ctx.sample
        turns = [str(t) for t in sample.payload["turns"]]
        params = self.params(sample.task)
        first = await ctx.generate([user(turns[0])], params=params, turn=0)
        history = [user(turns[0]), types_pb2.ChatMessage(role="assistant", content=first.text), user(turns[1])]
        second = await ctx.generate(history, params=params, turn=1)
        question = Question(int(sample.id), sample.task, (turns[0], turns[1]))
        reference = None
        if "reference" in sample.payload:
            first_ref, second_ref = (str(r) for r in sample.payload["reference"])
            reference = (first_ref, second_ref)
        answers = (first.text, second.text)
        for turn in (0, 1):
            request = judge_request(self.data.prompts, question, answers, reference, turn)
            for repeat in range(self.settings.judge_count):
                for attempt in range(self.settings.judge_max_attempts):
                    verdict = await ctx.judge(
                        JUDGE,
                        request.messages,
                        params=self.judge_request_params,
                        turn=turn,
                        step=repeat,
                        attempt=attempt,
                    )
                    if parse_verdict(verdict.text) is not None:
                        break
        return second.text

    def summarize(self, rows: Sequence[ScoredRow]) -> FlatScores:
        category_scores = self.category_scores(rows)
        flat: FlatScores = {score_key(NAME, c, 0, "score"): v for c, v in category_scores.items()}
        flat[score_key(NAME, ALL, 0, AVG)] = average(category_scores)
        for count in ("invalid_verdicts", "unjudged_turns"):
            flat[score_key(NAME, ALL, 0, count)] = float(sum(row.value(count) or 0 for row in rows))
        return flat

    def category_scores(self, rows: Sequence[ScoredRow]) -> dict[str, float]:
        """Upstream's groupby('category').score.mean() / 10 over the judged (question, turn) cells, by name."""
        cells: dict[str, list[float]] = defaultdict(list)
        for row in rows:
            for metric in ("turn_1", "turn_2"):
                value = row.value(metric)
                if value is not None:
                    cells[row.sample.task].append(value)
        return {category: sum(values) / len(values) / 10.0 for category, values in sorted(cells.items())}

    def tables(self, rows: Sequence[ScoredRow], model_name: str) -> list[Table]:
        category_scores = self.category_scores(rows)
        leaderboard = Table(
            "mtbench_leaderboard_table",
            ["model_name", AVG, *category_scores],
            [[model_name, average(category_scores), *category_scores.values()]],
        )
        radar = Table("mtbench_radar_table", ["category", "score"], [[c, v] for c, v in category_scores.items()])
        return [self.output_table(rows, model_name), leaderboard, radar]

    def output_table(self, rows: Sequence[ScoredRow], model_name: str) -> Table:
        judge_model = self.settings.judge.model.name if self.settings.judge else JUDGE_MODEL
        data = []
        for turn in (0, 1):
            for row in sorted(rows, key=lambda r: int(r.sample.id)):
                answers = turn_answers(row.transcript)
                for event in row.transcript.events:
                    call = event.model_call
                    verdict = parse_verdict(call.response.text) if event.HasField("model_call") else None
                    if call.judge != JUDGE or call.position.turn != turn or verdict is None:
                        continue
                    prompt = call.request.messages[-1].content if call.request.messages else ""
                    data.append(
                        [
                            model_name,
                            int(row.sample.id),
                            row.sample.task,
                            row.sample.payload["turns"][turn] if "turns" in row.sample.payload else "",
                            answers.get(turn, ""),
                            judge_model,
                            template_name(row.sample.task, turn),
                            prompt,
                            verdict.explanation,
                            verdict.rating,
                            turn + 1,
                            None,  # upstream's tstamp: a benchmark does not read the clock
                            SUB_CATEGORIES.get(row.sample.task, "others"),
                        ]
                    )
        return Table("mtbench_output_table", OUTPUT_COLUMNS, data)


def average(category_scores: Mapping[str, float]) -> float | None:
    """`AVG_mtbench`: the leaderboard row's mean over its category columns (numpy's sum, as pandas)."""
    if not category_scores:
        return None
    return float(np.mean(np.array(list(category_scores.values()), dtype=np.float64)))
