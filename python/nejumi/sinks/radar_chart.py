"""Radar charts for the report, drawn by matplotlib as PNG data URIs (no files, no network).

The figure is drawn on an Agg canvas without pyplot, so nothing global is touched but
the font list. Labels use IPAexGothic (shipped by matplotlib-fontja): the categories
are Japanese, and matplotlib's own fonts have no Japanese glyphs.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib_fontja import get_font_ttf_path

FONT = FontProperties(fname=get_font_ttf_path(), size=10)
LINE = "#1f77b4"
MUTED = "#999999"


def radar_png(title: str, points: Sequence[tuple[str, float | None]]) -> bytes:
    """A radar chart on 0..1; an axis without a value is labelled "not run" and has no vertex."""
    figure = Figure(figsize=(5.6, 4.4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(projection="polar")
    count = len(points)
    # The first category at the top, the others clockwise (as the leaderboard draws them).
    axes.set_theta_offset(math.pi / 2)
    axes.set_theta_direction(-1)
    angles = [2 * math.pi * i / count for i in range(count)]
    axes.set_ylim(0, 1)
    axes.set_rlabel_position(180 / count)
    axes.set_yticks([0.2, 0.4, 0.6, 0.8, 1.0])
    axes.set_yticklabels(["0.2", "0.4", "0.6", "0.8", "1.0"], fontproperties=FONT, color=MUTED, fontsize=7)
    axes.set_xticks(angles)
    labels = axes.set_xticklabels(
        [f"{label}\n{value:.4f}" if value is not None else f"{label}\nnot run" for label, value in points],
        fontproperties=FONT,
    )
    axes.tick_params(axis="x", pad=10)
    for text, (_, value) in zip(labels, points, strict=True):
        text.set_color("#222222" if value is not None else MUTED)
    present = [(angles[i], min(max(v, 0.0), 1.0)) for i, (_, v) in enumerate(points) if v is not None]
    if len(present) >= 3:
        # Closed through the present axes only: a missing category is not drawn as 0.
        theta = [a for a, _ in present] + [present[0][0]]
        radius = [r for _, r in present] + [present[0][1]]
        axes.fill(theta, radius, color=LINE, alpha=0.25)
        axes.plot(theta, radius, color=LINE, linewidth=1.5)
    if present:
        axes.scatter([a for a, _ in present], [r for _, r in present], color=LINE, s=16, zorder=3)
    axes.set_title(title, fontproperties=FONT, fontsize=12, pad=18)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
