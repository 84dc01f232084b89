"""The report's leaderboard section: GLP / ALT / TOTAL, the category tree, two radar charts.

Drawn from the aggregate's tables (radar charts as embedded matplotlib PNGs, no
script, no network). A category whose benchmarks did not run is written "not run"
with the benchmarks it needs, never drawn as 0; a group the aggregate leaves out is
charted from what ran, captioned as partial.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from nejumi.aggregate import (
    ALT_AVG,
    ALT_CATEGORIES,
    ALT_RADAR,
    GLP_AVG,
    GLP_TREE,
    OFFICIAL,
    SOURCES,
    TOTAL,
    requirements,
)
from nejumi.compat import Compatibility
from nejumi.sinks.partial_leaderboard import partial_categories
from nejumi.sinks.quirks import cell_quirk, quirk_cell
from nejumi.sinks.radar_chart import data_uri, radar_png
from nejumi.tables import Table

STYLE = """
.cards { display: flex; gap: 1rem; margin: 0.5rem 0 1rem; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem 1rem; min-width: 9rem; }
.card b { display: block; font-size: 1.6rem; font-variant-numeric: tabular-nums; }
.radars { display: flex; gap: 2rem; flex-wrap: wrap; }
figure.radar { margin: 0; max-width: 560px; } figure.radar figcaption { font-size: 0.85rem; color: #555; }
td.notrun, span.notrun { color: #999; font-style: italic; }
td.l2 { padding-left: 1.5rem; } td.l3 { padding-left: 3rem; }
"""


def score_text(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "NaN"


def named(benchmarks: Sequence[str], ran: Collection[str], implemented: Collection[str]) -> str:
    missing = [b for b in benchmarks if b not in ran]
    return ", ".join(f"{b} (not in nejumi yet)" if b not in implemented else b for b in missing)


def not_run(column: str, ran: Collection[str], implemented: Collection[str]) -> str:
    """Why a column is absent: the benchmarks it needs that did not run."""
    missing = named(requirements(column), ran, implemented)
    return "not run" + (f": needs {missing}" if missing else "")


def value_cell(row: Mapping[str, Any], column: str, ran: Collection[str], implemented: Collection[str]) -> str:
    if column not in row:
        return f'<td class="notrun">{html.escape(not_run(column, ran, implemented))}</td>'
    value = row[column]
    if value is None:
        # The group ran, but not what feeds this category (or it gave NaN).
        missing = named(SOURCES.get(column, ()), ran, implemented)
        text = f"not run: {missing}" if missing else "NaN (no input)"
        return f'<td class="notrun">{html.escape(text)}</td>'
    return f'<td class="num">{score_text(value)}</td>'


def category_lines() -> list[tuple[str, str, str]]:
    """(label, leaderboard column, indent class) of the category tree, in leaderboard order."""
    lines: list[tuple[str, str, str]] = [("汎用的言語性能(GLP)", GLP_AVG, "l1")]
    for level2, subs in GLP_TREE.items():
        lines.append((level2, f"GLP_{level2}", "l2"))
        lines += [(sub, f"GLP_{sub}", "l3") for sub in subs]
    lines.append(("アラインメント(ALT)", ALT_AVG, "l1"))
    lines += [(c, f"ALT_{c}", "l2") for c in ALT_CATEGORIES]
    return lines


def category_table(
    row: Mapping[str, Any],
    partial: Mapping[str, Any],
    ran: Collection[str],
    implemented: Collection[str],
    compatibility: Compatibility,
) -> str:
    """The tree; where a group is off, a second column shows what ran would give (display only)."""
    lines = category_lines()
    with_partial = any(column not in row for _, column, _ in lines)
    body = "".join(
        f'<tr><td class="{level}">{html.escape(label)}</td>{value_cell(row, column, ran, implemented)}'
        + (
            (value_cell(partial, column, ran, implemented) if column not in row else "<td></td>")
            if with_partial
            else ""
        )
        + f"{quirk_note(column, compatibility) if row.get(column, partial.get(column)) is not None else ''}</tr>"
        for label, column, level in lines
    )
    extra = "<th>partial, from what ran (display only)</th>" if with_partial else ""
    return f"<table><thead><tr><th>category</th><th>score</th>{extra}</tr></thead><tbody>{body}</tbody></table>"


def radar(
    title: str,
    official: Table | None,
    categories: Sequence[str],
    prefix: str,
    partial: Mapping[str, Any],
    reason: str,
) -> str:
    """The group's chart: the aggregate's radar table, else the partial values, captioned as such."""
    if official is not None:
        scores = {str(category): score for category, score in official.rows}
        caption = "The leaderboard's radar table."
    else:
        scores = {c: partial.get(f"{prefix}{c}") for c in categories}
        caption = (
            f"Partial, display only: the leaderboard's {title} is {reason}. Each category is averaged, as "
            "upstream does, over its sub-categories that ran; a category nothing fed is marked not run, "
            "never drawn as 0."
        )
    points = [(c, scores.get(c)) for c in categories]
    image = data_uri(radar_png(title, points))
    shown = ", ".join(f"{c} {score_text(v) if v is not None else 'not run'}" for c, v in points)
    alt = f"{title} radar chart: {shown}"
    return (
        f'<figure class="radar" data-group="{html.escape(title)}"><img src="{image}" alt="{html.escape(alt)}" '
        f'width="560" height="440"><figcaption>{html.escape(caption)}</figcaption></figure>'
    )


def metadata_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return str(value)


def quirk_note(column: str, compatibility: Compatibility) -> str:
    quirk = cell_quirk("leaderboard_table", column)
    return quirk_cell(quirk, compatibility) if quirk is not None else ""


def leaderboard_section(
    tables: Sequence[Table],
    ran: Collection[str],
    implemented: Collection[str],
    compatibility: Compatibility = OFFICIAL,
) -> str:
    """The section, or "" when the run has no leaderboard_table (aggregation off)."""
    by_name = {t.name: t for t in tables}
    board = by_name.get("leaderboard_table")
    if board is None or not board.rows:
        return ""
    row = dict(zip(board.columns, board.rows[0], strict=False))
    cards = "".join(
        f'<div class="card">{html.escape(label)}'
        + (
            f"<b>{score_text(row[column])}</b>"
            if column in row
            else f'<b class="notrun">—</b><span class="notrun">{html.escape(not_run(column, ran, implemented))}</span>'
        )
        + "</div>"
        for label, column in (("TOTAL_SCORE", TOTAL), ("GLP", GLP_AVG), ("ALT", ALT_AVG))
    )
    averages = [c for c in board.columns if c.startswith("AVG_")]
    average_rows = "".join(
        f'<tr><td>{html.escape(c)}</td><td class="num">{score_text(row[c])}</td>{quirk_note(c, compatibility)}</tr>'
        for c in averages
    )
    model = "".join(
        f"<tr><td>{html.escape(c)}</td><td>{html.escape(metadata_text(row.get(c)))}</td></tr>"
        for c in ("model_name", "model_size_category", "base_model", "model_size", "model_release_date")
    )
    partial = partial_categories(tables, ran)
    glp = not_run(GLP_AVG, ran, implemented)
    alt = not_run(ALT_AVG, ran, implemented)
    radars = radar("GLP", by_name.get("glp_radar_table"), list(GLP_TREE), "GLP_", partial, glp)
    radars += radar("ALT", by_name.get("alt_radar_table"), list(ALT_RADAR), "ALT_", partial, alt)
    return (
        f"<style>{STYLE}</style><h2>Leaderboard</h2><div class='cards'>{cards}</div>"
        f"<div class='radars'>{radars}</div>"
        f"<h3>Categories</h3>{category_table(row, partial, ran, implemented, compatibility)}"
        + (
            f"<h3>Benchmark averages (display only)</h3><table><tbody>{average_rows}</tbody></table>"
            if averages
            else ""
        )
        + f"<h3>Model</h3><table><tbody>{model}</tbody></table>"
    )
