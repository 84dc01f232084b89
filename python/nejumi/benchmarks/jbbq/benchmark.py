"""JBBQ (Japanese Bias Benchmark for QA) as Nejumi Leaderboard 4 runs it (upstream `scripts/evaluator/jbbq.py`).

One pass at `num_few_shots` (upstream's 0-shot pass is commented out): per category
the first 20 test and 4 dev items, each asked with that category's few-shot examples
and `max_tokens` 10 (`jbbq.generator_config`). The metrics of the test answers make
the leaderboard row; the aggregate's ALT バイアス is `1 - avg_abs_bias_score`.
Nothing in JBBQ's numbers comes from a quirk, so `nejumi.compatibility` changes nothing here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nejumi.benchmark import Context, FlatScores, ScoredRow, score_key
from nejumi.benchmarks.jbbq.data import JbbqItem, evaluated_items, few_shot_items, read_task_file
from nejumi.benchmarks.jbbq.scoring import (
    METRICS,
    VALID_ANSWERS,
    JbbqScorer,
    bias_metrics,
    expected_answer,
    scored_answer,
)
from nejumi.benchmarks.jbbq.tables import NAME, leaderboard_table, output_table, table_name
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError
from nejumi.datasets import DatasetSpec
from nejumi.generation import generation_params
from nejumi.predictions import Prediction
from nejumi.request_queue import FailurePolicy
from nejumi.settings import benchmark_policy
from nejumi.tables import Table
from nejumi_proto.v1 import types_pb2

Warn = Callable[[str], None]

# Upstream's defaults (its base_config), used when the config does not set them.
ARTIFACT_PATH = "llm-leaderboard/nejumi-leaderboard4-private/jbbq:production"
DATASET_DIR = "jbbq"
MAX_TOKENS = 10
# Upstream's one task: the file `<subset>/jbbq.json`. Re-scoring plans every task file its predictions name.
TASK = NAME

# Items asked per category and subset.
UPSTREAM_SAMPLES = {"test": 20, "dev": 4}
TESTMODE_SAMPLES = {"test": 1, "dev": 1}
EVERY_SAMPLE = {"test": 10**9, "dev": 10**9}


def resolve_data_dir(path: Path) -> Path:
    """Accepts the folder holding test/, dev/ and train/, or one holding jbbq/ in turn."""
    if (path / DATASET_DIR / "test").is_dir():
        return path / DATASET_DIR
    return path


def dataset_spec(cfg: Config) -> DatasetSpec:
    """`jbbq.data_dir` (nejumi) or the official artifact, with upstream's defaults when unset."""
    data_dir = cfg.get_path(f"{NAME}.data_dir")
    return DatasetSpec(
        benchmark=NAME,
        data_dir=data_dir,
        artifact_path=cfg.get_str(f"{NAME}.artifacts_path", ARTIFACT_PATH),
        required=(f"test/{TASK}.json",),
        subdir=cfg.get_str(f"{NAME}.dataset_dir", DATASET_DIR),
        config_file=cfg.source_of(f"{NAME}.data_dir" if data_dir is not None else f"{NAME}.artifacts_path"),
    )


@dataclass(frozen=True)
class JbbqSettings:
    # The dataset folder when known up front (re-scoring predictions, tests); otherwise
    # the runner resolves `dataset` and hands the folder to `Jbbq.check`.
    data_dir: Path | None
    tasks: tuple[str, ...]
    num_few_shots: int
    samples: dict[str, int]
    generator: dict[str, Any]
    policy: FailurePolicy = field(default_factory=FailurePolicy)
    dataset: DatasetSpec | None = None

    @classmethod
    def from_config(cls, cfg: Config) -> JbbqSettings:
        return cls(
            data_dir=None,
            dataset=dataset_spec(cfg),
            tasks=(TASK,),
            num_few_shots=cfg.get_int("num_few_shots", 0, minimum=0) or 0,
            samples=dict(TESTMODE_SAMPLES if cfg.get_bool("testmode") else UPSTREAM_SAMPLES),
            # `jbbq.generator_config` over `generator`, key by key; upstream's base config sets max_tokens 10.
            generator={
                **cfg.get_mapping("generator"),
                "max_tokens": MAX_TOKENS,
                **cfg.get_mapping(f"{NAME}.generator_config"),
            },
            policy=benchmark_policy(cfg, NAME),
        )

    @classmethod
    def for_predictions(cls, data_dir: Path, predictions: Sequence[Prediction]) -> JbbqSettings:
        """Settings that plan every item of each task file the predictions name (`<subset>/<task>.json`)."""
        return cls(
            data_dir=resolve_data_dir(data_dir),
            tasks=tuple(dict.fromkeys(p.task for p in predictions)),
            num_few_shots=max((p.shots for p in predictions), default=0),
            samples=EVERY_SAMPLE,
            generator={"max_tokens": MAX_TOKENS},
        )


class Jbbq:
    name = NAME
    judges = ()
    scorers = (JbbqScorer(),)

    def __init__(self, settings: JbbqSettings, warn: Warn = lambda _: None) -> None:
        self.settings = settings
        self.datasets = {NAME: settings.dataset} if settings.dataset else {}
        self.data_dir = settings.data_dir
        self.generation = generation_params(settings.generator)
        self.policy = settings.policy
        self._warn = warn

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility, warn: Warn) -> Jbbq:
        return cls(JbbqSettings.from_config(cfg), warn)

    @classmethod
    def for_predictions(
        cls, data_dir: Path, compatibility: Compatibility, predictions: Sequence[Prediction], warn: Warn
    ) -> Jbbq:
        return cls(JbbqSettings.for_predictions(data_dir, predictions), warn)

    def check(self, folders: Mapping[str, Path]) -> None:
        """Takes the resolved dataset folder; `plan` then reads and checks every file."""
        if NAME in folders:
            self.data_dir = resolve_data_dir(folders[NAME])
        for task in self.settings.tasks:
            needed = [self.path("test", task)] + ([self.path("train", task)] if self.settings.num_few_shots else [])
            for path in needed:
                if not path.is_file():
                    raise ConfigError(
                        str(path), "", f"missing: JBBQ reads test/{task}.json (and train/ for few-shot examples)"
                    )

    def folder(self) -> Path:
        if self.data_dir is None:
            raise RuntimeError("jbbq: the dataset folder is not resolved yet (the runner calls check first)")
        return self.data_dir

    def path(self, subset: str, task: str) -> Path:
        return self.folder() / subset / f"{task}.json"

    def plan(self) -> list[types_pb2.Sample]:
        shots = self.settings.num_few_shots
        samples = []
        for task in self.settings.tasks:
            examples = few_shot_items(read_task_file(self.path("train", task)).items, shots) if shots else {}
            for subset in ("test", "dev"):
                path = self.path(subset, task)
                # Upstream skips a missing subset file; a missing test file fails in read_task_file.
                if subset == "dev" and not path.exists():
                    continue
                task_file = read_task_file(path)
                for index, item in evaluated_items(task_file.items, self.settings.samples[subset]):
                    messages = build_messages(task_file.instruction, examples.get(item.category, []), item.input)
                    samples.append(self._sample(task, subset, shots, index, item, messages))
        return samples

    def _sample(
        self,
        task: str,
        subset: str,
        shots: int,
        index: int,
        item: JbbqItem,
        messages: list[types_pb2.ChatMessage],
    ) -> types_pb2.Sample:
        labels = item.labels
        return types_pb2.Sample(
            benchmark=NAME,
            task=task,
            id=str(item.position),
            shots=shots,
            subset=subset,
            messages=messages,
            generation=self.generation,
            references=[expected_answer(item.output)],
            metadata={
                "category": item.category,
                "context_condition": str(labels["context_condition"]),
                "question_polarity": str(labels["question_polarity"]),
                # Upstream compares these with the answer as strings.
                "unk_label": str(labels["unk_label"]),
                "stereotype_label": str(labels["stereotype_label"]),
                # The item's position among its category's evaluated items (upstream's `index` column).
                "index": str(index),
                "input": item.input,
                # The labels as the file holds them, for the output table.
                "labels": json.dumps(labels, ensure_ascii=False),
            },
        )

    async def solve(self, ctx: Context) -> str:
        response = await ctx.generate(ctx.sample.messages, params=ctx.sample.generation)
        return response.text

    def summarize(self, rows: Sequence[ScoredRow]) -> FlatScores:
        flat: FlatScores = {}
        for task in self.settings.tasks:
            test = [row for row in rows if row.sample.task == task and row.sample.subset == "test"]
            if not test:
                continue
            if all(scored_answer(row) not in VALID_ANSWERS for row in test):
                # Upstream stops the run here (an assert); nejumi reports the scores and says so.
                self._warn(f"jbbq: every {task} test answer is a format error (none is 0, 1 or 2)")
            shots = test[0].sample.shots
            metrics = bias_metrics(test)
            flat.update({score_key(NAME, task, shots, metric): metrics[metric] for metric in METRICS})
        return flat

    def tables(self, rows: Sequence[ScoredRow], model_name: str) -> list[Table]:
        """Per task: `jbbq_<n>shot_output_table_dev`, `jbbq_<n>shot_output_table`, `jbbq_<n>shot_leaderboard_table`."""
        flat = self.summarize(rows)
        tables = []
        shots = self.settings.num_few_shots
        for task in self.settings.tasks:
            mine = [row for row in rows if row.sample.task == task]
            dev = [row for row in mine if row.sample.subset == "dev"]
            test = [row for row in mine if row.sample.subset == "test"]
            tables += [
                output_table(table_name(task, shots, "output_table_dev"), dev, model_name),
                output_table(table_name(task, shots, "output_table"), test, model_name),
                leaderboard_table(table_name(task, shots, "leaderboard_table"), flat, task, shots, model_name),
            ]
        return tables


def build_messages(instruction: str, examples: Sequence[JbbqItem], query: str) -> list[types_pb2.ChatMessage]:
    """Upstream's prompt: the category's examples as user/assistant turns, the instruction before the first."""
    messages = []
    for example in examples:
        messages.append(types_pb2.ChatMessage(role="user", content=str(example.input)))
        messages.append(types_pb2.ChatMessage(role="assistant", content=str(example.output)))
    messages.append(types_pb2.ChatMessage(role="user", content=query))
    messages[0].content = f"{instruction}\n\n{messages[0].content}"
    return messages
