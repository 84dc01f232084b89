"""The shared queue: store hits, dedup, retries and the two failure modes.

The provider here is a scripted in-process one (inspect_ai's mockllm idea); the
end-to-end tests in tests/ drive the same queue through the real gRPC service.
"""

import asyncio
from pathlib import Path

import pytest

from nejumi.providers.base import ProviderError
from nejumi.request_queue import FailurePolicy, RequestQueue, RunAborted
from nejumi.store import Store
from nejumi_proto.v1 import types_pb2


class ScriptedProvider:
    model_id = "scripted:test"

    def __init__(self, failures: list[ProviderError] | None = None, delay_s: float = 0.0) -> None:
        self.failures = list(failures or [])
        self.delay_s = delay_s
        self.calls: list[str] = []
        self.max_in_flight = 0
        self._in_flight = 0

    async def generate(self, request_id: str, sample: types_pb2.Sample) -> types_pb2.Response:
        self.calls.append(request_id)
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            await asyncio.sleep(self.delay_s)
            if self.failures:
                raise self.failures.pop(0)
            return types_pb2.Response(text=f"answer to {sample.messages[-1].content}")
        finally:
            self._in_flight -= 1

    async def close(self) -> None:
        return None


def sample(i: int, attempt: int = 0) -> types_pb2.Sample:
    return types_pb2.Sample(
        benchmark="b", task="t", id=str(i), subset="test", attempt=attempt,
        messages=[types_pb2.ChatMessage(role="user", content=f"q{i}")],
    )  # fmt: skip


FAST = FailurePolicy(mode="hard", max_retries=3, base_backoff_s=0.001, max_backoff_s=0.001)


def test_identical_requests_in_flight_are_sent_once(tmp_path: Path) -> None:
    provider = ScriptedProvider(delay_s=0.05)
    queue = RequestQueue(provider, Store(tmp_path / "s.sqlite"), 8, FAST)

    async def run() -> list[types_pb2.Response]:
        return await asyncio.gather(*(queue.generate(sample(1)) for _ in range(5)))

    answers = asyncio.run(run())
    assert [a.text for a in answers] == ["answer to q1"] * 5
    assert len(provider.calls) == 1
    assert queue.stats.deduplicated == 4


def test_attempts_are_distinct_requests(tmp_path: Path) -> None:
    provider = ScriptedProvider()
    queue = RequestQueue(provider, Store(tmp_path / "s.sqlite"), 8, FAST)

    async def run() -> None:
        await asyncio.gather(queue.generate(sample(1, attempt=0)), queue.generate(sample(1, attempt=1)))

    asyncio.run(run())
    assert len(set(provider.calls)) == 2


def test_stored_answers_are_not_sent_again(tmp_path: Path) -> None:
    store_path = tmp_path / "s.sqlite"
    first = ScriptedProvider()
    asyncio.run(RequestQueue(first, Store(store_path), 4, FAST).generate(sample(1)))
    second = ScriptedProvider()
    queue = RequestQueue(second, Store(store_path), 4, FAST)
    answer = asyncio.run(queue.generate(sample(1)))
    assert answer.text == "answer to q1"
    assert second.calls == []
    assert queue.stats.from_store == 1


def test_concurrency_is_bounded_by_batch_size(tmp_path: Path) -> None:
    provider = ScriptedProvider(delay_s=0.02)
    queue = RequestQueue(provider, Store(tmp_path / "s.sqlite"), 3, FAST)

    async def run() -> None:
        await asyncio.gather(*(queue.generate(sample(i)) for i in range(20)))

    asyncio.run(run())
    assert provider.max_in_flight == 3
    assert len(provider.calls) == 20


def test_transient_failures_are_retried(tmp_path: Path) -> None:
    provider = ScriptedProvider([ProviderError("overloaded", transient=True)] * 2)
    queue = RequestQueue(provider, Store(tmp_path / "s.sqlite"), 1, FAST)
    assert asyncio.run(queue.generate(sample(1))).text == "answer to q1"
    assert queue.stats.retried == 2


def test_hard_mode_aborts_naming_the_sample(tmp_path: Path) -> None:
    provider = ScriptedProvider([ProviderError("INVALID_ARGUMENT: bad", transient=False)])
    queue = RequestQueue(provider, Store(tmp_path / "s.sqlite"), 1, FAST)
    with pytest.raises(RunAborted, match=r"b/t/0shot/test#1 failed after 0 retries: INVALID_ARGUMENT: bad"):
        asyncio.run(queue.generate(sample(1)))


def test_soft_mode_answers_empty_and_retries_on_the_next_run(tmp_path: Path) -> None:
    store_path = tmp_path / "s.sqlite"
    soft = FailurePolicy(mode="soft", max_retries=1, base_backoff_s=0.001, max_backoff_s=0.001)
    failing = ScriptedProvider([ProviderError("down", transient=True)] * 2)
    queue = RequestQueue(failing, Store(store_path), 1, soft)
    answer = asyncio.run(queue.generate(sample(1)))
    assert answer.text == ""
    assert "down" in answer.error
    assert queue.stats.failed == 1
    healthy = ScriptedProvider()
    assert asyncio.run(RequestQueue(healthy, Store(store_path), 1, soft).generate(sample(1))).text == "answer to q1"
    assert len(healthy.calls) == 1
