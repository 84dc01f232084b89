"""What each judge did in a run: its model, calls, invalid verdicts, tokens and an estimated price.

The report and results.json show one line per judged benchmark, so that the judge's
bill and the verdicts it could not use sit next to the scores they produced. Invalid
verdicts are the judged benchmarks' own `invalid_verdicts` row scores (answers that
did not parse in the official schema, retried as upstream and then counted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nejumi.benchmark import ScoredRow
from nejumi.pricing import price_of
from nejumi.request_queue import QueueStats


@dataclass(frozen=True)
class JudgeUsage:
    section: str  # the judge's config section, e.g. "mtbench.judge"
    benchmark: str
    model: str
    sent: int  # calls sent in this run (the ones paid for now)
    from_store: int  # verdicts a resumed or re-scored run reused
    failed: int
    invalid_verdicts: int
    prompt_tokens: int
    completion_tokens: int
    # USD at list price for the calls sent in this run; None when the model has no known price.
    estimated_cost_usd: float | None


def judge_usage(
    stats: Mapping[str, QueueStats], models: Mapping[str, str], rows: Mapping[str, Sequence[ScoredRow]]
) -> list[JudgeUsage]:
    """One entry per judge section, in section order."""
    usage = []
    for section in sorted(stats):
        queue = stats[section]
        benchmark = section.split(".", 1)[0]
        model = models.get(section, "unknown")
        invalid = sum(row.value("invalid_verdicts") or 0.0 for row in rows.get(benchmark, ()))
        price = price_of(model)
        cost = price.cost(queue.prompt_tokens, queue.completion_tokens) if price else None
        usage.append(
            JudgeUsage(
                section=section,
                benchmark=benchmark,
                model=model,
                sent=queue.sent,
                from_store=queue.from_store,
                failed=queue.failed,
                invalid_verdicts=int(invalid),
                prompt_tokens=queue.prompt_tokens,
                completion_tokens=queue.completion_tokens,
                estimated_cost_usd=cost,
            )
        )
    return usage
