"""report.html: a single self-contained page, readable offline in any browser."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from nejumi.benchmarks import REGISTRY
from nejumi.model_spec import ModelSpec
from nejumi.run_result import RunResult
from nejumi.sinks.leaderboard_html import leaderboard_section
from nejumi.sinks.run_files import write_atomic
from nejumi.tables import Table

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
details { margin-bottom: 1rem; }
pre { white-space: pre-wrap; margin: 0; max-width: 40rem; }
"""

# Output tables can hold thousands of rows; the report shows the first ones.
MAX_ROWS = 200

# The aggregate's tables as W&B holds them; the leaderboard section draws them, these folded below.
LEADERBOARD_TABLES = ("leaderboard_table", "glp_radar_table", "alt_radar_table", "glp_hierarchy_table")


def cell(value: Any) -> str:
    if value is None:
        return '<td class="num">NaN</td>'
    if isinstance(value, float):
        return f'<td class="num">{value:.4f}</td>'
    if isinstance(value, int):
        return f'<td class="num">{value}</td>'
    text = html.escape(str(value))
    return f"<td><pre>{text}</pre></td>" if "\n" in text else f"<td>{text}</td>"


def render_table(table: Table, limit: int = MAX_ROWS) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in table.rows[:limit])
    more = f"<p>{len(table.rows) - limit} more rows in predictions.jsonl</p>" if len(table.rows) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def write_report(result: RunResult, spec: ModelSpec) -> Path:
    scores = Table("scores", ["key", "value"], [[k, v] for k, v in sorted(result.scores.items())])
    stats = result.stats
    summary = (
        f"{stats.sent} requests sent, {stats.from_store} answered from the store, "
        f"{stats.retried} retried, {stats.failed} failed; {result.seconds:.1f} s"
    )
    for section, judged in sorted(result.judge_stats.items()):
        summary += (
            f"; judge {section}: {judged.sent} calls sent, {judged.from_store} from the store, "
            f"{judged.failed} failed, {judged.prompt_tokens + judged.completion_tokens} tokens"
        )
    sections = [
        leaderboard_section(result.tables, set(result.rows), set(REGISTRY)),
        f"<h2>Scores</h2>{render_table(scores, limit=len(scores.rows))}",
    ]
    for table in result.tables:
        folded = (
            "output_table" in table.name
            or table.name in LEADERBOARD_TABLES
            or table.name.startswith("subcategory_table_")
        )
        body = render_table(table)
        if folded:
            sections.append(
                f"<details><summary>{html.escape(table.name)} ({len(table.rows)} rows)</summary>{body}</details>"
            )
        else:
            sections.append(f"<h3>{html.escape(table.name)}</h3>{body}")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>nejumi: {html.escape(spec.name)}</title><style>{STYLE}</style></head><body>"
        f"<h1>nejumi report: {html.escape(spec.name)}</h1><p>api: {html.escape(spec.api)}. {summary}</p>"
        + "".join(sections)
        + "</body></html>\n"
    )
    path = result.run_dir / "report.html"
    write_atomic(path, page)
    return path
