"""The one request queue every benchmark's requests go through.

It answers from the store when it can (resume), merges identical requests in
flight (dedup), bounds concurrency (`batch_size`), retries transient failures with
exponential backoff, and commits each answer to the store as soon as it arrives.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from nejumi.providers.base import Provider, ProviderError
from nejumi.request_key import request_key
from nejumi.store import Store
from nejumi_proto.v1 import types_pb2


@dataclass(frozen=True)
class FailurePolicy:
    # "hard": a request that fails for good aborts the run; "soft": it is answered
    # with empty text (upstream's error_handling.request_failure.mode).
    mode: str = "hard"
    max_retries: int = 8
    max_backoff_s: float = 60.0
    base_backoff_s: float = 1.0

    def backoff(self, retry: int) -> float:
        pause = min(self.max_backoff_s, self.base_backoff_s * 2**retry)
        return pause * (0.5 + random.random() / 2)


class RunAborted(RuntimeError):
    """A request failed for good under the hard failure mode."""


@dataclass
class QueueStats:
    from_store: int = 0
    deduplicated: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: list[str] = field(default_factory=list)


def describe(sample: types_pb2.Sample) -> str:
    return f"{sample.benchmark}/{sample.task}/{sample.shots}shot/{sample.subset}#{sample.id}"


class RequestQueue:
    def __init__(
        self,
        provider: Provider,
        store: Store,
        concurrency: int,
        policy: FailurePolicy,
        interval_s: float = 0.0,
        on_answer: Callable[[], None] = lambda: None,
    ) -> None:
        self.provider = provider
        self.store = store
        self.policy = policy
        self.interval_s = interval_s
        self.stats = QueueStats()
        self._slots = asyncio.Semaphore(concurrency)
        self._in_flight: dict[str, asyncio.Future[types_pb2.Response]] = {}
        self._on_answer = on_answer

    async def generate(self, sample: types_pb2.Sample) -> types_pb2.Response:
        key = request_key(self.provider.model_id, sample)
        stored = self.store.completed_response(key)
        if stored is not None:
            self.stats.from_store += 1
            return stored
        running = self._in_flight.get(key)
        if running is not None:
            self.stats.deduplicated += 1
            return await asyncio.shield(running)
        task = asyncio.ensure_future(self._send(key, sample))
        self._in_flight[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))
        # Shielded: a caller that is cancelled does not cancel the request that
        # other callers with the same key may be waiting on.
        return await asyncio.shield(task)

    def _forget(self, key: str, task: asyncio.Future[types_pb2.Response]) -> None:
        self._in_flight.pop(key, None)
        # The failure reaches the callers through the shield; mark it as seen here so
        # a request nobody waits for any more (an aborted run) logs no warning.
        if not task.cancelled():
            task.exception()

    def cancel_all(self) -> None:
        """Stops every request in flight (the run is over)."""
        for task in list(self._in_flight.values()):
            task.cancel()

    async def _send(self, key: str, sample: types_pb2.Sample) -> types_pb2.Response:
        retry = 0
        while True:
            async with self._slots:
                if self.interval_s:
                    await asyncio.sleep(self.interval_s)
                try:
                    self.stats.sent += 1
                    response = await self.provider.generate(key, sample)
                except ProviderError as err:
                    error = err
                else:
                    self._record(key, sample, response, failed=False)
                    return response
            if not error.transient or retry >= self.policy.max_retries:
                return self._give_up(key, sample, error, retry)
            self.stats.retried += 1
            await asyncio.sleep(self.policy.backoff(retry))
            retry += 1

    def _record(
        self,
        key: str,
        sample: types_pb2.Sample,
        response: types_pb2.Response,
        failed: bool,
    ) -> None:
        self.store.put_response(key, sample, response, failed=failed)
        self.stats.prompt_tokens += response.usage.prompt_tokens
        self.stats.completion_tokens += response.usage.completion_tokens
        self._on_answer()

    def _give_up(self, key: str, sample: types_pb2.Sample, error: ProviderError, retries: int) -> types_pb2.Response:
        self.stats.failed += 1
        message = f"{describe(sample)} failed after {retries} retries: {error}"
        if self.policy.mode == "hard":
            raise RunAborted(
                f"{message}\n(error_handling.request_failure.mode is hard; set it to soft to answer failed "
                "requests with empty text and go on)"
            )
        self.stats.errors.append(message)
        response = types_pb2.Response(text="", error=str(error))
        self._record(key, sample, response, failed=True)
        return response
