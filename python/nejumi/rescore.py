"""`nejumi score`: re-scores a predictions.jsonl without any inference."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nejumi.benchmark import FlatScores, ScoredRow
from nejumi.benchmarks.jaster import ROBUSTNESS_TASKS, UPSTREAM_TASKS, Jaster, JasterSettings, unsupported_tasks
from nejumi.compat import Compatibility
from nejumi.config import ConfigError

REQUIRED = ("benchmark", "task", "shots", "id", "output")


@dataclass(frozen=True)
class Prediction:
    benchmark: str
    task: str
    shots: int
    id: str
    output: str
    subset: str
    attempt: int | None


def read_predictions(path: Path) -> list[Prediction]:
    predictions = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ConfigError(str(path), f"line {number}", f"invalid JSON: {err.msg}") from None
            missing = [key for key in REQUIRED if key not in record]
            if missing:
                raise ConfigError(str(path), f"line {number}", f"missing field(s) {', '.join(missing)}")
            if not isinstance(record["output"], str):
                raise ConfigError(str(path), f"line {number}", "output must be a string")
            predictions.append(
                Prediction(
                    benchmark=str(record["benchmark"]),
                    task=str(record["task"]),
                    shots=int(record["shots"]),
                    id=str(record["id"]),
                    output=record["output"],
                    subset=str(record.get("subset", "test")),
                    attempt=int(record["attempt"]) if "attempt" in record else None,
                )
            )
    return predictions


def rescore_jaster(
    predictions: list[Prediction], data_dir: Path, compat: Compatibility, warn: Callable[[str], None]
) -> FlatScores:
    tasks = []
    unsupported = unsupported_tasks(compat)
    for task in dict.fromkeys(p.task for p in predictions):
        if task in ROBUSTNESS_TASKS:
            continue
        if task not in UPSTREAM_TASKS:
            warn(f"jaster: unknown task {task!r} in the predictions is ignored")
        elif task in unsupported:
            warn(f"jaster: {task} is not scored (needs {unsupported[task]})")
        else:
            tasks.append(task)
    few_shots = max((p.shots for p in predictions), default=0)
    settings = JasterSettings(
        data_dir=data_dir,
        tasks=tuple(t for t in UPSTREAM_TASKS if t in tasks),
        num_few_shots=few_shots,
        robustness=any(p.task in ROBUSTNESS_TASKS for p in predictions),
        samples={"test": 10**9, "dev": 10**9},
        override_max_tokens=None,
        generator={},
        compatibility=compat,
    )
    jaster = Jaster(settings, warn)
    by_key: dict[tuple[str, int, str, str], list[Prediction]] = defaultdict(list)
    for prediction in predictions:
        by_key[(prediction.task, prediction.shots, prediction.subset, prediction.id)].append(prediction)
    rows = []
    for sample in jaster.plan():
        candidates = by_key.get((sample.task, sample.shots, sample.subset, sample.id), [])
        matching = [p for p in candidates if p.attempt in (None, sample.attempt)]
        if matching:
            output = matching[0].output
            rows.append(ScoredRow(sample, output, tuple(jaster.score(sample, output))))
    return jaster.summarize(rows)


def rescore(predictions_path: Path, data_dir: Path, compat: Compatibility, warn: Callable[[str], None]) -> FlatScores:
    predictions = read_predictions(predictions_path)
    by_benchmark: dict[str, list[Prediction]] = defaultdict(list)
    for prediction in predictions:
        by_benchmark[prediction.benchmark].append(prediction)
    scores: FlatScores = {}
    for benchmark, items in by_benchmark.items():
        if benchmark == "jaster":
            scores.update(rescore_jaster(items, data_dir, compat, warn))
        else:
            warn(f"{benchmark}: re-scoring is not supported yet; its {len(items)} predictions are ignored")
    return scores
