"""Timing helpers shared by the benchmark modules: best-of-N CPU time, ratios."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Comparison:
    """One scorer timed against one reference on the same inputs, in the same run."""

    name: str
    items: int
    nejumi_s: float
    reference: str
    reference_s: float

    @property
    def speedup(self) -> float:
        return self.reference_s / self.nejumi_s if self.nejumi_s else float("inf")

    def line(self) -> str:
        per_item_ns = 1e9 * self.nejumi_s / max(self.items, 1)
        ref_ns = 1e9 * self.reference_s / max(self.items, 1)
        return (
            f"{self.name:<34} {self.items:>8}  nejumi {per_item_ns:>9.0f} ns/item  "
            f"{self.reference:<32} {ref_ns:>9.0f} ns/item  x{self.speedup:>7.1f}"
        )


def best_times_interleaved(runs: list[Callable[[], object]], repeats: int = 5) -> list[float]:
    """Fastest of `repeats` rounds for each run, the runs alternating within each round.

    Times are this process's CPU time, so time the machine gives to other jobs does not
    count. On a shared machine the speed still drifts over seconds; alternating exposes
    every run to the same drift, so a ratio does not depend on which side ran first.
    """
    best = [float("inf")] * len(runs)
    for _ in range(repeats):
        for k, run in enumerate(runs):
            started = time.process_time()
            run()
            best[k] = min(best[k], time.process_time() - started)
    return best
