"""The shared queue: store hits, dedup, retries and the two failure modes.

The provider here is a scripted in-process one (inspect_ai's mockllm idea); the
end-to-end tests in tests/ drive the same queue through the real gRPC service.
"""

import asyncio
from pathlib import Path

import pytest

from nejumi.providers.base import ProviderError
from nejumi.request_key import ModelIdentity, request_key
from nejumi.request_queue import FailurePolicy, RequestQueue, RunAborted
from nejumi.store import Store
from nejumi_proto.v1 import inference_pb2, transcript_pb2, types_pb2

MODEL = ModelIdentity(api="scripted", model="test")


class ScriptedProvider:
    def __init__(self, failures: list[ProviderError] | None = None, delay_s: float = 0.0) -> None:
        self.failures = list(failures or [])
        self.delay_s = delay_s
        self.calls: list[str] = []
        self.max_in_flight = 0
        self._in_flight = 0

    async def generate(self, request_id: str, request: inference_pb2.GenerateRequest) -> types_pb2.Response:
        self.calls.append(request_id)
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            await asyncio.sleep(self.delay_s)
            if self.failures:
                raise self.failures.pop(0)
            return types_pb2.Response(text=f"answer to {request.messages[-1].content}")
        finally:
            self._in_flight -= 1

    async def close(self) -> None:
        return None


FAST = FailurePolicy(mode="hard", max_retries=3, base_backoff_s=0.001, max_backoff_s=0.001)


class Asker:
    """Sends sample i's one question the way a flow does (key from identity, sample, position)."""

    def __init__(self, queue: RequestQueue, policy: FailurePolicy = FAST) -> None:
        self.queue = queue
        self.policy = policy

    async def generate(self, i: int, attempt: int = 0) -> types_pb2.Response:
        sample = types_pb2.Sample(benchmark="b", task="t", id=str(i), subset="test")
        request = inference_pb2.GenerateRequest(messages=[types_pb2.ChatMessage(role="user", content=f"q{i}")])
        position = transcript_pb2.CallPosition(role="model", attempt=attempt)
        key = request_key(MODEL, sample, position, request)
        return await self.queue.generate(key, request, self.policy, f"b/t/0shot/test#{i}")


def asker(provider: ScriptedProvider, store: Store, concurrency: int, policy: FailurePolicy = FAST) -> Asker:
    return Asker(RequestQueue(provider, store, concurrency), policy)


def test_identical_requests_in_flight_are_sent_once(tmp_path: Path) -> None:
    provider = ScriptedProvider(delay_s=0.05)
    queue = asker(provider, Store(tmp_path / "s.sqlite"), 8, FAST)

    async def run() -> list[types_pb2.Response]:
        return await asyncio.gather(*(queue.generate(1) for _ in range(5)))

    answers = asyncio.run(run())
    assert [a.text for a in answers] == ["answer to q1"] * 5
    assert len(provider.calls) == 1
    assert queue.queue.stats.deduplicated == 4


def test_attempts_are_distinct_requests(tmp_path: Path) -> None:
    provider = ScriptedProvider()
    queue = asker(provider, Store(tmp_path / "s.sqlite"), 8, FAST)

    async def run() -> None:
        await asyncio.gather(queue.generate(1, attempt=0), queue.generate(1, attempt=1))

    asyncio.run(run())
    assert len(set(provider.calls)) == 2


def test_stored_answers_are_not_sent_again(tmp_path: Path) -> None:
    store_path = tmp_path / "s.sqlite"
    first = ScriptedProvider()
    asyncio.run(asker(first, Store(store_path), 4, FAST).generate(1))
    second = ScriptedProvider()
    queue = asker(second, Store(store_path), 4, FAST)
    answer = asyncio.run(queue.generate(1))
    assert answer.text == "answer to q1"
    assert second.calls == []
    assert queue.queue.stats.from_store == 1


def test_concurrency_is_bounded_by_batch_size(tmp_path: Path) -> None:
    provider = ScriptedProvider(delay_s=0.02)
    queue = asker(provider, Store(tmp_path / "s.sqlite"), 3, FAST)

    async def run() -> None:
        await asyncio.gather(*(queue.generate(i) for i in range(20)))

    asyncio.run(run())
    assert provider.max_in_flight == 3
    assert len(provider.calls) == 20


def test_transient_failures_are_retried(tmp_path: Path) -> None:
    provider = ScriptedProvider([ProviderError("overloaded", transient=True)] * 2)
    queue = asker(provider, Store(tmp_path / "s.sqlite"), 1, FAST)
    assert asyncio.run(queue.generate(1)).text == "answer to q1"
    assert queue.queue.stats.retried == 2


def test_hard_mode_aborts_naming_the_sample(tmp_path: Path) -> None:
    provider = ScriptedProvider([ProviderError("INVALID_ARGUMENT: bad", transient=False)])
    queue = asker(provider, Store(tmp_path / "s.sqlite"), 1, FAST)
    with pytest.raises(RunAborted, match=r"b/t/0shot/test#1 \(model\) failed after 0 retries: INVALID_ARGUMENT: bad"):
        asyncio.run(queue.generate(1))


def test_soft_mode_answers_empty_and_retries_on_the_next_run(tmp_path: Path) -> None:
    store_path = tmp_path / "s.sqlite"
    soft = FailurePolicy(mode="soft", max_retries=1, base_backoff_s=0.001, max_backoff_s=0.001)
    failing = ScriptedProvider([ProviderError("down", transient=True)] * 2)
    queue = asker(failing, Store(store_path), 1, soft)
    answer = asyncio.run(queue.generate(1))
    assert answer.text == ""
    assert "down" in answer.error
    assert queue.queue.stats.failed == 1
    healthy = ScriptedProvider()
    assert asyncio.run(asker(healthy, Store(store_path), 1, soft).generate(1)).text == "answer to q1"
    assert len(healthy.calls) == 1


def test_retry_after_from_the_server_sets_the_pause() -> None:
    policy = FailurePolicy(max_backoff_s=0.01, base_backoff_s=0.01)
    assert policy.backoff(0, retry_after_s=2.5) == 2.5
    assert policy.backoff(0) <= 0.01
