"""Runs an evaluation: plan every benchmark, run every sample's flow, score, report.

The controller in HELM's sense: it owns the world (service processes, providers,
queues, store, sinks); benchmarks stay pure. All benchmarks' model calls share one
queue; each judge has its own. A sample's transcript is stored as soon as its flow
ends, and its per-transcript scorers (judges among them) start at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from nejumi.aggregate import aggregate
from nejumi.benchmark import Benchmark, FlatScores, ScoredRow
from nejumi.benchmarks import REGISTRY, BenchmarkEntry, build_benchmarks
from nejumi.comparability import not_comparable_reasons
from nejumi.config import Config
from nejumi.datasets import ArtifactSource, WandbArtifactSource, default_cache_dir, resolve_dataset
from nejumi.flow import Caller, FlowContext, Judges, describe
from nejumi.model_spec import HTTP_APIS, SERVED, JudgeSpec, ModelSpec
from nejumi.providers.base import Provider, ProviderError
from nejumi.providers.grpc_provider import GrpcProvider
from nejumi.request_key import ModelIdentity, identity_differences, sample_key
from nejumi.request_queue import FailurePolicy, RequestQueue
from nejumi.run_result import RunResult
from nejumi.sandbox_client import SandboxClient
from nejumi.scoring import score_batches, score_one
from nejumi.service_process import ServiceError, inference_service
from nejumi.settings import RunSettings
from nejumi.sinks import write_sinks
from nejumi.store import ResumeRefused, Store
from nejumi.tables import Table
from nejumi_proto.v1 import transcript_pb2, types_pb2
from nejumi_proto.v1.inference_pb2 import ModelInfoResponse

Say = Callable[[str], None]


def say_stderr(message: str) -> None:
    tqdm.write(message, file=sys.stderr)


@contextlib.asynccontextmanager
async def open_provider(spec: ModelSpec, run_dir: Path, say: Say, label: str = "model") -> AsyncIterator[Provider]:
    """Connects to a model, starting nejumi's own inference service if needed."""
    provider: Provider
    async with contextlib.AsyncExitStack() as stack:
        if spec.api in SERVED:
            # One log per service: a judge nejumi serves itself runs beside the model's service.
            suffix = "" if label == "model" else "-" + label.replace(":", "-")
            log = run_dir / f"inference-service{suffix}.log"
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
            provider = GrpcProvider(target)
        elif spec.api == "grpc":
            provider = GrpcProvider(spec.endpoint or "", token=os.environ.get("NEJUMI_INFERENCE_TOKEN"))
        elif spec.api in HTTP_APIS:
            from nejumi.providers.backend_provider import BackendProvider

            provider = BackendProvider(spec.backend, spec.name, spec.provider_config())
        else:
            raise ValueError(f"{label}: api {spec.api!r} has no provider")
        stack.push_async_callback(provider.close)
        yield provider


def check_identities(
    store: Store, current: Mapping[str, ModelIdentity], force_new: bool, described: bool = True
) -> None:
    """Refuses to resume with answers of a model served differently (see request_key.py).

    Checked twice: from the config alone before any service starts (`described=False`,
    the services' own descriptions left out), then with them, before the first request.
    """
    stored: dict[str, dict] = store.get_meta("identities") or {}

    def compared(identity: Mapping[str, object]) -> dict[str, object]:
        return dict(identity) if described else {k: v for k, v in identity.items() if k != "info"}

    differences = [
        f"  {role}.{line}"
        for role in sorted(set(stored) & set(current))
        for line in identity_differences(compared(stored[role]), compared(current[role].as_json()))
    ]
    if differences and not force_new:
        raise ResumeRefused(
            f"{store.path.parent} holds answers of a model served differently:\n"
            + "\n".join(differences)
            + "\nuse a new --run-dir, or --force-new to set the stored answers aside and start again"
        )
    if described:
        store.set_meta("identities", {**stored, **{role: identity.as_json() for role, identity in current.items()}})


def open_store(run_dir: Path, force_new: bool, say: Say) -> Store:
    path = run_dir / "store.sqlite"
    if force_new and path.exists():
        aside = run_dir / f"store.{time.strftime('%Y%m%d-%H%M%S')}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            old = Path(str(path) + suffix)
            if old.exists():
                os.replace(old, Path(str(aside) + suffix))
        say(f"--force-new: the stored answers were moved to {aside}")
    return Store(path)


@dataclass(frozen=True)
class Planned:
    benchmark: Benchmark
    sample: types_pb2.Sample
    key: str


def check_unique(plan: Sequence[Planned]) -> None:
    """Two samples with one identity would share a transcript and their answers (a benchmark bug)."""
    seen: set[str] = set()
    for planned in plan:
        if planned.key in seen:
            raise ValueError(f"{describe(planned.sample)} is planned twice: give its repeats distinct attempt numbers")
        seen.add(planned.key)


@dataclass
class Finished:
    """What the flows left: each sample's transcript and per-transcript scores, by sample key."""

    transcripts: dict[str, transcript_pb2.Transcript] = field(default_factory=dict)
    scores: dict[str, list[types_pb2.Score]] = field(default_factory=dict)


async def run_flows(
    plan: Sequence[Planned],
    model: Caller,
    judges: Judges,
    sandbox: SandboxClient | None,
    store: Store,
    progress: tqdm,
) -> Finished:
    """Runs every sample's flow, stores its transcript and scores it as soon as it ends."""
    finished = Finished()

    async def one(position: int, planned: Planned) -> None:
        ctx = FlowContext(planned.benchmark, planned.sample, model, judges, sandbox)
        transcript = ctx.finish(await planned.benchmark.solve(ctx))
        store.put_transcript(planned.key, position, transcript)
        finished.transcripts[planned.key] = transcript
        finished.scores[planned.key] = await score_one(planned.benchmark, planned.key, transcript, store, judges)
        progress.update(1)

    queues = [model.queue, *(caller.queue for caller in judges.callers.values())]
    # A TaskGroup cancels every other sample when one aborts the run (hard mode).
    try:
        async with asyncio.TaskGroup() as group:
            for position, planned in enumerate(plan):
                group.create_task(one(position, planned))
    except BaseExceptionGroup as failures:
        for queue in queues:
            queue.cancel_all()
        raise failures.exceptions[0] from None
    return finished


async def evaluate(
    cfg: Config,
    run_dir: Path,
    say: Say = say_stderr,
    show_progress: bool = True,
    force_new: bool = False,
    registry: Mapping[str, BenchmarkEntry] = REGISTRY,
    artifacts: ArtifactSource | None = None,
) -> RunResult:
    started = time.monotonic()
    settings = RunSettings.from_config(cfg)
    benchmarks = build_benchmarks(cfg, settings.compatibility, say, registry)
    if not benchmarks:
        raise cfg.error("run", f"no benchmark is enabled (set run.<name>: true; known: {', '.join(registry)})")
    judge_specs = {spec.section: spec for benchmark in benchmarks for spec in benchmark.judges}
    source = artifacts or WandbArtifactSource()
    for benchmark in benchmarks:
        specs = benchmark.datasets.items()
        benchmark.check({name: resolve_dataset(spec, default_cache_dir(), source, say) for name, spec in specs})
    plan = [Planned(benchmark, sample, sample_key(sample)) for benchmark in benchmarks for sample in benchmark.plan()]
    check_unique(plan)

    store = open_store(run_dir, force_new, say)
    try:
        identities = {
            "model": settings.model.identity(),
            **{s: spec.model.identity() for s, spec in judge_specs.items()},
        }
        check_identities(store, identities, force_new, described=False)
        stored = store.count_calls()
        store.set_meta("config", cfg.data)
        say(f"run directory: {run_dir}" + (f" (resuming: {stored} answers stored)" if stored else ""))
        say(f"{len(plan)} samples planned for {', '.join(b.name for b in benchmarks)}; model {settings.model.name}")
        async with contextlib.AsyncExitStack() as stack:
            served: dict[str, Provider] = {}
            model = await open_caller(
                stack,
                settings.model,
                run_dir,
                say,
                store,
                settings.concurrency,
                settings.interval_s,
                settings.policy,
                served=served,
            )
            callers = {
                section: await open_judge(stack, spec, run_dir, say, store, settings.policy, served)
                for section, spec in judge_specs.items()
            }
            check_identities(
                store,
                {"model": model.identity, **{s: c.identity for s, c in callers.items()}},
                force_new,
            )
            policies = {section: benchmark.policy for benchmark in benchmarks for section in judge_sections(benchmark)}
            judges = Judges(callers, policies)
            sandbox = None
            if settings.sandbox:
                sandbox = SandboxClient(settings.sandbox)
                stack.push_async_callback(sandbox.close)
            with tqdm(total=len(plan), desc="samples", unit="sample", disable=not show_progress) as progress:
                finished = await run_flows(plan, model, judges, sandbox, store, progress)
            rows = {benchmark.name: await scored_rows(benchmark, plan, finished, store) for benchmark in benchmarks}
        for queue in (model.queue, *(caller.queue for caller in callers.values())):
            for error in queue.stats.errors:
                say(f"soft failure: {error}")
        flat: FlatScores = {}
        for benchmark in benchmarks:
            flat.update(benchmark.summarize(rows.get(benchmark.name, [])))
        tables = [t for b in benchmarks for t in b.tables(rows.get(b.name, []), settings.model.name)]
        add_leaderboard(settings, benchmarks, tables, flat)
        judge_stats = {section: caller.queue.stats for section, caller in callers.items()}
        judge_models = {section: spec.model.name for section, spec in judge_specs.items()}
        reasons = not_comparable_reasons(cfg.get_bool("testmode"), settings.compatibility, judge_models)
        seconds = time.monotonic() - started
        result = RunResult(run_dir, flat, rows, model.queue.stats, seconds, tables, judge_stats, judge_models, reasons)
        write_sinks(settings, cfg, result, say)
        return result
    finally:
        store.close()


def add_leaderboard(
    settings: RunSettings, benchmarks: Sequence[Benchmark], tables: list[Table], flat: FlatScores
) -> None:
    """The leaderboard over whatever ran; categories of benchmarks that did not run stay off."""
    if not settings.aggregate.enabled:
        return
    board = aggregate(
        tables,
        settings.aggregate.enabled_among([b.name for b in benchmarks]),
        settings.aggregate.model,
        settings.aggregate.num_few_shots,
        settings.compatibility,
    )
    tables += board.tables
    flat.update(board.scores())


def judge_sections(benchmark: Benchmark) -> list[str]:
    return [spec.section for spec in benchmark.judges]


async def describe_model(provider: Provider, spec: ModelSpec, role: str, policy: FailurePolicy) -> ModelInfoResponse:
    """The service's description of the model (part of its identity), retried while it is unavailable."""
    retry = 0
    while True:
        try:
            return await provider.model_info()
        except ProviderError as err:
            if not err.transient or retry >= policy.max_retries:
                raise ServiceError(f"the {role} ({spec.api}, {spec.name}) cannot be reached: {err}") from None
        await asyncio.sleep(policy.backoff(retry))
        retry += 1


async def open_caller(
    stack: contextlib.AsyncExitStack,
    spec: ModelSpec,
    run_dir: Path,
    say: Say,
    store: Store,
    concurrency: int,
    interval_s: float,
    policy: FailurePolicy,
    role: str = "model",
    served: dict[str, Provider] | None = None,
) -> Caller:
    """`served` holds the services nejumi started in this run, so that a judge served exactly as
    the model (or as another judge) asks that service instead of loading the model again."""
    key = json.dumps([spec.api, spec.name, spec.backend_config], sort_keys=True, default=str)
    provider = served.get(key) if served is not None and spec.api in SERVED else None
    if provider is None:
        provider = await stack.enter_async_context(open_provider(spec, run_dir, say, role))
        if served is not None and spec.api in SERVED:
            served[key] = provider
    identity = spec.identity().with_info(await describe_model(provider, spec, role, policy))
    return Caller(RequestQueue(provider, store, concurrency, role=role, interval_s=interval_s), provider, identity)


async def open_judge(
    stack: contextlib.AsyncExitStack,
    spec: JudgeSpec,
    run_dir: Path,
    say: Say,
    store: Store,
    policy: FailurePolicy,
    served: dict[str, Provider],
) -> Caller:
    interval = 60.0 / spec.requests_per_minute if spec.requests_per_minute else 0.0
    role = f"judge:{spec.section}"
    return await open_caller(
        stack, spec.model, run_dir, say, store, spec.parallel, interval, policy, role=role, served=served
    )


async def scored_rows(
    benchmark: Benchmark, plan: Sequence[Planned], finished: Finished, store: Store
) -> list[ScoredRow]:
    """The benchmark's scored rows in plan order, its batch scorers run over all its transcripts."""
    keyed = [(p.key, finished.transcripts[p.key]) for p in plan if p.benchmark is benchmark]
    batch = await score_batches(benchmark, keyed, store)
    return [ScoredRow(transcript, tuple(finished.scores[key] + batch[key])) for key, transcript in keyed]
