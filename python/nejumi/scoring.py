"""Runs a benchmark's scorers over transcripts, with the store as their cache.

A scorer's result is stored under (sample, scorer name, scorer version, transcript
digest): bumping a scorer's version, or a changed transcript, re-scores; anything
else is read back, so a resumed run does not ask a judge again for a verdict it has.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from nejumi.benchmark import BatchScorer, Benchmark, Scorer
from nejumi.flow import Judges, SampleJudge
from nejumi.store import Store, transcript_digest
from nejumi_proto.v1 import transcript_pb2, types_pb2

Keyed = tuple[str, transcript_pb2.Transcript]


async def score_one(
    benchmark: Benchmark, key: str, transcript: transcript_pb2.Transcript, store: Store, judges: Judges
) -> list[types_pb2.Score]:
    """The per-transcript scorers' scores of one sample (cached)."""
    digest = transcript_digest(transcript)
    scores: list[types_pb2.Score] = []
    for scorer in benchmark.scorers:
        if isinstance(scorer, BatchScorer):
            continue
        assert isinstance(scorer, Scorer)
        cached = store.cached_scores(key, scorer.name, scorer.version, digest)
        if cached is None:
            # A scorer's judge calls are in the store already; the transcript keeps the flow's.
            cached = await scorer.score(transcript, SampleJudge(judges, transcript.sample, []))
            store.put_scores(key, scorer.name, scorer.version, digest, cached)
        scores += cached
    return scores


async def score_batches(benchmark: Benchmark, items: Sequence[Keyed], store: Store) -> dict[str, list[types_pb2.Score]]:
    """The batch scorers' scores of every sample, run once over the transcripts not yet cached."""
    by_key: dict[str, list[types_pb2.Score]] = {key: [] for key, _ in items}
    for scorer in benchmark.scorers:
        if not isinstance(scorer, BatchScorer):
            continue
        digests = {key: transcript_digest(transcript) for key, transcript in items}
        missing: list[Keyed] = []
        for key, transcript in items:
            cached = store.cached_scores(key, scorer.name, scorer.version, digests[key])
            if cached is None:
                missing.append((key, transcript))
            else:
                by_key[key] += cached
        if missing:
            # Scoring models are heavy: keep the event loop (and the service streams) alive.
            results = await asyncio.to_thread(scorer.score_batch, [transcript for _, transcript in missing])
            if len(results) != len(missing):
                raise RuntimeError(
                    f"{benchmark.name}: scorer {scorer.name} returned {len(results)} results for {len(missing)} "
                    "transcripts"
                )
            for (key, _), scores in zip(missing, results, strict=True):
                store.put_scores(key, scorer.name, scorer.version, digests[key], scores)
                by_key[key] += scores
    return by_key
