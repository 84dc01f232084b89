"""Runs an evaluation: plan every benchmark, answer every sample, score, report.

The controller in HELM's sense: it owns the world (service process, provider,
store, sinks); benchmarks stay pure. All benchmarks' requests share one queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from tqdm import tqdm

from nejumi.benchmark import Benchmark, FlatScores, ScoredRow
from nejumi.benchmarks import build_benchmarks
from nejumi.compat import Compatibility
from nejumi.config import Config
from nejumi.model_spec import OPENAI_LIKE, SERVED, ModelSpec
from nejumi.providers.base import Provider
from nejumi.providers.grpc_provider import GrpcProvider
from nejumi.request_key import request_key
from nejumi.request_queue import FailurePolicy, RequestQueue
from nejumi.run_result import RunResult
from nejumi.service_process import inference_service
from nejumi.sinks import write_sinks
from nejumi.store import Store
from nejumi_proto.v1 import types_pb2

Say = Callable[[str], None]


def say_stderr(message: str) -> None:
    tqdm.write(message, file=sys.stderr)


def failure_policy(cfg: Config) -> FailurePolicy:
    return FailurePolicy(
        mode=cfg.get_str("error_handling.request_failure.mode", "hard", choices=("hard", "soft")) or "hard",
        max_retries=cfg.get_int("error_handling.request_failure.max_retries", 8, minimum=0) or 0,
        max_backoff_s=cfg.get_float("error_handling.request_failure.max_backoff_s", 60.0, minimum=0.0) or 0.0,
    )


@contextlib.asynccontextmanager
async def open_provider(spec: ModelSpec, run_dir: Path, say: Say) -> AsyncIterator[Provider]:
    """Connects to the model, starting nejumi's own inference service if needed."""
    provider: Provider
    async with contextlib.AsyncExitStack() as stack:
        if spec.api in SERVED:
            log = run_dir / "inference-service.log"
            say(f"starting the inference service ({spec.backend}, {spec.name}); log: {log}")
            target = await stack.enter_async_context(
                inference_service(
                    spec.backend,
                    spec.name,
                    spec.backend_config,
                    log,
                    lambda waited: say(f"  still loading the model ({waited:.0f} s)"),
                )
            )
            provider = GrpcProvider(target, spec.model_id)
        elif spec.api == "grpc":
            provider = GrpcProvider(spec.endpoint or "", spec.model_id, token=os.environ.get("NEJUMI_INFERENCE_TOKEN"))
        elif spec.api in OPENAI_LIKE:
            from nejumi.providers.openai_provider import OpenAIProvider

            provider = OpenAIProvider(spec)
        else:
            raise ValueError(f"api {spec.api!r} has no provider")
        stack.push_async_callback(provider.close)
        yield provider


async def answer_all(
    plan: Sequence[tuple[Benchmark, types_pb2.Sample]],
    queue: RequestQueue,
    progress: tqdm,
) -> list[types_pb2.Response]:
    async def one(benchmark: Benchmark, sample: types_pb2.Sample) -> types_pb2.Response:
        response = await benchmark.solve(sample, queue.generate)
        progress.update(1)
        return response

    # A TaskGroup cancels every other sample when one aborts the run (hard mode).
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(benchmark, sample)) for benchmark, sample in plan]
    except BaseExceptionGroup as failures:
        queue.cancel_all()
        raise failures.exceptions[0] from None
    return [task.result() for task in tasks]


def score_all(
    plan: Sequence[tuple[Benchmark, types_pb2.Sample]],
    responses: Sequence[types_pb2.Response],
    store: Store,
    model_id: str,
) -> dict[str, list[ScoredRow]]:
    rows: dict[str, list[ScoredRow]] = {}
    stored = []
    for (benchmark, sample), response in zip(plan, responses, strict=True):
        scores = tuple(benchmark.score(sample, response.text))
        rows.setdefault(benchmark.name, []).append(ScoredRow(sample, response.text, scores))
        stored.append((request_key(model_id, sample), list(scores)))
    store.put_scores(stored)
    return rows


async def evaluate(cfg: Config, run_dir: Path, say: Say = say_stderr, show_progress: bool = True) -> RunResult:
    started = time.monotonic()
    compat = Compatibility.from_config(cfg)
    spec = ModelSpec.from_config(cfg)
    benchmarks = build_benchmarks(cfg, compat, say)
    if not benchmarks:
        raise cfg.error("run", "no benchmark is enabled (set run.jaster: true)")
    plan = [(benchmark, sample) for benchmark in benchmarks for sample in benchmark.plan()]
    concurrency = cfg.get_int("batch_size", 32, minimum=1) or 1
    interval = cfg.get_float("inference_interval", 0.0, minimum=0.0) or 0.0
    policy = failure_policy(cfg)

    store = Store(run_dir / "store.sqlite")
    try:
        stored = store.count_responses()
        store.set_meta("config", cfg.data)
        say(f"run directory: {run_dir}" + (f" (resuming: {stored} answers stored)" if stored else ""))
        say(f"{len(plan)} requests planned for {', '.join(b.name for b in benchmarks)}; model {spec.model_id}")
        async with open_provider(spec, run_dir, say) as provider:
            with tqdm(total=len(plan), desc="answering", unit="req", disable=not show_progress) as progress:
                queue = RequestQueue(provider, store, concurrency, policy, interval)
                responses = await answer_all(plan, queue, progress)
        for error in queue.stats.errors:
            say(f"soft failure: {error}")
        rows = score_all(plan, responses, store, spec.model_id)
        scores: FlatScores = {}
        for benchmark in benchmarks:
            scores.update(benchmark.summarize(rows.get(benchmark.name, [])))
        result = RunResult(run_dir, scores, rows, queue.stats, time.monotonic() - started)
        tables = [t for b in benchmarks for t in b.tables(rows.get(b.name, []), spec.name)]
        write_sinks(cfg, spec, result, tables, say)
        return result
    finally:
        store.close()
