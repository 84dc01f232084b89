"""The report's leaderboard section: GLP / ALT / TOTAL, the category tree, two radar charts.

Drawn from the aggregate's tables alone (inline SVG, no script, no network). A
category whose benchmarks did not run is written "not run" with the benchmarks it
needs, never drawn as 0.
"""

from __future__ import annotations

import html
import math
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from nejumi.aggregate import (
    ALT_AVG,
    ALT_CATEGORIES,
    ALT_RADAR,
    GLP_AVG,
    GLP_TREE,
    SOURCES,
    TOTAL,
    requirements,
)
from nejumi.tables import Table

STYLE = """
.cards { display: flex; gap: 1rem; margin: 0.5rem 0 1rem; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem 1rem; min-width: 9rem; }
.card b { display: block; font-size: 1.6rem; font-variant-numeric: tabular-nums; }
.radars { display: flex; gap: 2rem; flex-wrap: wrap; }
td.notrun, span.notrun { color: #999; font-style: italic; }
td.l2 { padding-left: 1.5rem; } td.l3 { padding-left: 3rem; }
"""

# Wide enough for a 10-character Japanese label beside the chart.
RADAR_WIDTH = 520
RADAR_HEIGHT = 340
RADIUS = 110


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


def category_rows(row: Mapping[str, Any], ran: Collection[str], implemented: Collection[str]) -> str:
    lines: list[tuple[str, str, str]] = [("汎用的言語性能(GLP)", GLP_AVG, "l1")]
    for level2, subs in GLP_TREE.items():
        lines.append((level2, f"GLP_{level2}", "l2"))
        lines += [(sub, f"GLP_{sub}", "l3") for sub in subs]
    lines.append(("アラインメント(ALT)", ALT_AVG, "l1"))
    lines += [(c, f"ALT_{c}", "l2") for c in ALT_CATEGORIES]
    return "".join(
        f'<tr><td class="{level}">{html.escape(label)}</td>{value_cell(row, column, ran, implemented)}</tr>'
        for label, column, level in lines
    )


def radar_svg(title: str, points: Sequence[tuple[str, float | None]]) -> str:
    """A radar chart on 0..1; an axis without a value is labelled "not run" and has no vertex."""
    cx, cy = RADAR_WIDTH / 2, RADAR_HEIGHT / 2
    count = len(points)

    def at(index: int, fraction: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / count
        return cx + fraction * RADIUS * math.cos(angle), cy + fraction * RADIUS * math.sin(angle)

    def path(fractions: Sequence[tuple[int, float]]) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in (at(i, f) for i, f in fractions))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{RADAR_WIDTH}" height="{RADAR_HEIGHT}" '
        f'viewBox="0 0 {RADAR_WIDTH} {RADAR_HEIGHT}" role="img" aria-label="{html.escape(title)}">',
        f"<title>{html.escape(title)}</title>",
    ]
    for ring in (0.2, 0.4, 0.6, 0.8, 1.0):
        parts.append(f'<polygon points="{path([(i, ring) for i in range(count)])}" fill="none" stroke="#ddd"/>')
    for index, (label, value) in enumerate(points):
        x, y = at(index, 1.0)
        lx, ly = at(index, 1.15)
        anchor = "middle" if abs(lx - cx) < 5 else ("start" if lx > cx else "end")
        # Labels above the centre grow upwards, so neither line runs into the chart.
        ly -= 12 if ly < cy - 5 else 0
        shown = score_text(value) if value is not None else "not run"
        parts.append(f'<line x1="{cx}" y1="{cy}" x2="{x:.1f}" y2="{y:.1f}" stroke="#ccc"/>')
        parts.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="11" text-anchor="{anchor}" '
            f'fill="{"#222" if value is not None else "#999"}">{html.escape(label)}'
            f'<tspan x="{lx:.1f}" dy="13">{shown}</tspan></text>'
        )
    present = [(i, min(max(v, 0.0), 1.0)) for i, (_, v) in enumerate(points) if v is not None]
    if len(present) >= 3:
        parts.append(f'<polygon class="score" points="{path(present)}" fill="rgba(31,119,180,0.25)" stroke="#1f77b4"/>')
    for i, fraction in present:
        x, y = at(i, fraction)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1f77b4"/>')
    parts.append("</svg>")
    return "".join(parts)


def radar(title: str, table: Table | None, categories: Sequence[str], reason: str) -> str:
    if table is None:
        return f'<div><h3>{html.escape(title)}</h3><p><span class="notrun">{html.escape(reason)}</span></p></div>'
    scores = {str(category): score for category, score in table.rows}
    points = [(c, scores.get(c)) for c in categories]
    return f"<div><h3>{html.escape(title)}</h3>{radar_svg(title, points)}</div>"


def metadata_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return str(value)


def leaderboard_section(tables: Sequence[Table], ran: Collection[str], implemented: Collection[str]) -> str:
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
        f'<tr><td>{html.escape(c)}</td><td class="num">{score_text(row[c])}</td></tr>' for c in averages
    )
    model = "".join(
        f"<tr><td>{html.escape(c)}</td><td>{html.escape(metadata_text(row.get(c)))}</td></tr>"
        for c in ("model_name", "model_size_category", "base_model", "model_size", "model_release_date")
    )
    radars = radar("GLP", by_name.get("glp_radar_table"), list(GLP_TREE), not_run(GLP_AVG, ran, implemented)) + radar(
        "ALT", by_name.get("alt_radar_table"), list(ALT_RADAR), not_run(ALT_AVG, ran, implemented)
    )
    return (
        f"<style>{STYLE}</style><h2>Leaderboard</h2><div class='cards'>{cards}</div>"
        f"<div class='radars'>{radars}</div>"
        f"<h3>Categories</h3><table><thead><tr><th>category</th><th>score</th></tr></thead>"
        f"<tbody>{category_rows(row, ran, implemented)}</tbody></table>"
        + (
            f"<h3>Benchmark averages (display only)</h3><table><tbody>{average_rows}</tbody></table>"
            if averages
            else ""
        )
        + f"<h3>Model</h3><table><tbody>{model}</tbody></table>"
    )
