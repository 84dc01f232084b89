"""Notes for the numbers an official quirk shapes (docs/compatibility.md, "Quirks that change numbers").

The report shows a note beside each such number: in official mode what the quirk
does to it, in corrected mode that it is corrected. Each note links to the quirk's
entry at the foot of the report, which names the docs row.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from nejumi.compat import Compatibility

DOCS = "docs/compatibility.md#quirks-that-change-numbers-switchable"


@dataclass(frozen=True)
class Quirk:
    number: int
    title: str
    official: str

    @property
    def anchor(self) -> str:
        return f"quirk-{self.number}"


JASTER_AVG = Quirk(
    1,
    "jaster AVG",
    "official AVG leaves out the first two task columns in alphabetical order (iloc[:, 2:]); "
    "with three tasks, as on the quick start, AVG is the third task's score",
)
CONTROL_AVG = Quirk(
    2,
    "jaster control_AVG",
    "official control AVG leaves out the first control column (commonsensemoralja on the full suite); "
    "it feeds ALT_制御性",
)
JHUMANEVAL = Quirk(
    3,
    "JHumanEval",
    "official JHumanEval is scored with the metric of the task before it on str([code]) vs str([expected]); "
    "no code runs",
)
ARC_INT8 = Quirk(
    4,
    "ARC-AGI int8 cast",
    'official grids are cast with np.array(y, np.int8) first: cells written 1.7, "3", true or 257 count',
)
SENTENCE_END = Quirk(
    5,
    "M-IFEval sentence_unified_end",
    "official counts a blank piece after the last sentence as a sentence without the ending "
    "(where a prompt asks for startend:sentence_unified_end)",
)
AVG_JASTER = Quirk(
    6,
    "AVG_jaster_*",
    "official mean over the jaster leaderboard table's columns includes its own quirky AVG column",
)
QUIRKS = (JASTER_AVG, CONTROL_AVG, JHUMANEVAL, ARC_INT8, SENTENCE_END, AVG_JASTER)

# Flat score keys (results.json) -> the quirk that shapes them.
SCORE_KEYS: tuple[tuple[re.Pattern[str], Quirk], ...] = (
    (re.compile(r"jaster/_all/\d+shot/AVG"), JASTER_AVG),
    (re.compile(r"jaster/_all/\d+shot/control_AVG"), CONTROL_AVG),
    (re.compile(r"jaster/jhumaneval/.*"), JHUMANEVAL),
    (re.compile(r"arc_agi/.*"), ARC_INT8),
    (re.compile(r"m_ifeval/.*"), SENTENCE_END),
    (re.compile(r"aggregate/AVG_jaster_.*"), AVG_JASTER),
    (re.compile(r"aggregate/ALT_制御性"), CONTROL_AVG),
)
# (table name, column) -> the quirk that shapes that cell.
TABLE_CELLS: tuple[tuple[re.Pattern[str], re.Pattern[str], Quirk], ...] = (
    (re.compile(r"jaster_\d+shot_leaderboard_table"), re.compile("AVG"), JASTER_AVG),
    (re.compile(r"jaster_\d+shot_leaderboard_table"), re.compile("jhumaneval"), JHUMANEVAL),
    (re.compile(r"jaster_control_\d+shot_leaderboard_table"), re.compile("AVG"), CONTROL_AVG),
    (re.compile(r"arc_agi_leaderboard_table"), re.compile(r"arc-agi-\d|AVG"), ARC_INT8),
    (re.compile(r"m_ifeval_leaderboard_table"), re.compile(r".*score.*"), SENTENCE_END),
    (re.compile(r"leaderboard_table"), re.compile(r"AVG_jaster_.*"), AVG_JASTER),
    (re.compile(r"leaderboard_table"), re.compile(r"ALT_制御性"), CONTROL_AVG),
)


def score_quirk(key: str) -> Quirk | None:
    return next((q for pattern, q in SCORE_KEYS if pattern.fullmatch(key)), None)


def cell_quirk(table: str, column: str) -> Quirk | None:
    return next((q for t, c, q in TABLE_CELLS if t.fullmatch(table) and c.fullmatch(column)), None)


def note_text(quirk: Quirk, compatibility: Compatibility) -> str:
    return quirk.official if compatibility.official else f"corrected ({quirk.title})"


def quirk_cell(quirk: Quirk | None, compatibility: Compatibility) -> str:
    """A table cell with the note (empty without a quirk)."""
    if quirk is None:
        return "<td class='note'></td>"
    note = html.escape(note_text(quirk, compatibility))
    return f'<td class="note"><a href="#{quirk.anchor}">[{quirk.number}]</a> {note}</td>'
