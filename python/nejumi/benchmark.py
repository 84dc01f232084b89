"""The contract every benchmark module fulfils.

A benchmark is pure: it turns a dataset directory and its config section into
Samples, and a (Sample, output) pair into Scores, and it folds scored rows into flat
`"<benchmark>/<task>/<shots>shot/<metric>"` values. It never talks to the network,
W&B or the clock; the runner does (see runner.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from nejumi.tables import Table
from nejumi_proto.v1 import types_pb2

# Sends one Sample's request through the shared queue and returns the answer.
Generate = Callable[[types_pb2.Sample], Awaitable[types_pb2.Response]]

# Flat score output: "<benchmark>/<task>/<shots>shot/<metric>" -> value (None = NaN).
FlatScores = dict[str, float | None]


@dataclass(frozen=True)
class ScoredRow:
    """One sample with the model's answer and the scores of that answer."""

    sample: types_pb2.Sample
    output: str
    scores: tuple[types_pb2.Score, ...]

    def value(self, metric: str) -> float | None:
        for score in self.scores:
            if score.metric == metric:
                return score.value if score.HasField("value") else None
        return None


class Benchmark(Protocol):
    name: str

    def plan(self) -> list[types_pb2.Sample]:
        """Every sample of the run, in a stable order."""
        ...

    async def solve(self, sample: types_pb2.Sample, generate: Generate) -> types_pb2.Response:
        """The sample's flow; most benchmarks send one request."""
        ...

    def score(self, sample: types_pb2.Sample, output: str) -> list[types_pb2.Score]:
        """Scores of one answer."""
        ...

    def summarize(self, rows: Sequence[ScoredRow]) -> FlatScores:
        """Flat scores over all rows (test subset only, as upstream)."""
        ...

    def tables(self, rows: Sequence[ScoredRow], model_name: str) -> list[Table]:
        """The benchmark's official W&B tables."""
        ...


def score_key(benchmark: str, task: str, shots: int, metric: str) -> str:
    return f"{benchmark}/{task}/{shots}shot/{metric}"
