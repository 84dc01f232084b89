"""Toxicity (LINE Yahoo) as Nejumi Leaderboard 4 runs it (spec upstream-benchmarks.md §9).

Each row of `toxicity_full.jsonl` is one sample: its `user_prompt` is asked once
(`toxicity.generator_config`: max_tokens 1024, temperature 0.0, top_p 1.0). A generation
that failed for good becomes upstream's canned refusal (failed generations are answered
softly by default, as upstream catches every generation error), and that text is judged
like any answer. The flow then asks the judge (`toxicity.judge`) with the system prompt
of the row's `category_1` (`toxicity_judge_prompts.jsonl`, by position) and the
category's three-boolean schema; an invalid verdict is asked again (attempt 1, 2, ...) up
to `toxicity.judge_max_attempts` times, then the row stays unjudged and is counted. The
judge calls land in the transcript, so the scorer only reads verdicts and a re-score asks
nobody. A criterion scores the mean of its category's verdicts; a category, the mean of
its three criteria; the aggregate's 毒性 is the mean of the four categories.
"""

from __future__ import annotations

import json
import warnings
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nejumi.benchmark import Context, FlatScores, Judge, ScoredRow, score_key
from nejumi.benchmarks.toxicity_judge import (
    CRITERIA,
    PROMPT_INDEX,
    SCHEMAS,
    canned_answer,
    judge_messages,
    judge_params,
    parse_verdict,
)
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError
from nejumi.datasets import DatasetSpec, read_jsonl
from nejumi.generation import generation_params
from nejumi.model_spec import JudgeSpec
from nejumi.predictions import Prediction
from nejumi.request_queue import FailurePolicy
from nejumi.settings import benchmark_policy
from nejumi.tables import Table
from nejumi_proto.v1 import transcript_pb2, types_pb2

NAME = "toxicity"
JUDGE = "toxicity.judge"
JUDGE_MODEL = "gpt-4.1-2025-04-14"
JUDGE_PARALLEL = 32
# Upstream's backoff gives a verdict 50 tries before giving up.
JUDGE_MAX_ATTEMPTS = 50
# Upstream's base config `toxicity.generator_config`, always merged over `generator`.
GENERATOR = {"max_tokens": 1024, "temperature": 0.0, "top_p": 1.0}
TESTMODE_ROWS = 12
# Upstream logs only this many rows in toxicity_output_table.
OUTPUT_ROWS = 12
QUESTION_FILE = "toxicity_full.jsonl"
PROMPT_FILE = "toxicity_judge_prompts.jsonl"
# Dataset name -> (artifact key, official artifact, file).
DATASETS = {
    "questions": (
        "artifact_path",
        "llm-leaderboard/nejumi-leaderboard4-private/toxicity_dataset_full:production",
        QUESTION_FILE,
    ),
    "judge_prompts": (
        "judge_prompts_path",
        "llm-leaderboard/nejumi-leaderboard4-private/toxicity_judge_prompts:production",
        PROMPT_FILE,
    ),
}
ALL = "_all"


def resolve_data_dir(path: Path) -> Path:
    """Accepts the folder holding the two files, or one holding toxicity/."""
    return path / NAME if (path / NAME / QUESTION_FILE).is_file() else path


@dataclass(frozen=True)
class Question:
    id: str
    category: str
    user_prompt: str
    # The whole row, for the output table (upstream logs every dataset field).
    row: dict[str, Any]


def read_questions(path: Path) -> list[Question]:
    questions = []
    seen: set[str] = set()
    for number, record in read_jsonl(path):
        where = f"line {number}"
        if not isinstance(record, dict):
            raise ConfigError(str(path), where, "must be a JSON object with user_prompt and category_1")
        category, prompt = record.get("category_1"), record.get("user_prompt")
        if category not in SCHEMAS:
            # Upstream raises "Unknown category" once judging starts.
            raise ConfigError(str(path), f"{where}: category_1", f"must be one of {', '.join(SCHEMAS)}")
        if not isinstance(prompt, str):
            raise ConfigError(str(path), f"{where}: user_prompt", "must be a string")
        # Upstream needs no id; without one the row's position names the sample.
        sample_id = str(record["id"]) if record.get("id") is not None else str(number - 1)
        if sample_id in seen:
            raise ConfigError(str(path), f"{where}: id", f"{sample_id!r} appears twice")
        seen.add(sample_id)
        questions.append(Question(sample_id, category, prompt, record))
    return questions


def read_judge_prompts(path: Path) -> list[str]:
    prompts = []
    for number, record in read_jsonl(path):
        prompt = record.get("system_prompt") if isinstance(record, dict) else None
        if not isinstance(prompt, str):
            raise ConfigError(str(path), f"line {number}: system_prompt", "must be a string")
        prompts.append(prompt)
    if len(prompts) < len(PROMPT_INDEX):
        order = ", ".join(f"{i} {c}" for c, i in PROMPT_INDEX.items())
        raise ConfigError(str(path), "", f"needs {len(PROMPT_INDEX)} lines, read by position ({order})")
    return prompts


@dataclass(frozen=True)
class ToxicityData:
    questions: list[Question]
    # The judge's system prompt of each category.
    prompts: dict[str, str]

    @classmethod
    def read(cls, question_dir: Path, prompt_dir: Path) -> ToxicityData:
        prompts = read_judge_prompts(prompt_dir / PROMPT_FILE)
        return cls(read_questions(question_dir / QUESTION_FILE), {c: prompts[i] for c, i in PROMPT_INDEX.items()})


@dataclass(frozen=True)
class ToxicitySettings:
    # The folder holding both files when known up front (re-scoring, tests);
    # otherwise the runner resolves `datasets` and calls `check`.
    data_dir: Path | None
    datasets: dict[str, DatasetSpec] = field(default_factory=dict)
    generator: dict[str, Any] = field(default_factory=lambda: dict(GENERATOR))
    first_n: int | None = None
    judge: JudgeSpec | None = None
    judge_max_attempts: int = JUDGE_MAX_ATTEMPTS
    compatibility: Compatibility = field(default_factory=Compatibility)
    policy: FailurePolicy = field(default_factory=lambda: FailurePolicy(mode="soft"))

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility) -> ToxicitySettings:
        first_n = cfg.get_int(f"{NAME}.first_n", minimum=1)
        return cls(
            data_dir=None,
            datasets=dataset_specs(cfg),
            generator=generator(cfg),
            first_n=TESTMODE_ROWS if first_n is None and cfg.get_bool("testmode") else first_n,
            judge=judge_spec(cfg),
            judge_max_attempts=cfg.get_int(f"{NAME}.judge_max_attempts", JUDGE_MAX_ATTEMPTS, minimum=1)
            or JUDGE_MAX_ATTEMPTS,
            compatibility=compatibility,
            # Upstream catches every generation error (a canned answer); a judge error aborts it.
            policy=benchmark_policy(cfg, NAME, default_mode="soft"),
        )


def generator(cfg: Config) -> dict[str, Any]:
    """Upstream's base `toxicity.generator_config` over `generator`, the config's own section over both."""
    return {**cfg.get_mapping("generator"), **GENERATOR, **cfg.get_mapping(f"{NAME}.generator_config")}


def dataset_specs(cfg: Config) -> dict[str, DatasetSpec]:
    """`toxicity.data_dir` (one folder with both files), else the two private artifacts."""
    data_dir = cfg.get_path(f"{NAME}.data_dir")
    specs = {}
    for name, (key, artifact, file) in DATASETS.items():
        if data_dir is not None:
            specs[name] = DatasetSpec(
                benchmark=NAME,
                data_dir=resolve_data_dir(data_dir),
                artifact_path=None,
                required=(file,),
                config_file=cfg.source_of(f"{NAME}.data_dir"),
            )
        else:
            specs[name] = DatasetSpec(
                benchmark=NAME,
                data_dir=None,
                artifact_path=cfg.get_str(f"{NAME}.{key}", artifact),
                required=(file,),
                artifact_key=key,
                config_file=cfg.source_of(f"{NAME}.{key}"),
            )
    return specs


def judge_spec(cfg: Config) -> JudgeSpec:
    spec = JudgeSpec.from_config(cfg, JUDGE, JUDGE_MODEL)
    parallel = cfg.get_int(f"{JUDGE}.parallel", JUDGE_PARALLEL, minimum=1) or JUDGE_PARALLEL
    return JudgeSpec(spec.section, spec.model, parallel, spec.requests_per_minute, spec.params)


def judge_calls(transcript: transcript_pb2.Transcript) -> list[str]:
    """The judge's answers, in attempt order."""
    calls = [
        (event.model_call.position.attempt, event.model_call.response.text)
        for event in transcript.events
        if event.HasField("model_call") and event.model_call.judge == JUDGE
    ]
    return [text for _, text in sorted(calls)]


def first_verdict(transcript: transcript_pb2.Transcript) -> dict[str, int] | None:
    """The first valid verdict: the one upstream's retry ends on."""
    for text in judge_calls(transcript):
        verdict = parse_verdict(text, transcript.sample.task)
        if verdict is not None:
            return verdict
    return None


class CriteriaScorer:
    """Reads the judge's verdict from the transcript: the category's three criteria (0/1) and the invalid ones."""

    name = "toxicity_criteria"
    version = "1"

    async def score(self, transcript: transcript_pb2.Transcript, judge: Judge) -> list[types_pb2.Score]:
        category = transcript.sample.task
        verdict = first_verdict(transcript)
        scores = []
        for _, english in SCHEMAS[category][1]:
            score = types_pb2.Score(metric=english)
            if verdict is not None:
                score.value = verdict[english]
            scores.append(score)
        invalid = sum(parse_verdict(text, category) is None for text in judge_calls(transcript))
        scores.append(types_pb2.Score(metric="invalid_verdicts", value=invalid))
        # Upstream aborts the run here; nejumi leaves the row out of its category's means and counts it.
        scores.append(types_pb2.Score(metric="unjudged", value=int(verdict is None)))
        return scores


def predicted_transcript(sample: types_pb2.Sample, line: Prediction) -> transcript_pb2.Transcript:
    """The line's transcript: nejumi's own (its calls), or upstream's (`judge`: the verdict, null: a refusal)."""
    transcript = line.transcript(sample)
    if "judge" in line.extra and not line.calls:
        verdict = line.extra["judge"]
        text = json.dumps(verdict, ensure_ascii=False) if verdict is not None else ""
        position = transcript_pb2.CallPosition(role="judge")
        transcript.events.add(
            model_call=transcript_pb2.ModelCall(position=position, response=types_pb2.Response(text=text), judge=JUDGE)
        )
    return transcript


class Toxicity:
    name = NAME

    def __init__(self, settings: ToxicitySettings) -> None:
        self.settings = settings
        self.generation = generation_params(settings.generator)
        self.policy = settings.policy
        self.judges = (settings.judge,) if settings.judge is not None else ()
        self.scorers = (CriteriaScorer(),)
        self.datasets = settings.datasets
        self.judge_request_params = {
            category: judge_params(settings.judge.params if settings.judge else {}, settings.compatibility, category)
            for category in SCHEMAS
        }
        self._data: ToxicityData | None = None
        if settings.data_dir is not None:
            folder = resolve_data_dir(settings.data_dir)
            self.check({name: folder for name in DATASETS})

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility, say: Callable[[str], None]) -> Toxicity:
        return cls(ToxicitySettings.from_config(cfg, compatibility))

    @classmethod
    def for_predictions(
        cls, data_dir: Path, compatibility: Compatibility, predictions: Sequence[Prediction], say: Callable[[str], None]
    ) -> Toxicity:
        """Plans every row of `data_dir`; the registry's `predicted_transcript` reads the lines' verdicts."""
        return cls(ToxicitySettings(data_dir=data_dir, compatibility=compatibility))

    @property
    def data(self) -> ToxicityData:
        if self._data is None:
            raise RuntimeError("toxicity: check() must receive the dataset folders before planning")
        return self._data

    def check(self, folders: Mapping[str, Path]) -> None:
        self._data = ToxicityData.read(folders["questions"], folders["judge_prompts"])

    def questions(self) -> list[Question]:
        questions = self.data.questions
        return questions[: self.settings.first_n] if self.settings.first_n else questions

    def plan(self) -> list[types_pb2.Sample]:
        samples = []
        for question in self.questions():
            sample = types_pb2.Sample(
                benchmark=NAME,
                task=question.category,
                id=question.id,
                subset="test",
                messages=[types_pb2.ChatMessage(role="user", content=question.user_prompt)],
            )
            # As JSON text: a Struct would lose the columns' order and the integers.
            sample.payload.update({"row": json.dumps(question.row, ensure_ascii=False)})
            samples.append(sample)
        return samples

    async def solve(self, ctx: Context) -> str:
        sample = ctx.sample
        response = await ctx.generate(sample.messages, params=self.generation)
        # A soft failure carries the error; upstream judges its canned answer instead.
        answer = canned_answer(response.error) if response.error else response.text
        messages = judge_messages(self.data.prompts[sample.task], sample.messages[0].content, answer)
        for attempt in range(self.settings.judge_max_attempts):
            verdict = await ctx.judge(JUDGE, messages, params=self.judge_request_params[sample.task], attempt=attempt)
            if parse_verdict(verdict.text, sample.task) is not None:
                break
        return answer

    def criterion_means(self, rows: Sequence[ScoredRow]) -> dict[str, list[float]]:
        """Upstream's groupby('category_1').mean(): per category, the 12 criterion means (NaN: not its own)."""
        judged: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for row in rows:
            for criterion in CRITERIA:
                value = row.value(criterion)
                if value is not None:
                    judged[row.sample.task][criterion].append(value)
        categories = sorted({row.sample.task for row in rows})
        return {
            category: [sum(values) / len(values) if (values := judged[category][c]) else float("nan") for c in CRITERIA]
            for category in categories
        }

    def leaderboard(self, rows: Sequence[ScoredRow]) -> tuple[dict[str, float | None], dict[str, float | None]]:
        """The category scores (`.mean(axis=1)`) and the criterion columns (`.mean()`), NaN skipped as pandas."""
        means = self.criterion_means(rows)
        if not means:
            return {}, {}
        # A C-ordered (categories x 12) array summed along rows: numpy's pairwise order, as pandas' nanmean.
        table = np.array(list(means.values()), dtype=np.float64)
        with warnings.catch_warnings():
            # An all-NaN slice ("Mean of empty slice") is upstream's NaN.
            warnings.simplefilter("ignore", RuntimeWarning)
            by_category = np.nanmean(table, axis=1)
            by_criterion = np.nanmean(table, axis=0)
        return (
            {c: _value(v) for c, v in zip(means, by_category, strict=True)},
            {c: _value(v) for c, v in zip(CRITERIA, by_criterion, strict=True)},
        )

    def summarize(self, rows: Sequence[ScoredRow]) -> FlatScores:
        categories, _ = self.leaderboard(rows)
        means = self.criterion_means(rows)
        flat: FlatScores = {}
        for category, score in categories.items():
            flat[score_key(NAME, category, 0, "score")] = score
            for _, english in SCHEMAS[category][1]:
                flat[score_key(NAME, category, 0, english)] = _value(means[category][CRITERIA.index(english)])
        for count in ("invalid_verdicts", "unjudged"):
            flat[score_key(NAME, ALL, 0, count)] = float(sum(row.value(count) or 0 for row in rows))
        return flat

    def tables(self, rows: Sequence[ScoredRow], model_name: str) -> list[Table]:
        categories, criteria = self.leaderboard(rows)
        leaderboard = Table(
            "toxicity_leaderboard_table",
            ["model_name", *categories, *criteria],
            [[model_name, *categories.values(), *criteria.values()]],
        )
        radar = Table("toxicity_radar_table", ["category", "score"], [[c, v] for c, v in categories.items()])
        return [self.output_table(rows, model_name), leaderboard, radar]

    def output_table(self, rows: Sequence[ScoredRow], model_name: str) -> Table:
        """Upstream's DataFrame of the rows (dataset fields, answer, the row's criteria), its first 12 rows."""
        records = []
        for row in rows:
            fields = row.sample.payload["row"] if "row" in row.sample.payload else "{}"  # noqa: SIM401 (a Struct)
            record: dict[str, Any] = json.loads(fields)
            record["answer"] = row.output
            for _, english in SCHEMAS[row.sample.task][1]:
                record[english] = row.value(english)
            records.append(record)
        # DataFrame(list of dicts): the union of the keys in first-appearance order, missing cells empty.
        columns = list(dict.fromkeys(key for record in records for key in record))
        data = [[model_name, *(record.get(c) for c in columns)] for record in records[:OUTPUT_ROWS]]
        return Table("toxicity_output_table", ["model_name", *columns], data)


def _value(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
