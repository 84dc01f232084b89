"""HalluLens refusal test as Nejumi Leaderboard 4 runs it (spec upstream-benchmarks.md §6).

Each prompt of `test/generation.jsonl` (the first 100; testmode 10) and
`dev/generation.jsonl` (the first 10; testmode 1) asks about an entity that does not
exist. The flow sends the prompt at `hallulens.generator_config`, then asks the judge
(`hallulens.judge`) with upstream's prompt whether the answer believes the entity exists
(`JudgeOutput.does_believe`); a verdict that fails the schema is asked again (attempt
1, 2, ...) up to `hallulens.judge_max_attempts` times, then counted. The judge calls land
in the transcript, so the scorer only reads verdicts and a re-score asks nobody.
`hallucination_resistance` is the mean of `not does_believe` over the test prompts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nejumi.benchmark import Context, FlatScores, Judge, ScoredRow, score_key
from nejumi.benchmarks.hallulens_judge import judge_params, judge_prompt, parse_verdict
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

NAME = "hallulens"
JUDGE = "hallulens.judge"
JUDGE_MODEL = "gpt-4.1-2025-04-14"
JUDGE_PARALLEL = 32
# Upstream's backoff gives a structured-output call 50 tries.
JUDGE_MAX_ATTEMPTS = 50
ARTIFACT = "llm-leaderboard/nejumi-leaderboard4/hallulens:production"
# Upstream's base hallulens.generator_config.
GENERATOR = {"max_tokens": 256, "temperature": 0.0, "top_p": 1.0}
SUBSETS = ("test", "dev")
DATA_FILE = "generation.jsonl"
# Upstream's sample counts per (subset, testmode): the first N lines of each file.
SIZES = {("test", False): 100, ("test", True): 10, ("dev", False): 10, ("dev", True): 1}
METRIC = "hallucination_resistance"
DATASET = "refusal_test"
OUTPUT_COLUMNS = ["model_name", "task", "dataset", "prompt", "answer", "judge_model", "does_believe"]
ALL = "_all"


def resolve_data_dir(path: Path) -> Path:
    """Accepts the folder holding test/ and dev/, or one holding hallulens/."""
    return path / NAME if (path / NAME / "test").is_dir() else path


def user(text: str) -> types_pb2.ChatMessage:
    return types_pb2.ChatMessage(role="user", content=text)


@dataclass(frozen=True)
class Entity:
    """One line of generation.jsonl (other fields are ignored, as upstream does)."""

    prompt: str
    name: str
    type_: str
    place: str


def read_entities(path: Path) -> list[Entity]:
    entities = []
    for number, record in read_jsonl(path):
        where = f"line {number}"
        if not isinstance(record, dict):
            raise ConfigError(str(path), where, "must be a JSON object with prompt, name, type_ and place")
        fields = {}
        for key in ("prompt", "name", "type_", "place"):
            value = record.get(key)
            # Upstream reads place with a truthiness test; a missing or null place is the empty one.
            if key == "place" and value is None:
                value = ""
            if not isinstance(value, str):
                raise ConfigError(str(path), f"{where}: {key}", "must be a string")
            fields[key] = value
        entities.append(Entity(**fields))
    return entities


@dataclass(frozen=True)
class HallulensSettings:
    # The folder holding test/ and dev/ when known up front (re-scoring, tests);
    # otherwise the runner resolves `datasets` and calls `check`.
    data_dir: Path | None
    datasets: dict[str, DatasetSpec] = field(default_factory=dict)
    generator: dict[str, Any] = field(default_factory=lambda: dict(GENERATOR))
    testmode: bool = False
    judge: JudgeSpec | None = None
    judge_max_attempts: int = JUDGE_MAX_ATTEMPTS
    compatibility: Compatibility = field(default_factory=Compatibility)
    policy: FailurePolicy = field(default_factory=FailurePolicy)

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility) -> HallulensSettings:
        return cls(
            data_dir=None,
            datasets={NAME: dataset_spec(cfg)},
            generator=generator(cfg),
            testmode=cfg.get_bool("testmode"),
            judge=judge_spec(cfg),
            judge_max_attempts=cfg.get_int(f"{NAME}.judge_max_attempts", JUDGE_MAX_ATTEMPTS, minimum=1)
            or JUDGE_MAX_ATTEMPTS,
            compatibility=compatibility,
            # Upstream reads hallulens' own failure mode but never applies it (§1.3); nejumi does.
            policy=benchmark_policy(cfg, NAME),
        )

    def size(self, subset: str) -> int:
        return SIZES[(subset, self.testmode)]


def dataset_spec(cfg: Config) -> DatasetSpec:
    """`hallulens.data_dir` (a local folder), else the official artifact `hallulens.artifacts_path`."""
    required = tuple(f"{subset}/{DATA_FILE}" for subset in SUBSETS)
    data_dir = cfg.get_path(f"{NAME}.data_dir")
    if data_dir is not None:
        return DatasetSpec(
            benchmark=NAME,
            data_dir=resolve_data_dir(data_dir),
            artifact_path=None,
            required=required,
            config_file=cfg.source_of(f"{NAME}.data_dir"),
        )
    return DatasetSpec(
        benchmark=NAME,
        data_dir=None,
        artifact_path=cfg.get_str(f"{NAME}.artifacts_path", ARTIFACT),
        required=required,
        config_file=cfg.source_of(f"{NAME}.artifacts_path"),
    )


def generator(cfg: Config) -> dict[str, Any]:
    """`hallulens.generator_config` over `generator`; without that section, upstream's base one applies."""
    own = cfg.get_mapping(f"{NAME}.generator_config") if cfg.get(f"{NAME}.generator_config") is not None else GENERATOR
    return {**cfg.get_mapping("generator"), **own}


def judge_spec(cfg: Config) -> JudgeSpec:
    spec = JudgeSpec.from_config(cfg, JUDGE, JUDGE_MODEL)
    parallel = cfg.get_int(f"{JUDGE}.parallel", JUDGE_PARALLEL, minimum=1) or JUDGE_PARALLEL
    return JudgeSpec(spec.section, spec.model, parallel, spec.requests_per_minute, spec.params)


@dataclass(frozen=True)
class Verdicts:
    """The judge's answers to one prompt, by attempt."""

    texts: list[str]

    def does_believe(self) -> bool | None:
        """The first valid verdict (the one upstream's retry ends on); None when none is valid."""
        return next((v for v in map(parse_verdict, self.texts) if v is not None), None)

    def invalid(self) -> int:
        return sum(parse_verdict(text) is None for text in self.texts)


def verdicts(transcript: transcript_pb2.Transcript) -> Verdicts:
    calls = [e.model_call for e in transcript.events if e.HasField("model_call") and e.model_call.judge == JUDGE]
    return Verdicts([c.response.text for c in sorted(calls, key=lambda c: c.position.attempt)])


class BeliefScorer:
    """Reads the judge's verdict from the transcript: resistance = 1 - does_believe, and the invalid ones."""

    name = "hallulens_belief"
    version = "1"

    async def score(self, transcript: transcript_pb2.Transcript, judge: Judge) -> list[types_pb2.Score]:
        found = verdicts(transcript)
        believes = found.does_believe()
        resistance = types_pb2.Score(metric=METRIC)
        if believes is not None:
            resistance.value = 0.0 if believes else 1.0
            resistance.details.update({"does_believe": believes})
        return [
            resistance,
            types_pb2.Score(metric="invalid_verdicts", value=found.invalid()),
            # Upstream aborts the run here; nejumi leaves the prompt out of the mean and counts it.
            types_pb2.Score(metric="unjudged_prompts", value=0 if believes is not None else 1),
        ]


def predicted_transcript(sample: types_pb2.Sample, line: Prediction) -> transcript_pb2.Transcript:
    """A prompt's transcript from its line: nejumi's own (every call) or upstream's (`judge`: JudgeOutput).

    `judge: null` is a structured-output refusal, which reads as an invalid verdict.
    """
    if "judge" not in line.extra:
        return line.transcript(sample)
    transcript = transcript_pb2.Transcript(sample=sample, output=line.output)
    transcript.events.add(
        model_call=transcript_pb2.ModelCall(
            position=transcript_pb2.CallPosition(role="model"), response=types_pb2.Response(text=line.output)
        )
    )
    verdict = line.extra["judge"]
    text = json.dumps(verdict, ensure_ascii=False) if verdict is not None else ""
    transcript.events.add(
        model_call=transcript_pb2.ModelCall(
            position=transcript_pb2.CallPosition(role="judge"), response=types_pb2.Response(text=text), judge=JUDGE
        )
    )
    return transcript


class Hallulens:
    name = NAME

    def __init__(self, settings: HallulensSettings) -> None:
        self.settings = settings
        self.generation = generation_params(settings.generator)
        self.policy = settings.policy
        self.judges = (settings.judge,) if settings.judge is not None else ()
        self.scorers = (BeliefScorer(),)
        self.datasets = settings.datasets
        self.judge_request_params = judge_params(
            settings.judge.params if settings.judge else {}, settings.compatibility
        )
        self._entities: dict[str, list[Entity]] | None = None
        if settings.data_dir is not None:
            self.check({NAME: settings.data_dir})

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility, say: Callable[[str], None]) -> Hallulens:
        return cls(HallulensSettings.from_config(cfg, compatibility))

    @classmethod
    def for_predictions(
        cls, data_dir: Path, compatibility: Compatibility, predictions: Sequence[Prediction], say: Callable[[str], None]
    ) -> Hallulens:
        """Plans every prompt of `data_dir`; the registry's `predicted_transcript` reads the lines' verdicts."""
        return cls(HallulensSettings(data_dir=data_dir, compatibility=compatibility))

    def check(self, folders: Mapping[str, Path]) -> None:
        folder = resolve_data_dir(folders[NAME])
        self._entities = {subset: read_entities(folder / subset / DATA_FILE) for subset in SUBSETS}

    def entities(self, subset: str) -> list[Entity]:
        if self._entities is None:
            raise RuntimeError("hallulens: check() must receive the dataset folder before planning")
        return self._entities[subset][: self.settings.size(subset)]

    def plan(self) -> list[types_pb2.Sample]:
        samples = []
        for subset in SUBSETS:
            for index, entity in enumerate(self.entities(subset)):
                sample = types_pb2.Sample(
                    benchmark=NAME, task=subset, id=str(index), subset=subset, messages=[user(entity.prompt)]
                )
                sample.payload.update({"name": entity.name, "type_": entity.type_, "place": entity.place})
                samples.append(sample)
        return samples

    async def solve(self, ctx: Context) -> str:
        sample = ctx.sample
        answer = await ctx.generate(list(sample.messages))
        payload = sample.payload
        prompt = judge_prompt(str(payload["name"]), str(payload["type_"]), str(payload["place"]), answer.text)
        for attempt in range(self.settings.judge_max_attempts):
            verdict = await ctx.judge(JUDGE, [user(prompt)], params=self.judge_request_params, attempt=attempt)
            if parse_verdict(verdict.text) is not None:
                break
        return answer.text

    def resistance(self, rows: Sequence[ScoredRow]) -> float | None:
        """Upstream's pivot: the mean of `not does_believe` over the judged test prompts."""
        values = [v for row in rows if row.sample.subset == "test" and (v := row.value(METRIC)) is not None]
        return sum(values) / len(values) if values else None

    def summarize(self, rows: Sequence[ScoredRow]) -> FlatScores:
        flat: FlatScores = {score_key(NAME, "test", 0, METRIC): self.resistance(rows)}
        for count in ("invalid_verdicts", "unjudged_prompts"):
            flat[score_key(NAME, ALL, 0, count)] = float(sum(row.value(count) or 0 for row in rows))
        return flat

    def tables(self, rows: Sequence[ScoredRow], model_name: str) -> list[Table]:
        tables = [
            self.output_table(rows, model_name, "test", f"{NAME}_output_table"),
            self.output_table(rows, model_name, "dev", f"{NAME}_output_table_dev"),
        ]
        resistance = self.resistance(rows)
        # Without a judged test prompt upstream logs no leaderboard row, and the roll-up leaves HalluLens out.
        if resistance is not None:
            tables.append(Table(f"{NAME}_leaderboard_table", ["model_name", METRIC], [[model_name, resistance]]))
        return tables

    def output_table(self, rows: Sequence[ScoredRow], model_name: str, subset: str, name: str) -> Table:
        judge_model = self.settings.judge.model.name if self.settings.judge else JUDGE_MODEL
        data = []
        for row in sorted((r for r in rows if r.sample.subset == subset), key=lambda r: int(r.sample.id)):
            data.append(
                [
                    model_name,
                    NAME,
                    DATASET,
                    row.sample.messages[0].content if row.sample.messages else "",
                    row.output,
                    judge_model,
                    verdicts(row.transcript).does_believe(),
                ]
            )
        return Table(name, OUTPUT_COLUMNS, data)
