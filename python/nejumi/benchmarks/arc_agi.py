"""ARC-AGI (arc-agi-1 and arc-agi-2) as Nejumi Leaderboard 4 runs it.

Upstream `scripts/evaluator/arc_agi.py` (spec upstream-benchmarks.md §4): every test input
of every task file is sent `num_attempts` (2) times as independent identical requests, one
Japanese user message each, with `max_tokens = arc_agi.max_output_tokens` over the
`generator` defaults. An attempt is correct when the last bracketed grid of the answer
equals the expected grid; a test input counts if any attempt is (pass@2), a task scores the
mean over its test inputs, a version the mean over its tasks, and `AVG` is the mean of the
two versions. Failed requests are soft by default (answered empty, hence wrong). Prompts
and grading run in Rust (`nejumi_scorers.arc_*`), bit-identical to upstream under numpy 1.26.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nejumi_scorers
from nejumi.benchmark import Context, FlatScores, Judge, ScoredRow, score_key
from nejumi.benchmarks.arc_agi_answer import backscan_grid, format_tile, strictly_cells
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError
from nejumi.datasets import DatasetSpec, read_json
from nejumi.generation import generation_params
from nejumi.predictions import Prediction
from nejumi.request_queue import FailurePolicy
from nejumi.settings import benchmark_policy
from nejumi.tables import Table
from nejumi_proto.v1 import transcript_pb2, types_pb2

NAME = "arc_agi"
# Upstream's order: version 1 is evaluated, then version 2; each is one W&B artifact.
VERSIONS = ("arc-agi-1", "arc-agi-2")
ARTIFACT_KEYS = {"arc-agi-1": "arc_agi_1_artifacts_path", "arc-agi-2": "arc_agi_2_artifacts_path"}
# Upstream's base config: one W&B artifact per version, each holding evaluation/<task_id>.json.
ARTIFACTS = {
    "arc-agi-1": "llm-leaderboard/nejumi-leaderboard4/arc-agi-1_public-eval_50:production",
    "arc-agi-2": "llm-leaderboard/nejumi-leaderboard4/arc-agi-2_public-eval_50:production",
}
MAX_OUTPUT_TOKENS = 4096
NUM_ATTEMPTS = 2
# testmode: the first task files, and only the first test input of each.
TESTMODE_TASKS = 5
METRIC = "attempt_correct"
OUTPUT_COLUMNS = [
    "model_name",
    "task",
    "task_id",
    "test_example_id",
    "num_attempts",
    "prompt",
    "raw_output",
    "input",
    "reasoning_content",
    "output",
    "expected_output",
    "correct",
    "visualize",
]


def resolve_data_dir(path: Path) -> Path:
    """Accepts the folder holding arc-agi-1/ and arc-agi-2/, or one holding arc_agi/ in turn."""
    if (path / NAME / VERSIONS[0]).is_dir():
        return path / NAME
    return path


@dataclass(frozen=True)
class ArcTask:
    task_id: str
    train: list[dict[str, list[list[int]]]]
    test: list[dict[str, list[list[int]]]]


def read_grid(value: Any, path: Path, where: str) -> list[list[int]]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(row, list) and row and len(row) == len(value[0]) for row in value)
        or not all(type(cell) is int for row in value for cell in row)
    ):
        raise ConfigError(str(path), where, "must be a grid: a non-empty list of equally long rows of integers")
    return value


def read_pairs(data: dict[str, Any], key: str, path: Path) -> list[dict[str, list[list[int]]]]:
    pairs = data.get(key)
    if not isinstance(pairs, list) or not pairs:
        raise ConfigError(str(path), key, 'missing or empty: an ARC task file holds "train" and "test" pairs')
    read = []
    for index, pair in enumerate(pairs):
        if not isinstance(pair, dict):
            raise ConfigError(str(path), f"{key}[{index}]", 'must be an object with "input" and "output" grids')
        read.append({side: read_grid(pair.get(side), path, f"{key}[{index}].{side}") for side in ("input", "output")})
    return read


def read_task(path: Path) -> ArcTask:
    data = read_json(path)
    if not isinstance(data, dict):
        raise ConfigError(str(path), "", "an ARC task file must hold a JSON object")
    return ArcTask(path.stem, read_pairs(data, "train", path), read_pairs(data, "test", path))


def task_files(folder: Path) -> list[Path]:
    """The version's `evaluation/*.json`, by name (upstream's glob order is the file system's)."""
    evaluation = folder / "evaluation"
    files = sorted(evaluation.glob("*.json"))
    if not files:
        raise ConfigError(str(evaluation), "", "holds no ARC task files (*.json)")
    return files


def sample_id(task_id: str, test_example_id: int) -> str:
    # The first test input keeps the bare task id (testmode plans only that one), so a
    # task's ids do not depend on how many test inputs are planned.
    return task_id if test_example_id == 0 else f"{task_id}_{test_example_id}"


@dataclass(frozen=True)
class ArcSettings:
    # The folder holding arc-agi-1/ and arc-agi-2/ when known up front (re-scoring
    # predictions, tests); otherwise the runner resolves `dataset` and calls `check`.
    data_dir: Path | None
    max_output_tokens: int = MAX_OUTPUT_TOKENS
    num_attempts: int = NUM_ATTEMPTS
    testmode: bool = False
    generator: dict[str, Any] = field(default_factory=dict)
    compatibility: Compatibility = field(default_factory=Compatibility)
    policy: FailurePolicy = field(default_factory=lambda: FailurePolicy(mode="soft"))
    # The local folder holding both versions (`arc_agi.data_dir`), or else one official
    # artifact per version (`arc_agi.arc_agi_<n>_artifacts_path`).
    datasets: dict[str, DatasetSpec] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility) -> ArcSettings:
        data_dir = cfg.get_path(f"{NAME}.data_dir")
        if data_dir is not None:
            datasets = {
                NAME: DatasetSpec(
                    benchmark=NAME,
                    data_dir=data_dir,
                    artifact_path=None,
                    required=tuple(f"{version}/evaluation" for version in VERSIONS),
                    subdir=NAME,
                    config_file=cfg.source_of(f"{NAME}.data_dir"),
                )
            }
        else:
            datasets = {}
            for version, key in ARTIFACT_KEYS.items():
                datasets[version] = DatasetSpec(
                    benchmark=NAME,
                    data_dir=None,
                    artifact_path=cfg.get_str(f"{NAME}.{key}", ARTIFACTS[version]),
                    required=("evaluation",),
                    artifact_key=key,
                    config_file=cfg.source_of(f"{NAME}.{key}"),
                )
        return cls(
            data_dir=None,
            datasets=datasets,
            max_output_tokens=cfg.get_int(f"{NAME}.max_output_tokens", MAX_OUTPUT_TOKENS, minimum=1)
            or MAX_OUTPUT_TOKENS,
            num_attempts=cfg.get_int(f"{NAME}.num_attempts", NUM_ATTEMPTS, minimum=1) or NUM_ATTEMPTS,
            testmode=cfg.get_bool("testmode"),
            # Upstream sends only max_tokens over the client's `generator` defaults; an
            # arc_agi.generator_config is not read.
            generator=cfg.get_mapping("generator"),
            compatibility=compatibility,
            policy=benchmark_policy(cfg, NAME, default_mode="soft"),
        )

    @classmethod
    def for_predictions(
        cls,
        data_dir: Path,
        compatibility: Compatibility,
        predictions: Sequence[Prediction],
        warn: Callable[[str], None],
    ) -> ArcSettings:
        """Plans every task of both versions, with as many attempts as the predictions hold."""
        for task in sorted({p.task for p in predictions} - set(VERSIONS)):
            warn(f"arc_agi: unknown task {task!r} in the predictions is ignored (known: {', '.join(VERSIONS)})")
        attempts = max((p.attempt + 1 for p in predictions if p.attempt is not None), default=NUM_ATTEMPTS)
        return cls(data_dir=resolve_data_dir(data_dir), num_attempts=attempts, compatibility=compatibility)


@dataclass(frozen=True)
class ArcScorer:
    """Upstream's `correct` for one attempt; under `corrected`, only cells written as integers 0-9 count."""

    compatibility: Compatibility
    name = "arc_agi"

    @property
    def version(self) -> str:
        # Bump when a change to the scoring code changes any score: stored scores are re-computed.
        return "1" if self.compatibility.official else "1-corrected"

    async def score(self, transcript: transcript_pb2.Transcript, judge: Judge) -> list[types_pb2.Score]:
        return grade(transcript.sample, transcript.output, self.compatibility)


def grade(sample: types_pb2.Sample, output: str, compatibility: Compatibility) -> list[types_pb2.Score]:
    expected = json.loads(sample.references[0])
    verdict = nejumi_scorers.arc_attempt_verdict(output, expected)
    if verdict == "correct" and not compatibility.official and not strictly_cells(backscan_grid(output)):
        verdict = "cast_to_match"
    score = types_pb2.Score(metric=METRIC, value=1.0 if verdict == "correct" else 0.0)
    score.details.update({"verdict": verdict})
    return [score]


class ArcAgi:
    name = NAME
    judges = ()

    def __init__(self, settings: ArcSettings) -> None:
        self.settings = settings
        self.datasets = settings.datasets
        # Each version's folder (the one holding evaluation/), once known.
        self.folders = {v: settings.data_dir / v for v in VERSIONS} if settings.data_dir else {}
        self.generation = generation_params(settings.generator, max_tokens=settings.max_output_tokens)
        self.policy = settings.policy
        self.scorers = (ArcScorer(settings.compatibility),)

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility, warn: Callable[[str], None]) -> ArcAgi:
        return cls(ArcSettings.from_config(cfg, compatibility))

    @classmethod
    def for_predictions(
        cls,
        data_dir: Path,
        compatibility: Compatibility,
        predictions: Sequence[Prediction],
        warn: Callable[[str], None],
    ) -> ArcAgi:
        return cls(ArcSettings.for_predictions(data_dir, compatibility, predictions, warn))

    def check(self, folders: Mapping[str, Path]) -> None:
        """Takes the resolved folders (both versions in one, or one per version); `plan` reads the tasks."""
        if NAME in folders:
            both = resolve_data_dir(folders[NAME])
            self.folders = {version: both / version for version in VERSIONS}
        else:
            self.folders.update({version: folders[version] for version in VERSIONS if version in folders})
        for version in VERSIONS:
            folder = self.folders.get(version)
            if folder is None or not (folder / "evaluation").is_dir():
                raise ConfigError(
                    str(folder / "evaluation" if folder else version),
                    f"{NAME}.data_dir",
                    "missing: the ARC-AGI folder holds arc-agi-1/evaluation/ and arc-agi-2/evaluation/",
                )

    def plan(self) -> list[types_pb2.Sample]:
        if set(self.folders) != set(VERSIONS):
            raise RuntimeError("arc_agi: the dataset folders are not resolved yet (the runner calls check first)")
        samples = []
        for version in VERSIONS:
            files = task_files(self.folders[version])
            if self.settings.testmode:
                files = files[:TESTMODE_TASKS]
            for path in files:
                samples += self._plan_task(version, read_task(path))
        return samples

    def _plan_task(self, version: str, task: ArcTask) -> list[types_pb2.Sample]:
        tests = task.test[:1] if self.settings.testmode else task.test
        planned = []
        for test_example_id, test in enumerate(tests):
            prompt = nejumi_scorers.arc_format_prompt(task.train, test["input"])
            for attempt in range(self.settings.num_attempts):
                planned.append(
                    types_pb2.Sample(
                        benchmark=NAME,
                        task=version,
                        id=sample_id(task.task_id, test_example_id),
                        shots=0,
                        subset="test",
                        messages=[types_pb2.ChatMessage(role="user", content=prompt)],
                        generation=self.generation,
                        references=[json.dumps(test["output"])],
                        # Upstream sends each test input num_attempts times on purpose.
                        attempt=attempt,
                        metadata={
                            "task_id": task.task_id,
                            "test_example_id": str(test_example_id),
                            "input": json.dumps(test["input"]),
                        },
                    )
                )
        return planned

    async def solve(self, ctx: Context) -> str:
        # Attempts are independent identical requests; the attempt number keeps them apart.
        response = await ctx.generate(ctx.sample.messages, attempt=ctx.sample.attempt)
        return response.text

    def version_scores(self, rows: Sequence[ScoredRow]) -> dict[str, float | None]:
        """pass@k per test input, mean per task, mean over tasks (None where a version has no rows)."""
        flags: dict[str, dict[str, dict[int, list[bool]]]] = {
            v: defaultdict(lambda: defaultdict(list)) for v in VERSIONS
        }
        for row in rows:
            if row.sample.task in flags:
                sample = row.sample
                by_example = flags[sample.task][sample.metadata["task_id"]]
                by_example[int(sample.metadata["test_example_id"])].append(row.value(METRIC) == 1.0)
        scores: dict[str, float | None] = {}
        for version, tasks in flags.items():
            per_task = {task_id: [examples[i] for i in sorted(examples)] for task_id, examples in tasks.items()}
            scores[version] = nejumi_scorers.arc_version_score(per_task) if per_task else None
        return scores

    def summarize(self, rows: Sequence[ScoredRow]) -> FlatScores:
        scores = self.version_scores(rows)
        flat: FlatScores = {score_key(NAME, version, 0, "accuracy"): value for version, value in scores.items()}
        flat[score_key(NAME, "_all", 0, "AVG")] = average(scores)
        return flat

    def tables(self, rows: Sequence[ScoredRow], model_name: str) -> list[Table]:
        """`arc_agi_1_output_table`, `arc_agi_2_output_table` and `arc_agi_leaderboard_table`."""
        tables = []
        for number, version in enumerate(VERSIONS, start=1):
            data = [output_row(row, model_name) for row in rows if row.sample.task == version]
            tables.append(Table(f"{NAME}_{number}_output_table", OUTPUT_COLUMNS, data))
        scores = self.version_scores(rows)
        tables.append(
            Table(
                f"{NAME}_leaderboard_table",
                ["model_name", *VERSIONS, "AVG"],
                [[model_name, *(scores[v] for v in VERSIONS), average(scores)]],
            )
        )
        return tables


def average(scores: dict[str, float | None]) -> float | None:
    first, second = (scores[v] for v in VERSIONS)
    return None if first is None or second is None else (first + second) / 2


def reasoning(transcript: transcript_pb2.Transcript) -> str:
    for event in transcript.events:
        if event.HasField("model_call"):
            return event.model_call.response.reasoning_text
    return ""


def output_row(row: ScoredRow, model_name: str) -> list[Any]:
    """One attempt as upstream logs it; `visualize` (a wandb.Image upstream) is left empty."""
    sample = row.sample
    parsed = backscan_grid(row.output)
    return [
        model_name,
        sample.task,
        sample.metadata["task_id"],
        int(sample.metadata["test_example_id"]),
        sample.attempt,
        sample.messages[0].content,
        row.output,
        format_tile(json.loads(sample.metadata["input"])),
        reasoning(row.transcript),
        format_tile(parsed) if parsed is not None else None,
        format_tile(json.loads(sample.references[0])),
        row.value(METRIC) == 1.0,
        None,
    ]
