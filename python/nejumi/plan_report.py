"""`nejumi plan`'s output: the plan as a table with its problems and warnings, or as JSON."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nejumi.dry_run import Tally
from nejumi.pricing import PRICES_AS_OF

if TYPE_CHECKING:  # plan.py prints with this module
    from nejumi.plan import BenchmarkPlan, Plan, Priced


def _number(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _usd(value: float | None) -> str:
    return "?" if value is None else f"${value:,.2f}"


def _total(values: Sequence[int | None]) -> int | None:
    """A sum that is unknown when one part is."""
    return None if None in values else sum(v for v in values if v is not None)


def _total_usd(values: Sequence[float | None]) -> float | None:
    return None if None in values else sum(v for v in values if v is not None)


def benchmark_costs(plan: Plan, benchmark: BenchmarkPlan, most: bool = False) -> tuple[float | None, float | None]:
    """USD of one benchmark's (model calls, judge calls): typical, or at every bound (`most`)."""
    model = plan.model.cost(benchmark.count.model, most) if plan.model else None
    tallies = [(judge.priced, judge.tally.most if most else judge.tally.typical) for judge in benchmark.judges]
    return model, _total_usd([priced.cost(tally, most) for priced, tally in tallies])


def describe_price(priced: Priced) -> str:
    if not priced.billed:
        return "served locally (no API cost)"
    if priced.price is None:
        return "price unknown (not in python/nejumi/pricing.py)"
    return (
        f"${priced.price.input_per_million:g} / ${priced.price.output_per_million:g} per 1M input / output tokens "
        f"(list price as of {PRICES_AS_OF})"
    )


HEADER = (
    "benchmark", "requests", "prompt tok", "output tok", "max output tok",
    "judge calls", "judge prompt tok", "judge output tok", "model cost", "judge cost",
)  # fmt: skip
NOTES = (
    "tokens are estimates (about ±30%; no tokenizer is loaded, see python/nejumi/token_estimate.py);",
    "output tok: typical answers (with thinking for a reasoning model), capped by each request's max tokens;",
    "judge calls: one verdict per judged item (≤: with every retry of a verdict that does not parse);",
    f"costs: list prices as of {PRICES_AS_OF} (python/nejumi/pricing.py), an estimate; ? = unknown.",
)


def _row(
    name: str,
    plan: Plan,
    benchmarks: Sequence[BenchmarkPlan],
) -> tuple[str, ...]:
    """One line of the table: a benchmark, or the total of several."""
    models = [b.count.model for b in benchmarks]
    typical = [j.tally.typical for b in benchmarks for j in b.judges]
    most = [j.tally.most for b in benchmarks for j in b.judges]
    costs = [benchmark_costs(plan, b) for b in benchmarks]
    local = plan.model is not None and not plan.model.billed
    judged = bool(typical)
    return (
        name,
        _number(sum(t.calls for t in models)),
        _number(sum(t.prompt_tokens for t in models)),
        _number(sum(t.typical_output for t in models)),
        _number(_total([t.max_output for t in models])),
        f"{sum(t.calls for t in typical):,} (≤{sum(t.calls for t in most):,})" if judged else "-",
        _number(sum(t.prompt_tokens for t in typical)) if judged else "-",
        _number(sum(t.typical_output for t in typical)) if judged else "-",
        "local" if local else _usd(_total_usd([model for model, _ in costs])),
        _usd(_total_usd([judge for _, judge in costs])) if judged else "-",
    )


def table(plan: Plan) -> list[str]:
    rows = [_row(b.name, plan, [b]) for b in plan.benchmarks] + [_row("total", plan, plan.benchmarks)]
    widths = [max(len(row[i]) for row in (HEADER, *rows)) for i in range(len(HEADER))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in (HEADER, *rows)
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    most = [benchmark_costs(plan, b, most=True) for b in plan.benchmarks]
    local = plan.model is not None and not plan.model.billed
    bound = f"model {'local' if local else _usd(_total_usd([model for model, _ in most]))}"
    if any(b.judges for b in plan.benchmarks):
        bound += f", judges {_usd(_total_usd([judge for _, judge in most]))}"
    return [*lines, f"at every bound (each request's max tokens, each verdict's max attempts): {bound}", "", *NOTES]


def render(plan: Plan) -> str:
    """The plan as text: who answers, the table, then the warnings and problems."""
    lines = [f"nejumi plan: {plan.config} (nothing was sent)"]
    if plan.model:
        lines.append(f"model: {plan.model.model} (api: {plan.model.api}), {describe_price(plan.model)}")
    if plan.reasoning:
        lines.append(f"reasoning: on ({plan.reasoning}); its thinking is budgeted as output")
    for judge in {j.section: j for b in plan.benchmarks for j in b.judges}.values():
        lines.append(
            f"judge {judge.section}: {judge.priced.model} (api: {judge.priced.api}), {describe_price(judge.priced)}"
        )
    if plan.benchmarks:
        lines += ["", *table(plan)]
    if plan.findings.warnings:
        lines += ["", "warnings:", *(f"  - {warning}" for warning in plan.findings.warnings)]
    if plan.findings.problems:
        lines += ["", f"{len(plan.findings.problems)} problem(s); a run would fail:"]
        lines += [f"  - {problem}" for problem in plan.findings.problems]
    else:
        lines += ["", "no problems found"]
    return "\n".join(lines)


def as_json(plan: Plan) -> dict[str, Any]:
    """The plan as plain data (`--json`)."""

    def tally(t: Tally) -> dict[str, Any]:
        return dataclasses.asdict(t)

    benchmarks = {}
    for benchmark in plan.benchmarks:
        model_cost, judge_cost = benchmark_costs(plan, benchmark)
        model_most, judges_most = benchmark_costs(plan, benchmark, most=True)
        benchmarks[benchmark.name] = {
            "samples": benchmark.count.samples,
            "model": tally(benchmark.count.model),
            "judges": {
                j.section: {"model": j.priced.model, "typical": tally(j.tally.typical), "most": tally(j.tally.most)}
                for j in benchmark.judges
            },
            "cost_usd": {
                "model": model_cost,
                "judges": judge_cost,
                "model_most": model_most,
                "judges_most": judges_most,
            },
        }
    return {
        "config": str(plan.config),
        "model": dataclasses.asdict(plan.model) if plan.model else None,
        "reasoning": plan.reasoning,
        "prices_as_of": PRICES_AS_OF,
        "benchmarks": benchmarks,
        "problems": plan.findings.problems,
        "warnings": plan.findings.warnings,
    }
