"""Display-only category values for a group (GLP or ALT) the aggregate leaves out.

Upstream computes GLP only when jaster and MT-bench both ran, and ALT only with JBBQ,
Toxicity and JTruthfulQA; until nejumi has those, the aggregate returns no category
values at all. The report still charts what ran: this feeds the aggregate's own
category functions (glp_scores, alt_scores) with the tables there are, so a category
whose inputs are missing comes out NaN (None), never 0. These values are not
leaderboard numbers, and the report captions them as partial.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from nejumi.aggregate import Row, Subtables, alt_scores, cell, glp_scores, resolve
from nejumi.tables import Table

FEWSHOT_TABLE = re.compile(r"jaster_([1-9][0-9]*)shot_leaderboard_table")


def few_shots(tables: Sequence[Table], default: int = 2) -> int:
    """The few-shot count the run's jaster tables were made with (the aggregate's num_few_shots)."""
    for table in tables:
        match = FEWSHOT_TABLE.fullmatch(table.name)
        if match:
            return int(match.group(1))
    return default


def partial_categories(tables: Sequence[Table], ran: Collection[str]) -> dict[str, Any]:
    """Every GLP and ALT column, as far as the tables of what ran allow (None where nothing feeds it)."""
    by_name = {t.name: t for t in tables}
    shots = few_shots(tables)
    _, inputs = resolve(ran, by_name, shots)

    def row(name: str) -> Row:
        return Row(by_name[name]) if name in by_name and by_name[name].rows else Row()

    # resolve() reads these only for a group that is on; here every group reads what is there.
    inputs.jaster_0shot = row("jaster_0shot_leaderboard_table")
    inputs.jaster_fewshots = row(f"jaster_{shots}shot_leaderboard_table")
    inputs.mtbench = row("mtbench_leaderboard_table")
    inputs.robust = row(f"jmmlu_robust_{shots}shot_leaderboard_table")
    inputs.control_0shot = row("jaster_control_0shot_leaderboard_table")
    inputs.control_fewshots = row(f"jaster_control_{shots}shot_leaderboard_table")
    inputs.jbbq = row(f"jbbq_{shots}shot_leaderboard_table")
    inputs.toxicity = row("toxicity_leaderboard_table")
    inputs.jtruthfulqa = row("jtruthfulqa_leaderboard_table")
    board: dict[str, Any] = {}
    subtables = Subtables("")
    glp_scores(board, inputs, subtables)
    alt_scores(board, inputs, subtables)
    return {column: cell(value) for column, value in board.items()}
