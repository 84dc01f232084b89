"""`nejumi score`: re-scores without asking the model anything.

From a run directory, the store holds everything: the run's config, each sample's
transcript and every judge call; scorers whose version and transcript are unchanged
are read back from the store's cache, the others run again. From a predictions.jsonl,
each benchmark plans its samples from a dataset folder and the lines answer them.
Either way, every benchmark goes through the registry.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nejumi.benchmark import Benchmark, FlatScores, ScoredRow
from nejumi.benchmarks import REGISTRY, BenchmarkEntry
from nejumi.comparability import not_comparable_reasons
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError
from nejumi.flow import Caller, Judges
from nejumi.predictions import Prediction, first_line_transcript, read_predictions
from nejumi.providers.base import ProviderError
from nejumi.request_key import ModelIdentity
from nejumi.request_queue import QueueStats, RequestQueue
from nejumi.run_result import RunResult
from nejumi.runner import add_leaderboard
from nejumi.scoring import score_batches, score_one
from nejumi.settings import RunSettings
from nejumi.store import Store
from nejumi.tables import Table
from nejumi_proto.v1 import inference_pb2, transcript_pb2, types_pb2

Say = Callable[[str], None]


class StoredOnly:
    """A provider for re-scoring: every answer must come from the store."""

    def __init__(self, role: str) -> None:
        self.role = role

    async def generate(self, request_id: str, request: inference_pb2.GenerateRequest) -> types_pb2.Response:
        raise ProviderError(
            f"re-scoring sends no requests, and this {self.role} call is not in the store "
            "(a changed prompt or a new scorer needs a run: nejumi CONFIG --run-dir DIR)",
            transient=False,
        )

    async def count_tokens(self, request: inference_pb2.CountTokensRequest) -> inference_pb2.CountTokensResponse:
        raise ProviderError("re-scoring counts no tokens", transient=False)

    async def model_info(self) -> inference_pb2.ModelInfoResponse:
        return inference_pb2.ModelInfoResponse()

    async def close(self) -> None:
        return None


async def score_transcripts(
    benchmark: Benchmark, keyed: Sequence[tuple[str, transcript_pb2.Transcript]], store: Store, judges: Judges
) -> list[ScoredRow]:
    per_transcript = [await score_one(benchmark, key, transcript, store, judges) for key, transcript in keyed]
    batch = await score_batches(benchmark, keyed, store)
    return [
        ScoredRow(transcript, tuple(scores + batch[key]))
        for (key, transcript), scores in zip(keyed, per_transcript, strict=True)
    ]


def stored_judges(store: Store) -> Judges:
    identities: dict[str, dict] = store.get_meta("identities") or {}
    callers = {}
    for role, identity in identities.items():
        if role == "model":
            continue
        provider = StoredOnly(f"judge {role}")
        queue = RequestQueue(provider, store, 1, role=f"judge:{role}")
        callers[role] = Caller(queue, provider, ModelIdentity(**identity))
    return Judges(callers, {})


@dataclass(frozen=True)
class RebuiltRun:
    """A run re-scored from its store: what the sinks need, without inference."""

    settings: RunSettings
    result: RunResult


def stored_stats(run_dir: Path) -> tuple[QueueStats, dict[str, QueueStats]]:
    """The model's and each judge's request counts as the run wrote them to results.json (zeros without)."""
    try:
        document = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
        judges = {section: QueueStats(**stats) for section, stats in document.get("judges", {}).items()}
        return QueueStats(**document["requests"]), judges
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return QueueStats(), {}


def rebuild_run(run_dir: Path, say: Say, registry: Mapping[str, BenchmarkEntry] = REGISTRY) -> RebuiltRun:
    """Re-scores a run directory's store with the config it ran with: rows, tables, scores."""
    started = time.monotonic()
    path = run_dir / "store.sqlite"
    if not path.is_file():
        raise ConfigError(str(run_dir), "", "no store.sqlite here: is this a nejumi run directory?")
    store = Store(path)
    try:
        data = store.get_meta("config")
        if not isinstance(data, dict):
            raise ConfigError(str(path), "meta.config", "the run's config is not stored")
        cfg = Config(data=data, model_file=run_dir / "config.yaml")
        settings = RunSettings.from_config(cfg)
        by_benchmark: dict[str, list[tuple[str, transcript_pb2.Transcript]]] = defaultdict(list)
        for key, transcript in store.transcripts():
            by_benchmark[transcript.sample.benchmark].append((key, transcript))
        judges = stored_judges(store)
        identities: dict[str, dict] = store.get_meta("identities") or {}
        judge_models = {role: str(i.get("model", "unknown")) for role, i in identities.items() if role != "model"}
        scores: FlatScores = {}
        tables: list[Table] = []
        rows: dict[str, list[ScoredRow]] = {}
        benchmarks = []
        for name, keyed in by_benchmark.items():
            entry = registry.get(name)
            if entry is None:
                say(f"{name}: no such benchmark in this nejumi; its {len(keyed)} transcripts are ignored")
                continue
            benchmark = entry.from_config(cfg, settings.compatibility, say)
            rows[name] = asyncio.run(score_transcripts(benchmark, keyed, store, judges))
            scores.update(benchmark.summarize(rows[name]))
            tables += benchmark.tables(rows[name], settings.model.name)
            benchmarks.append(benchmark)
        add_leaderboard(settings, benchmarks, tables, scores)
    finally:
        store.close()
    stats, judge_stats = stored_stats(run_dir)
    reasons = not_comparable_reasons(cfg.get_bool("testmode"), settings.compatibility, judge_models)
    result = RunResult(
        run_dir, scores, rows, stats, time.monotonic() - started, tables, judge_stats, judge_models, reasons
    )
    return RebuiltRun(settings, result)


def rescore_run(run_dir: Path, say: Say, registry: Mapping[str, BenchmarkEntry] = REGISTRY) -> FlatScores:
    """Re-scores a run directory's store with the config it ran with."""
    return rebuild_run(run_dir, say, registry).result.scores


def rows_from_predictions(
    benchmark: Benchmark,
    predictions: Sequence[Prediction],
    transcript_of: Callable[
        [types_pb2.Sample, Sequence[Prediction]], transcript_pb2.Transcript
    ] = first_line_transcript,
) -> list[transcript_pb2.Transcript]:
    """The transcripts the predictions give for the benchmark's plan (unanswered samples are left out)."""
    by_sample: dict[tuple[str, int, str, str], list[Prediction]] = defaultdict(list)
    for prediction in predictions:
        by_sample[(prediction.task, prediction.shots, prediction.subset, prediction.id)].append(prediction)
    transcripts = []
    for sample in benchmark.plan():
        candidates = by_sample.get((sample.task, sample.shots, sample.subset, sample.id), [])
        answering = [p for p in candidates if p.answers(sample)]
        if answering:
            transcripts.append(transcript_of(sample, answering))
    return transcripts


def rescore_predictions(
    predictions_path: Path,
    data_dir: Path,
    compat: Compatibility,
    say: Say,
    registry: Mapping[str, BenchmarkEntry] = REGISTRY,
) -> FlatScores:
    """Re-scores a predictions.jsonl against the datasets in `data_dir` (in memory; nothing is stored)."""
    by_benchmark: dict[str, list[Prediction]] = defaultdict(list)
    for prediction in read_predictions(predictions_path):
        by_benchmark[prediction.benchmark].append(prediction)
    scores: FlatScores = {}
    store = Store(Path(":memory:"))
    try:
        for name, predictions in by_benchmark.items():
            entry = registry.get(name)
            if entry is None:
                say(f"{name}: no such benchmark in this nejumi; its {len(predictions)} predictions are ignored")
                continue
            if entry.for_predictions is None:
                say(f"{name}: re-scores from a run directory only (nejumi score RUN_DIR); its predictions are ignored")
                continue
            benchmark = entry.for_predictions(data_dir, compat, predictions, say)
            transcripts = rows_from_predictions(benchmark, predictions, entry.predicted_transcript)
            keyed = [(str(i), t) for i, t in enumerate(transcripts)]
            rows = asyncio.run(score_transcripts(benchmark, keyed, store, Judges({}, {})))
            scores.update(benchmark.summarize(rows))
    finally:
        store.close()
    return scores
