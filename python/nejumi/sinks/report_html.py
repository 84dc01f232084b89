"""report.html: a single self-contained page, readable offline in any browser.

The leaderboard row and radar charts, then one section per benchmark: its scores
with the failure breakdown beside them, its official tables, and every prediction.
Numbers an official quirk shapes carry a note linking to the quirk at the foot of
the page; what was not scored says why.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from nejumi.aggregate import ALT_AVG, BENCHMARKS, GLP_AVG, TOTAL
from nejumi.benchmark import ScoredRow
from nejumi.benchmarks import REGISTRY
from nejumi.compat import Compatibility
from nejumi.judge_usage import JudgeUsage
from nejumi.model_spec import ModelSpec
from nejumi.pricing import PRICES_AS_OF
from nejumi.run_result import RunResult
from nejumi.sinks.failures import KINDS, breakdown, row_failures
from nejumi.sinks.leaderboard_html import leaderboard_section, not_run
from nejumi.sinks.quirks import DOCS, QUIRKS, Quirk, cell_quirk, note_text, quirk_cell, score_quirk
from nejumi.sinks.run_files import write_atomic
from nejumi.tables import Table

STYLE = """
body { margin: 2rem; color: #222;
  font-family: system-ui, "Noto Sans CJK JP", "IPAexGothic", "Hiragino Sans", "Yu Gothic", sans-serif; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.note, p.note { font-size: 0.8rem; color: #7a4b00; }
td.bad { color: #b00020; font-weight: bold; }
div.banner { border: 2px solid #b00020; background: #fff4f4; padding: 0.5rem 1rem; margin: 1rem 0; }
details { margin-bottom: 1rem; }
pre { white-space: pre-wrap; margin: 0; max-width: 40rem; }
.side { display: flex; gap: 2rem; align-items: flex-start; } .side > div { min-width: 0; }
.side > div:first-child { flex: none; white-space: nowrap; }
"""

# Output tables can hold thousands of rows; the report shows the first ones (predictions show all).
MAX_ROWS = 200

# The aggregate's tables as W&B holds them; the leaderboard section draws them, these folded below.
LEADERBOARD_TABLES = ("leaderboard_table", "glp_radar_table", "alt_radar_table", "glp_hierarchy_table")
# Tables a benchmark writes under another name than its own.
TABLE_OWNERS = {"jmmlu_robust": "jaster", "jhumaneval": "jaster"}


def cell(value: Any, quirk: Quirk | None = None) -> str:
    mark = f' <a class="quirk" href="#{quirk.anchor}">[{quirk.number}]</a>' if quirk else ""
    if value is None:
        return f'<td class="num">NaN{mark}</td>'
    if isinstance(value, float):
        return f'<td class="num">{value:.4f}{mark}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{value}{mark}</td>'
    text = html.escape(str(value))
    return f"<td><pre>{text}</pre></td>" if "\n" in text else f"<td>{text}</td>"


def render_table(table: Table, compatibility: Compatibility, limit: int = MAX_ROWS) -> str:
    """The table; a cell an official quirk shapes is marked, and the notes follow the table."""
    quirks = [cell_quirk(table.name, c) for c in table.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(cell(v, q) for v, q in zip(row, quirks, strict=False)) + "</tr>" for row in table.rows[:limit]
    )
    more = f"<p>{len(table.rows) - limit} more rows: see the predictions below</p>" if len(table.rows) > limit else ""
    notes = "".join(
        f'<p class="note">{html.escape(column)} [{q.number}]: {html.escape(note_text(q, compatibility))}</p>'
        for column, q in zip(table.columns, quirks, strict=True)
        if q is not None
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}{notes}"


def scores_table(scores: Mapping[str, float | None], compatibility: Compatibility) -> str:
    lines = "".join(
        f"<tr><td>{html.escape(key)}</td>{cell(value)}{quirk_cell(score_quirk(key), compatibility)}</tr>"
        for key, value in sorted(scores.items())
    )
    return (
        "<table class='scores'><thead><tr><th>key</th><th>value</th><th>note</th></tr></thead>"
        f"<tbody>{lines}</tbody></table>"
    )


def failure_table(benchmark: str, rows: Sequence[ScoredRow]) -> str:
    counts = breakdown(benchmark, rows)
    lines = "".join(
        f"<tr><td>{html.escape(kind)}</td>"
        + (
            f'<td class="num{" bad" if counts.counts[kind] else ""}">{counts.counts[kind]}</td>'
            if kind in counts.counts
            else '<td class="num">n/a (scored as written)</td>'
        )
        + "</tr>"
        for kind in KINDS
    )
    return (
        f"<table class='failures' data-benchmark='{html.escape(benchmark)}'>"
        f"<thead><tr><th>failures ({counts.samples} samples)</th><th>samples</th></tr></thead>"
        f"<tbody>{lines}</tbody></table>"
    )


def score_values(row: ScoredRow) -> str:
    return ", ".join(f"{s.metric}={s.value:.4f}" if s.HasField("value") else f"{s.metric}=None" for s in row.scores)


def predictions_section(benchmark: str, rows: Sequence[ScoredRow]) -> str:
    """Every prediction, grouped by task and shots."""
    groups: dict[tuple[str, int], list[ScoredRow]] = defaultdict(list)
    for row in rows:
        groups[(row.sample.task, row.sample.shots)].append(row)
    parts = []
    for (task, shots), group in groups.items():
        lines = "".join(
            "<tr>"
            f"<td>{html.escape(r.sample.subset)}</td><td>{html.escape(r.sample.id)}</td>"
            f'<td class="num">{r.sample.attempt}</td>'
            f"<td><pre>{html.escape(r.output)}</pre></td>"
            f"<td><pre>{html.escape(' | '.join(r.sample.references))}</pre></td>"
            f"<td>{html.escape(score_values(r))}</td>"
            f"<td>{html.escape(', '.join(row_failures(benchmark, r)) or '—')}"
            f"{'<br>' + html.escape(r.transcript.error) if r.transcript.error else ''}</td>"
            "</tr>"
            for r in group
        )
        parts.append(
            f"<details class='predictions'><summary>{html.escape(task)}, {shots}-shot ({len(group)})</summary>"
            "<table><thead><tr><th>subset</th><th>id</th><th>attempt</th><th>output</th><th>reference</th>"
            f"<th>scores</th><th>failures</th></tr></thead><tbody>{lines}</tbody></table></details>"
        )
    return f"<h3>Predictions ({len(rows)})</h3>" + "".join(parts)


def owner(table: Table, benchmarks: Collection[str]) -> str | None:
    """The benchmark a table belongs to (by its official name), or None for the aggregate's."""
    if table.name in LEADERBOARD_TABLES or table.name.startswith("subcategory_table_"):
        return None
    for prefix, benchmark in TABLE_OWNERS.items():
        if table.name.startswith(prefix):
            return benchmark
    return next((b for b in sorted(benchmarks, key=len, reverse=True) if table.name.startswith(b)), None)


def benchmark_section(benchmark: str, result: RunResult, tables: Sequence[Table], compatibility: Compatibility) -> str:
    rows = result.rows[benchmark]
    scores = {k: v for k, v in result.scores.items() if k.startswith(f"{benchmark}/")}
    unscored = sum(1 for r in rows if not any(s.HasField("value") for s in r.scores))
    parts = [
        f"<section class='benchmark' id='benchmark-{html.escape(benchmark)}'><h2>{html.escape(benchmark)}</h2>",
        f"<div class='side'><div>{failure_table(benchmark, rows)}</div>"
        f"<div>{scores_table(scores, compatibility)}</div></div>",
    ]
    if unscored:
        parts.append(f"<p>{unscored} samples have no score value (the metric does not apply to them).</p>")
    for table in tables:
        body = render_table(table, compatibility)
        if "output_table" in table.name:
            parts.append(
                f"<details><summary>{html.escape(table.name)} ({len(table.rows)} rows)</summary>{body}</details>"
            )
        else:
            parts.append(f"<h3>{html.escape(table.name)}</h3>{body}")
    parts.append(predictions_section(benchmark, rows))
    return "".join(parts) + "</section>"


def leaderboard_gaps(result: RunResult) -> list[str]:
    """Why TOTAL / GLP / ALT are missing from the leaderboard row, if they are."""
    board = next((t for t in result.tables if t.name == "leaderboard_table" and t.rows), None)
    if board is None:
        return ["leaderboard (TOTAL_SCORE, GLP, ALT): not rolled up (run.aggregate is off)"]
    return [
        f"{label}: {not_run(column, set(result.rows), set(REGISTRY))}"
        for label, column in (("TOTAL_SCORE", TOTAL), ("GLP", GLP_AVG), ("ALT", ALT_AVG))
        if column not in board.columns
    ]


def not_scored_section(result: RunResult) -> str:
    lines = [f"<li>{html.escape(line)}</li>" for line in leaderboard_gaps(result)]
    lines += [
        f"<li>{html.escape(name)}: did not run (run.{html.escape(name)} is off in this run's config)</li>"
        for name in REGISTRY
        if name not in result.rows
    ]
    lines += [
        f"<li>{html.escape(name)}: not in nejumi yet (the official harness has it)</li>"
        for name in BENCHMARKS
        if name not in REGISTRY
    ]
    lines += [
        f"<li>{html.escape(r.sample.benchmark)} {html.escape(r.sample.task)} {html.escape(r.sample.id)}: "
        f"request failed ({html.escape(r.transcript.error)}), scored as an empty answer</li>"
        for rows in result.rows.values()
        for r in rows
        if r.transcript.error
    ]
    lines += [
        f"<li>{html.escape(benchmark)} {html.escape(task)}: {count} answers not scored ({html.escape(reason)})</li>"
        for (benchmark, task, reason), count in scoring_model_gaps(result).items()
    ]
    return "<h2 id='not-scored'>Not scored</h2><ul class='not-scored'>" + "".join(lines) + "</ul>"


def scoring_model_gaps(result: RunResult) -> dict[tuple[str, str, str], int]:
    """Answers a scoring model (JTruthfulQA's classifier, COMET) could not score, by benchmark, task and reason."""
    gaps: dict[tuple[str, str, str], int] = defaultdict(int)
    for rows in result.rows.values():
        for row in rows:
            for score in row.scores:
                if "not_scored" in score.details:
                    gaps[(row.sample.benchmark, row.sample.task, str(score.details["not_scored"]))] += 1
    return dict(gaps)


def quirks_section(compatibility: Compatibility) -> str:
    mode = "official (quirks reproduced)" if compatibility.official else "corrected"
    items = "".join(
        f"<li id='{q.anchor}'><b>[{q.number}] {html.escape(q.title)}</b>: {html.escape(q.official)}."
        f" Here: {'reproduced' if compatibility.official else 'corrected'}. See {DOCS}, row {q.number}.</li>"
        for q in QUIRKS
    )
    return f"<h2 id='quirks'>Compatibility notes</h2><p>Mode: {mode}.</p><ul>{items}</ul>"


def comparability_banner(reasons: Sequence[str]) -> str:
    """Said first, so that a quick-start or local-judge run is never read as a leaderboard result."""
    if not reasons:
        return ""
    items = "".join(f"<li>{html.escape(reason)}</li>" for reason in reasons)
    return f"<div class='banner'><strong>Not comparable with the published leaderboard:</strong><ul>{items}</ul></div>"


def judges_section(usages: Sequence[JudgeUsage]) -> str:
    """Per judged benchmark: the judge model, its calls, the verdicts it could not give, tokens, cost."""
    if not usages:
        return ""
    head = (
        "<tr><th>benchmark</th><th>judge model</th><th>calls sent</th><th>from the store</th><th>failed</th>"
        "<th>invalid verdicts</th><th>prompt tokens</th><th>completion tokens</th><th>estimated cost (USD)</th></tr>"
    )
    body = ""
    for usage in usages:
        cost = "unknown" if usage.estimated_cost_usd is None else f"{usage.estimated_cost_usd:.4f}"
        counts = (usage.sent, usage.from_store, usage.failed, usage.invalid_verdicts)
        tokens = (usage.prompt_tokens, usage.completion_tokens)
        body += (
            f"<tr><td>{html.escape(usage.benchmark)}</td><td>{html.escape(usage.model)}</td>"
            + "".join(f"<td class='num'>{n}</td>" for n in (*counts, *tokens))
            + f"<td class='num'>{cost}</td></tr>"
        )
    return (
        "<h2 id='judges'>Judges</h2><table>" + head + body + "</table>"
        f"<p class='note'>Cost: the calls sent in this run at list price (nejumi/pricing.py, {PRICES_AS_OF}); "
        "an estimate, not a bill.</p>"
    )


def write_report(result: RunResult, spec: ModelSpec, compatibility: Compatibility | None = None) -> Path:
    """Writes report.html into the run directory; `compatibility` defaults to official."""
    compatibility = compatibility or Compatibility()
    stats = result.stats
    summary = (
        f"{stats.sent} requests sent, {stats.from_store} answered from the store, "
        f"{stats.retried} retried, {stats.failed} failed; {result.seconds:.1f} s"
    )
    by_owner: dict[str | None, list[Table]] = defaultdict(list)
    for table in result.tables:
        by_owner[owner(table, result.rows)].append(table)
    sections = [comparability_banner(result.not_comparable)]
    sections.append(leaderboard_section(result.tables, set(result.rows), set(REGISTRY), compatibility))
    sections.append(judges_section(result.judges()))
    sections += [
        f"<details><summary>{html.escape(t.name)} ({len(t.rows)} rows)</summary>"
        f"{render_table(t, compatibility)}</details>"
        for t in by_owner.get(None, [])
    ]
    sections += [benchmark_section(b, result, by_owner.get(b, []), compatibility) for b in result.rows]
    sections.append(not_scored_section(result))
    sections.append(
        f"<details><summary>All scores ({len(result.scores)})</summary>{scores_table(result.scores, compatibility)}"
        "</details>"
    )
    sections.append(quirks_section(compatibility))
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>nejumi: {html.escape(spec.name)}</title><style>{STYLE}</style></head><body>"
        f"<h1>nejumi report: {html.escape(spec.name)}</h1><p>api: {html.escape(spec.api)}; "
        f"compatibility: {html.escape(compatibility.mode)}. {summary}</p>" + "".join(sections) + "</body></html>\n"
    )
    path = result.run_dir / "report.html"
    write_atomic(path, page)
    return path
