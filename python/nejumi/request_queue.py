"""A request queue: every call to one model (the evaluated model, or one judge) goes through it.

It answers from the store when it can (resume), merges identical requests in flight
(dedup), bounds concurrency (`batch_size`, a judge's `parallel`), paces requests
(`inference_interval`, a judge's `requests_per_minute`), retries transient failures
with exponential backoff (or the server's own Retry-After), and commits each answer
to the store as soon as it arrives.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from nejumi.providers.base import Provider, ProviderError
from nejumi.store import Store
from nejumi_proto.v1 import inference_pb2, types_pb2


@dataclass(frozen=True)
class FailurePolicy:
    # "hard": a request that fails for good aborts the run; "soft": it is answered
    # with empty text (upstream's error_handling.request_failure.mode).
    mode: str = "hard"
    max_retries: int = 8
    max_backoff_s: float = 60.0
    base_backoff_s: float = 1.0

    def backoff(self, retry: int, retry_after_s: float | None = None) -> float:
        pause = min(self.max_backoff_s, self.base_backoff_s * 2**retry)
        jittered = pause * (0.5 + random.random() / 2)
        # The server knows best when it can take the request again.
        return max(jittered, retry_after_s or 0.0)


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


class Pacer:
    """Spaces request starts at least `interval_s` apart (a rate limit)."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if self.interval_s <= 0:
            return
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self.interval_s


class RequestQueue:
    def __init__(
        self,
        provider: Provider,
        store: Store,
        concurrency: int,
        role: str = "model",
        interval_s: float = 0.0,
        on_answer: Callable[[], None] = lambda: None,
    ) -> None:
        self.provider = provider
        self.store = store
        self.role = role
        self.stats = QueueStats()
        self._slots = asyncio.Semaphore(concurrency)
        self._pacer = Pacer(interval_s)
        self._in_flight: dict[str, asyncio.Future[types_pb2.Response]] = {}
        self._on_answer = on_answer

    async def generate(
        self, key: str, request: inference_pb2.GenerateRequest, policy: FailurePolicy, describe: str
    ) -> types_pb2.Response:
        stored = self.store.completed_response(key)
        if stored is not None:
            self.stats.from_store += 1
            return stored
        running = self._in_flight.get(key)
        if running is not None:
            self.stats.deduplicated += 1
            return await asyncio.shield(running)
        task = asyncio.ensure_future(self._send(key, request, policy, describe))
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

    async def _send(
        self, key: str, request: inference_pb2.GenerateRequest, policy: FailurePolicy, describe: str
    ) -> types_pb2.Response:
        request = inference_pb2.GenerateRequest(
            request_id=key, messages=request.messages, tools=request.tools, params=request.params, prompt=request.prompt
        )
        retry = 0
        while True:
            await self._pacer.wait()
            async with self._slots:
                try:
                    self.stats.sent += 1
                    response = await self.provider.generate(key, request)
                except ProviderError as err:
                    error = err
                else:
                    self._record(key, request, response, failed=False)
                    return response
            if not error.transient or retry >= policy.max_retries:
                return self._give_up(key, request, error, retry, policy, describe)
            self.stats.retried += 1
            await asyncio.sleep(policy.backoff(retry, error.retry_after_s))
            retry += 1

    def _record(
        self, key: str, request: inference_pb2.GenerateRequest, response: types_pb2.Response, failed: bool
    ) -> None:
        self.store.put_call(key, self.role, request, response, failed=failed)
        self.stats.prompt_tokens += response.usage.prompt_tokens
        self.stats.completion_tokens += response.usage.completion_tokens
        self._on_answer()

    def _give_up(
        self,
        key: str,
        request: inference_pb2.GenerateRequest,
        error: ProviderError,
        retries: int,
        policy: FailurePolicy,
        describe: str,
    ) -> types_pb2.Response:
        self.stats.failed += 1
        message = f"{describe} ({self.role}) failed after {retries} retries: {error}"
        if policy.mode == "hard":
            raise RunAborted(
                f"{message}\n(the failure policy is hard; set error_handling.request_failure.mode, or the "
                "benchmark's own <benchmark>.error_handling.request_failure.mode, to soft to answer failed "
                "requests with empty text and go on)"
            )
        self.stats.errors.append(message)
        response = types_pb2.Response(text="", error=str(error))
        self._record(key, request, response, failed=True)
        return response
