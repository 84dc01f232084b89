"""Counts the calls a benchmark will make by running its real flows against stand-ins.

Each planned sample's `solve` runs with a `DryContext`: the model "answers" with text of
the length a typical answer has (so later turns and judge prompts that quote it are
sized as in a run), a judge answers nothing, and no request leaves the process. Every
call is tallied with its estimated prompt tokens (token_estimate.py), its output bound
(the request's max_tokens) and a typical output. A judge flow asks again while the
verdict does not parse; the empty stand-in verdict never parses, so the loop runs to
`judge_max_attempts` and gives the upper bound, while its first attempts are the
typical count.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nejumi.benchmark import Benchmark
from nejumi.token_estimate import estimate_tokens, request_tokens
from nejumi_proto.v1 import inference_pb2, sandbox_pb2, types_pb2

# Typical answer lengths in tokens of a model that does not reason, where a sample's
# reference answer does not give one (jaster and JBBQ answer with their reference's length).
TYPICAL_ANSWER = {
    "mtbench": 500,
    "arc_agi": 300,
    "hle": 400,
    "hallulens": 250,
    "m_ifeval": 400,
    "toxicity": 300,
}
DEFAULT_ANSWER = 300
# What a reasoning model typically thinks per request on top of its answer (billed as output).
TYPICAL_REASONING = 3000
# Typical verdict lengths by judge section (o3-mini, HLE's judge, reasons before it answers).
TYPICAL_VERDICT = {"mtbench.judge": 350, "hle.judge": 800, "hallulens.judge": 60, "toxicity.judge": 120}
DEFAULT_VERDICT = 300
# A stand-in character that token_estimate counts as one token.
_ONE_TOKEN = "あ"


@dataclass
class Tally:
    """Calls of one kind: how many, their prompt tokens, and their output tokens."""

    calls: int = 0
    prompt_tokens: int = 0
    typical_output: int = 0
    # The sum of max_tokens; None once a call has no max_tokens (the provider's default applies).
    max_output: int | None = 0

    def add(self, prompt_tokens: int, typical_output: int, max_tokens: int) -> None:
        self.calls += 1
        self.prompt_tokens += prompt_tokens
        self.typical_output += typical_output
        if self.max_output is not None:
            self.max_output = self.max_output + max_tokens if max_tokens else None


@dataclass
class JudgeTally:
    # First attempts: one verdict per judged item, the usual case.
    typical: Tally = field(default_factory=Tally)
    # Every attempt up to the judge's max attempts (verdicts that never parse).
    most: Tally = field(default_factory=Tally)


@dataclass
class Count:
    """What one benchmark will send."""

    samples: int = 0
    model: Tally = field(default_factory=Tally)
    judges: dict[str, JudgeTally] = field(default_factory=dict)
    # Code executions in the sandbox service.
    executions: int = 0


def capped(tokens: int, max_tokens: int) -> int:
    return min(tokens, max_tokens) if max_tokens else tokens


class DryContext:
    """benchmark.Context for one sample, answering every call locally and tallying it."""

    def __init__(
        self,
        benchmark: Benchmark,
        sample: types_pb2.Sample,
        count: Count,
        answer_tokens: Callable[[types_pb2.Sample], int],
    ) -> None:
        self.sample = sample
        self.generation = benchmark.generation
        self.policy = benchmark.policy
        self._count = count
        self._answer_tokens = answer_tokens
        # A retried judge request repeats its first attempt's prompt: estimated once.
        self._judge_prompts: dict[tuple[str, int, int], int] = {}

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
        max_tokens = (params if params is not None else self.generation).max_tokens
        typical = capped(self._answer_tokens(self.sample), max_tokens)
        self._count.model.add(request_tokens(messages, prompt, tools), typical, max_tokens)
        return types_pb2.Response(text=_ONE_TOKEN * typical, finish_reason="stop")

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
        max_tokens = params.max_tokens if params is not None else 0
        typical = capped(TYPICAL_VERDICT.get(name, DEFAULT_VERDICT), max_tokens)
        key = (name, turn, step)
        if attempt == 0 or key not in self._judge_prompts:
            self._judge_prompts[key] = request_tokens(messages)
        tally = self._count.judges.setdefault(name, JudgeTally())
        if attempt == 0:
            tally.typical.add(self._judge_prompts[key], typical, max_tokens)
        tally.most.add(self._judge_prompts[key], typical, max_tokens)
        return types_pb2.Response(text="", finish_reason="stop")

    async def count_tokens(
        self,
        messages: Sequence[types_pb2.ChatMessage] = (),
        *,
        prompt: str = "",
        tools: Sequence[types_pb2.Tool] = (),
    ) -> inference_pb2.CountTokensResponse:
        return inference_pb2.CountTokensResponse(prompt_tokens=request_tokens(messages, prompt, tools))

    async def execute(
        self, code: str, *, language: str = "python3", timeout_s: float = 0.0, stdin: str = ""
    ) -> sandbox_pb2.ExecuteResponse:
        self._count.executions += 1
        return sandbox_pb2.ExecuteResponse()

    def tool_result(self, call_id: str, name: str, content: str) -> types_pb2.ChatMessage:
        return types_pb2.ChatMessage(role="tool", content=content, tool_call_id=call_id, name=name)

    def set_state(self, key: str, value: object) -> None:
        return None


def answer_estimator(reasoning: bool) -> Callable[[types_pb2.Sample], int]:
    """A sample's typical answer length: its reference's, else its benchmark's, plus thinking."""

    def tokens(sample: types_pb2.Sample) -> int:
        answer = TYPICAL_ANSWER.get(sample.benchmark, 0 if sample.references else DEFAULT_ANSWER)
        if sample.references:
            answer = max(answer, estimate_tokens(sample.references[0]))
        return answer + (TYPICAL_REASONING if reasoning else 0)

    return tokens


def count_calls(benchmark: Benchmark, samples: Sequence[types_pb2.Sample], reasoning: bool) -> Count:
    """Runs `benchmark`'s flow on every sample with a DryContext; nothing is sent."""
    count = Count(samples=len(samples))
    estimate = answer_estimator(reasoning)

    async def run_all() -> None:
        for sample in samples:
            await benchmark.solve(DryContext(benchmark, sample, count, estimate))

    asyncio.run(run_all())
    return count
