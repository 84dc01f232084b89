"""A finished run, as the sinks and the CLI see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nejumi.benchmark import FlatScores, ScoredRow
from nejumi.judge_usage import JudgeUsage, judge_usage
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
    # Each judge's model name, by config section.
    judge_models: dict[str, str] = field(default_factory=dict)
    # Why these numbers cannot sit beside the leaderboard (comparability.py); empty: they can.
    not_comparable: list[str] = field(default_factory=list)

    def judges(self) -> list[JudgeUsage]:
        return judge_usage(self.judge_stats, self.judge_models, self.rows)
