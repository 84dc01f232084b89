"""A finished run, as the sinks and the CLI see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nejumi.benchmark import FlatScores, ScoredRow
from nejumi.request_queue import QueueStats
from nejumi.tables import Table


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    scores: FlatScores
    # Scored rows per benchmark name, in plan order.
    rows: dict[str, list[ScoredRow]]
    stats: QueueStats
    seconds: float
    # Every benchmark's official tables (W&B names and columns).
    tables: list[Table] = field(default_factory=list)
    # Each judge's queue statistics, by config section.
    judge_stats: dict[str, QueueStats] = field(default_factory=dict)
