"""ARC-AGI answers as upstream's parser reads them, for the output tables and the corrected grade.

Grading itself is `nejumi_scorers.arc_attempt_verdict` (Rust, upstream's parser, checks and
numpy 1.26 int8 cast). What it does not return is the JSON the parser found *before* the
cast: upstream logs that (`output` column, with 1.7 or "3" as the model wrote them), and
`nejumi.compatibility: corrected` needs it to refuse cells the cast would bend (257 -> 1,
1.7 -> 1, "3" -> 3, true -> 1). Here is that one step (spec upstream-benchmarks.md §4.4).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def backscan_grid(text: str) -> list[list[Any]] | None:
    """The last bracketed JSON of `text`, if it is a non-empty list of lists (upstream's backscan)."""
    end = max(text.rfind("]"), text.rfind("}"))
    if end < 0:
        return None
    closing = text[end]
    opening = "[" if closing == "]" else "{"
    depth = 1
    # Only the bracket type of the last one is counted, brackets inside strings included.
    for start in range(end - 1, -1, -1):
        if text[start] == closing:
            depth += 1
        elif text[start] == opening:
            depth -= 1
            if depth == 0:
                break
    else:
        return None
    try:
        value = json.loads(text[start : end + 1])
    except (ValueError, RecursionError):
        # JSONDecodeError upstream; ValueError (huge int literal) and RecursionError crash
        # upstream and count as wrong in nejumi_scorers.
        return None
    if isinstance(value, list) and value and all(isinstance(row, list) for row in value):
        return value
    return None


def strictly_cells(grid: Sequence[Sequence[Any]] | None) -> bool:
    """Every cell is a plain integer 0-9 as written: nothing the int8 cast had to convert."""
    if grid is None:
        return False
    return all(type(cell) is int and 0 <= cell <= 9 for row in grid for cell in row)


def format_tile(grid: Sequence[Sequence[Any]]) -> str:
    """Upstream's `pretty_print_tile`: rows of space-separated cells (the tables' grid columns)."""
    return "\n".join(" ".join(str(cell) for cell in row) for row in grid)
