"""HLE's leaderboard numbers, with upstream's roundings (spec upstream-benchmarks.md §5.4-5.5)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nejumi.compat import Compatibility


def bin_size(n: int) -> int:
    """Upstream's β: max(10, n // 10) under 200 judged questions, 50 under 1000, else 100."""
    if n < 200:
        return max(10, n // 10)
    return 50 if n < 1000 else 100


def calibration_error(
    confidences: Sequence[int], correct: Sequence[bool], compatibility: Compatibility
) -> float | None:
    """Hendrycks' RMS calibration error (p='2') as `100 * round(cerr, 2)`; None without a judged question.

    The rounding is numpy's on the float64 `cerr` and the bin means are `np.nanmean`'s
    (pairwise sums), as upstream computes them. Upstream sorts with the unstable
    `np.argsort`, so tied confidences straddling a bin edge depend on completion order;
    `corrected` sorts stably (in plan order).
    """
    n = len(confidences)
    if n == 0:
        return None
    confidence = np.array(confidences, dtype=np.float64) / 100
    hits = np.array(correct, dtype=np.float64)
    order = np.argsort(confidence) if compatibility.official else np.argsort(confidence, kind="stable")
    confidence, hits = confidence[order], hits[order]
    beta = bin_size(n)
    bins = [[i * beta, (i + 1) * beta] for i in range(n // beta)] or [[0, n]]
    bins[-1][1] = n
    cerr = np.float64(0.0)
    for start, end in bins:
        gap = np.abs(np.nanmean(confidence[start:end]) - np.nanmean(hits[start:end]))
        cerr += (end - start) / n * np.square(gap)
    return float(100 * round(np.sqrt(cerr), 2))


@dataclass(frozen=True)
class SubsetScores:
    """One subset's `hle_<subset>_leaderboard_table` row (without the model name)."""

    accuracy: float
    accuracy_percent: float
    calibration_error: float | None
    confidence_half_width: float
    total_questions: int
    answered_questions: int

    @classmethod
    def of(
        cls, total: int, confidences: Sequence[int], correct: Sequence[bool], compatibility: Compatibility
    ) -> SubsetScores:
        """`total` is every planned question: unanswered and unjudged ones count as wrong."""
        percent = round(100 * sum(correct) / total, 2)
        return cls(
            accuracy=percent / 100,
            accuracy_percent=percent,
            calibration_error=calibration_error(confidences, correct, compatibility),
            # From the rounded percent, as upstream.
            confidence_half_width=round(1.96 * math.sqrt(percent * (100 - percent) / total), 2),
            total_questions=total,
            answered_questions=len(confidences),
        )

    def values(self) -> dict[str, float | None]:
        return {
            "accuracy": self.accuracy,
            "accuracy_percent": self.accuracy_percent,
            "calibration_error": self.calibration_error,
            "confidence_half_width": self.confidence_half_width,
            "total_questions": float(self.total_questions),
            "answered_questions": float(self.answered_questions),
        }
