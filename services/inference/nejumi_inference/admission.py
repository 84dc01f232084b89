"""The server's queue bound: how many requests are accepted and not yet answered, across all RPCs."""

import asyncio


class Admission:
    """Counts accepted requests against ``limit``; unary calls fail fast, streams wait (backpressure)."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"--max-queue must be >= 1 (got {limit})")
        self.limit = limit
        self.in_flight = 0
        self._freed = asyncio.Event()

    def has_room(self) -> bool:
        return self.in_flight < self.limit

    def try_acquire(self) -> bool:
        """Take a slot if one is free."""
        if not self.has_room():
            return False
        self.in_flight += 1
        return True

    async def wait_for_room(self) -> None:
        """Return once a slot is free, without taking it."""
        while not self.has_room():
            self._freed.clear()
            await self._freed.wait()

    async def acquire(self) -> None:
        """Take a slot, waiting for one to free up."""
        while not self.try_acquire():
            self._freed.clear()
            await self._freed.wait()

    def release(self, count: int = 1) -> None:
        self.in_flight -= count
        self._freed.set()
