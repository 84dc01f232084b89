"""A test benchmark that uses every capability of the benchmark contract.

Task "chat" asks two dependent turns; task "tools" runs a tool-calling loop (the
model calls `lookup`, the flow answers, the model answers again). A per-transcript
scorer asks a judge (a second model behind its own provider); a batch scorer scores
all outputs at once. Run as a script, it evaluates a config with the probe enabled
(for the kill-and-resume test).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from nejumi.benchmark import Context, FlatScores, Judge, ScoredRow, score_key
from nejumi.benchmarks import REGISTRY, BenchmarkEntry
from nejumi.compat import Compatibility
from nejumi.config import Config, load_config
from nejumi.datasets import DatasetSpec
from nejumi.model_spec import JudgeSpec
from nejumi.settings import benchmark_generation, benchmark_policy
from nejumi.tables import Table
from nejumi_proto.v1 import transcript_pb2, types_pb2

NAME = "probe"
JUDGE = "probe.judge"
LOOKUP = types_pb2.Tool(
    name="lookup",
    description="Looks a word up in the dictionary.",
    parameters_json=json.dumps({"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]}),
)
MAX_STEPS = 4


def user(text: str) -> types_pb2.ChatMessage:
    return types_pb2.ChatMessage(role="user", content=text)


class JudgedRating:
    name = "probe_rating"
    version = "1"

    async def score(self, transcript: transcript_pb2.Transcript, judge: Judge) -> list[types_pb2.Score]:
        verdict = await judge.judge(JUDGE, [user(f"採点してください: {transcript.output}")])
        found = re.search(r"\[\[(\d+)\]\]", verdict.text)
        score = types_pb2.Score(metric="rating")
        if found:
            score.value = int(found.group(1)) / 10
        score.details.update({"verdict": verdict.text})
        return [score]


class BatchLength:
    """Scores every output against the longest one (a stand-in for a scoring model)."""

    name = "probe_length"
    version = "1"
    # The size of every batch scored in this process (each run builds a new scorer).
    batches: ClassVar[list[int]] = []

    def score_batch(self, transcripts: Sequence[transcript_pb2.Transcript]) -> list[list[types_pb2.Score]]:
        self.batches.append(len(transcripts))
        longest = max((len(t.output) for t in transcripts), default=1) or 1
        return [[types_pb2.Score(metric="length", value=len(t.output) / longest)] for t in transcripts]


class Probe:
    name = NAME

    def __init__(self, cfg: Config, samples: int = 3) -> None:
        self.generation = benchmark_generation(cfg, NAME)
        self.policy = benchmark_policy(cfg, NAME)
        self.judges = (JudgeSpec.from_config(cfg, JUDGE, "judge-model"),)
        self.scorers = (JudgedRating(), BatchLength())
        self.datasets: dict[str, DatasetSpec] = {}
        self.samples = samples

    def check(self, folders: Mapping[str, Path]) -> None:
        return None

    def plan(self) -> list[types_pb2.Sample]:
        return [
            types_pb2.Sample(benchmark=NAME, task=task, id=str(i), subset="test", messages=[user(f"{task}質問{i}")])
            for task in ("chat", "tools")
            for i in range(self.samples)
        ]

    async def solve(self, ctx: Context) -> str:
        if ctx.sample.task == "chat":
            return await self._chat(ctx)
        return await self._tools(ctx)

    async def _chat(self, ctx: Context) -> str:
        messages = list(ctx.sample.messages)
        first = await ctx.generate(messages, turn=0)
        messages += [types_pb2.ChatMessage(role="assistant", content=first.text), user(f"続けて{ctx.sample.id}")]
        second = await ctx.generate(messages, turn=1)
        ctx.set_state("turns", [first.text, second.text])
        return second.text

    async def _tools(self, ctx: Context) -> str:
        messages = list(ctx.sample.messages)
        tokens = await ctx.count_tokens(messages, tools=[LOOKUP])
        ctx.set_state("prompt_tokens", tokens.prompt_tokens)
        for step in range(MAX_STEPS):
            answer = await ctx.generate(messages, tools=[LOOKUP], step=step)
            if not answer.tool_calls:
                return answer.text
            messages.append(types_pb2.ChatMessage(role="assistant", content=answer.text, tool_calls=answer.tool_calls))
            for call in answer.tool_calls:
                word = json.loads(call.arguments_json or "{}").get("word", "")
                messages.append(ctx.tool_result(call.id, call.name, f"{word}の意味は「辞書{ctx.sample.id}」"))
        return ""

    def summarize(self, rows: Sequence[ScoredRow]) -> FlatScores:
        flat: FlatScores = {}
        for task in ("chat", "tools"):
            mine = [row for row in rows if row.sample.task == task]
            for metric in ("rating", "length"):
                values = [v for row in mine if (v := row.value(metric)) is not None]
                flat[score_key(NAME, task, 0, metric)] = sum(values) / len(values) if values else None
        return flat

    def tables(self, rows: Sequence[ScoredRow], model_name: str) -> list[Table]:
        data = [[model_name, row.sample.task, row.sample.id, row.output, row.value("rating")] for row in rows]
        return [Table("probe_output_table", ["model_name", "task", "id", "output", "rating"], data)]


def entry(samples: int = 3) -> BenchmarkEntry:
    def from_config(cfg: Config, compat: Compatibility, say: Callable[[str], None]) -> Probe:
        return Probe(cfg, samples)

    return BenchmarkEntry(NAME, from_config)


def registry(samples: int = 3) -> dict[str, BenchmarkEntry]:
    return {**REGISTRY, NAME: entry(samples)}


# The replies of the two scripted services the probe talks to.
MODEL_SCRIPT = {
    "rules": [
        {"match": "続けて", "reply": "二つ目の答え"},
        {"match": "の意味は", "reply": "辞書によれば答えです"},
        {"match": "tools質問", "reply": "", "tool_calls": [{"name": "lookup", "arguments": {"word": "猫"}}]},
        {"match": "chat質問", "reply": "一つ目の答え"},
    ],
    "default": "echo",
}
JUDGE_SCRIPT = {"rules": [{"match": "採点", "reply": "Rating: [[8]]"}], "default": "Rating: [[1]]"}


def main(argv: list[str]) -> int:
    """probe_benchmark.py CONFIG RUN_DIR SAMPLES: evaluates with the probe registered."""
    from nejumi.runner import evaluate

    config, run_dir, samples = argv
    asyncio.run(
        evaluate(load_config(Path(config)), Path(run_dir), show_progress=False, registry=registry(int(samples)))
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
