"""The contract every benchmark module fulfils.

A benchmark is pure. It plans Samples from its dataset and config section; its flow
(`solve`) asks the model through a `Context` and returns the answer its scorers read;
its scorers turn each sample's Transcript (every call the flow made) into Scores; and
it folds scored rows into flat `"<benchmark>/<task>/<shots>shot/<metric>"` values and
its official tables. It never talks to the network, W&B, the store or the clock: the
runner does (runner.py), and records everything the flow did in the transcript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from nejumi.datasets import DatasetSpec
from nejumi.request_queue import FailurePolicy
from nejumi.tables import Table
from nejumi_proto.v1 import inference_pb2, sandbox_pb2, transcript_pb2, types_pb2

# Flat score output: "<benchmark>/<task>/<shots>shot/<metric>" -> value (None = NaN).
FlatScores = dict[str, float | None]


class Judge(Protocol):
    """Asks a judge model: a second model with its own provider, queue and limits."""

    async def judge(
        self,
        name: str,
        messages: Sequence[types_pb2.ChatMessage],
        *,
        params: types_pb2.GenerationParams | None = None,
        turn: int = 0,
        step: int = 0,
        attempt: int = 0,
    ) -> types_pb2.Response:
        """`name` is the judge's config section (e.g. "mtbench.judge"); the call is stored like a model call."""
        ...


class Context(Judge, Protocol):
    """What a sample's flow may do. Every call is recorded in the sample's transcript."""

    sample: types_pb2.Sample
    # The benchmark's generation parameters (`<benchmark>.generator_config` over `generator`).
    generation: types_pb2.GenerationParams
    policy: FailurePolicy

    async def generate(
        self,
        messages: Sequence[types_pb2.ChatMessage] = (),
        *,
        prompt: str = "",
        tools: Sequence[types_pb2.Tool] = (),
        params: types_pb2.GenerationParams | None = None,
        turn: int = 0,
        step: int = 0,
        attempt: int = 0,
    ) -> types_pb2.Response:
        """Asks the evaluated model (chat `messages`, or a raw `prompt`); `params` default to `generation`."""
        ...

    async def count_tokens(
        self,
        messages: Sequence[types_pb2.ChatMessage] = (),
        *,
        prompt: str = "",
        tools: Sequence[types_pb2.Tool] = (),
    ) -> inference_pb2.CountTokensResponse: ...

    async def execute(
        self, code: str, *, language: str = "python3", timeout_s: float = 0.0, stdin: str = ""
    ) -> sandbox_pb2.ExecuteResponse:
        """Runs model-written code in the sandbox service."""
        ...

    def tool_result(self, call_id: str, name: str, content: str) -> types_pb2.ChatMessage:
        """Records what a tool answered and returns it as the "tool" message to send back."""
        ...

    def set_state(self, key: str, value: object) -> None:
        """Keeps a JSON value in the transcript for the scorers."""
        ...


@runtime_checkable
class Scorer(Protocol):
    """Scores one transcript (may ask a judge). Cached in the store by name and version."""

    name: str
    version: str

    async def score(self, transcript: transcript_pb2.Transcript, judge: Judge) -> list[types_pb2.Score]: ...


@runtime_checkable
class BatchScorer(Protocol):
    """Scores every transcript of the benchmark at once (a scoring model over all outputs)."""

    name: str
    version: str

    def score_batch(self, transcripts: Sequence[transcript_pb2.Transcript]) -> list[list[types_pb2.Score]]: ...


@dataclass(frozen=True)
class ScoredRow:
    """One sample's transcript with the scores of all its scorers."""

    transcript: transcript_pb2.Transcript
    scores: tuple[types_pb2.Score, ...]

    @property
    def sample(self) -> types_pb2.Sample:
        return self.transcript.sample

    @property
    def output(self) -> str:
        return self.transcript.output

    def score(self, metric: str) -> types_pb2.Score | None:
        for score in self.scores:
            if score.metric == metric:
                return score
        return None

    def value(self, metric: str) -> float | None:
        """The metric's value: a scorer may name a metric whose value another one gives (jaster's COMET rows)."""
        for score in self.scores:
            if score.metric == metric and score.HasField("value"):
                return score.value
        return None


class Benchmark(Protocol):
    name: str
    generation: types_pb2.GenerationParams
    policy: FailurePolicy
    # The judges' config sections (e.g. "mtbench.judge") the flow or scorers ask.
    judges: tuple[str, ...]
    scorers: tuple[Scorer | BatchScorer, ...]
    # Where each of its datasets comes from (a local folder or an official W&B
    # artifact), by name; the runner resolves them, so the benchmark never downloads.
    datasets: Mapping[str, DatasetSpec]

    def check(self, folders: Mapping[str, Path]) -> None:
        """Takes the resolved dataset folders (same names) and validates them before the first request."""
        ...

    def plan(self) -> list[types_pb2.Sample]:
        """Every sample of the run, in a stable order."""
        ...

    async def solve(self, ctx: Context) -> str:
        """The sample's flow; returns the answer the scorers read."""
        ...

    def summarize(self, rows: Sequence[ScoredRow]) -> FlatScores:
        """Flat scores over all rows."""
        ...

    def tables(self, rows: Sequence[ScoredRow], model_name: str) -> list[Table]:
        """The benchmark's official W&B tables."""
        ...


def score_key(benchmark: str, task: str, shots: int, metric: str) -> str:
    return f"{benchmark}/{task}/{shots}shot/{metric}"
