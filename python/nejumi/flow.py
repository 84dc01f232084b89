"""The Context a sample's flow runs in: every call goes through a queue and into the transcript.

The controller side of benchmark.Context. Model calls go to the model's queue, judge
calls to that judge's queue, code to the sandbox client; each call's request identity
is derived from the model's identity, the sample and the call's position (turn, step,
attempt), so a resumed flow finds every answer it already had in the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from google.protobuf import json_format, struct_pb2

from nejumi.benchmark import Benchmark
from nejumi.providers.base import Provider
from nejumi.request_key import ModelIdentity, request_key
from nejumi.request_queue import FailurePolicy, RequestQueue
from nejumi.sandbox_client import SandboxClient
from nejumi_proto.v1 import inference_pb2, sandbox_pb2, transcript_pb2, types_pb2


def describe(sample: types_pb2.Sample) -> str:
    return f"{sample.benchmark}/{sample.task}/{sample.shots}shot/{sample.subset}#{sample.id}"


@dataclass(frozen=True)
class Caller:
    """One model reachable by the flows: its queue, provider and identity."""

    queue: RequestQueue
    provider: Provider
    identity: ModelIdentity


class UnknownJudge(LookupError):
    pass


class Judges:
    """The judges of a run by config section; judge calls are stored and resumed like model calls."""

    def __init__(self, callers: Mapping[str, Caller], policies: Mapping[str, FailurePolicy]) -> None:
        self._callers = dict(callers)
        self._policies = dict(policies)

    def caller(self, name: str) -> Caller:
        caller = self._callers.get(name)
        if caller is None:
            known = ", ".join(sorted(self._callers)) or "none"
            raise UnknownJudge(f"judge {name!r} is not configured for this run (configured: {known})")
        return caller

    def policy(self, name: str) -> FailurePolicy:
        return self._policies.get(name, FailurePolicy())

    @property
    def callers(self) -> Mapping[str, Caller]:
        return self._callers


def position(role: str, turn: int, step: int, attempt: int) -> transcript_pb2.CallPosition:
    return transcript_pb2.CallPosition(role=role, turn=turn, step=step, attempt=attempt)


async def ask(
    caller: Caller,
    sample: types_pb2.Sample,
    at: transcript_pb2.CallPosition,
    request: inference_pb2.GenerateRequest,
    policy: FailurePolicy,
    judge: str = "",
) -> transcript_pb2.ModelCall:
    key = request_key(caller.identity, sample, at, request)
    response = await caller.queue.generate(key, request, policy, describe(sample))
    return transcript_pb2.ModelCall(position=at, key=key, request=request, response=response, judge=judge)


class SampleJudge:
    """The judge access of one sample (a scorer's, or a flow's through its Context)."""

    def __init__(self, judges: Judges, sample: types_pb2.Sample, record: list[transcript_pb2.TranscriptEvent]) -> None:
        self._judges = judges
        self._sample = sample
        self._record = record

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
        request = inference_pb2.GenerateRequest(messages=messages, params=params)
        at = position("judge", turn, step, attempt)
        call = await ask(self._judges.caller(name), self._sample, at, request, self._judges.policy(name), judge=name)
        self._record.append(transcript_pb2.TranscriptEvent(model_call=call))
        return call.response


class FlowContext(SampleJudge):
    """benchmark.Context for one sample of one benchmark."""

    def __init__(
        self,
        benchmark: Benchmark,
        sample: types_pb2.Sample,
        model: Caller,
        judges: Judges,
        sandbox: SandboxClient | None,
    ) -> None:
        self.transcript = transcript_pb2.Transcript(sample=sample)
        self._events: list[transcript_pb2.TranscriptEvent] = []
        super().__init__(judges, sample, self._events)
        self.sample = sample
        self.generation = benchmark.generation
        self.policy = benchmark.policy
        self._model = model
        self._sandbox = sandbox
        self._state: dict[str, object] = {}

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
        request = inference_pb2.GenerateRequest(
            messages=messages, tools=tools, params=params if params is not None else self.generation, prompt=prompt
        )
        call = await ask(self._model, self.sample, position("model", turn, step, attempt), request, self.policy)
        self._events.append(transcript_pb2.TranscriptEvent(model_call=call))
        if call.response.error:
            self.transcript.error = call.response.error
        return call.response

    async def count_tokens(
        self,
        messages: Sequence[types_pb2.ChatMessage] = (),
        *,
        prompt: str = "",
        tools: Sequence[types_pb2.Tool] = (),
    ) -> inference_pb2.CountTokensResponse:
        request = inference_pb2.CountTokensRequest(messages=messages, tools=tools, prompt=prompt)
        return await self._model.provider.count_tokens(request)

    async def execute(
        self, code: str, *, language: str = "python3", timeout_s: float = 0.0, stdin: str = ""
    ) -> sandbox_pb2.ExecuteResponse:
        if self._sandbox is None:
            raise RuntimeError(
                f"{describe(self.sample)} needs the code-execution sandbox: set nejumi.sandbox to its host:port"
            )
        request = sandbox_pb2.ExecuteRequest(language=language, code=code, timeout_s=timeout_s, stdin=stdin)
        execution = await self._sandbox.execute(request)
        self._events.append(transcript_pb2.TranscriptEvent(execution=execution))
        return execution.response

    def tool_result(self, call_id: str, name: str, content: str) -> types_pb2.ChatMessage:
        result = transcript_pb2.ToolResult(call_id=call_id, name=name, content=content)
        self._events.append(transcript_pb2.TranscriptEvent(tool_result=result))
        return types_pb2.ChatMessage(role="tool", content=content, tool_call_id=call_id, name=name)

    def set_state(self, key: str, value: object) -> None:
        self._state[key] = value

    def finish(self, output: str) -> transcript_pb2.Transcript:
        self.transcript.output = output
        self.transcript.events.extend(self._events)
        if self._state:
            state = struct_pb2.Struct()
            json_format.ParseDict(self._state, state)
            self.transcript.state.CopyFrom(state)
        return self.transcript
