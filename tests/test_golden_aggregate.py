"""The leaderboard roll-up against the official aggregate (wandb/llm-leaderboard @ 6e29db4).

Two references: `golden/aggregate.{inputs,expected}.json` (upstream's aggregate.py
run on three scenarios of leaderboard tables), and the 59 published leaderboard rows
(`data/leaderboard/nejumi4_published_results.csv`), whose level-3 categories must
roll up to their level-2, GLP / ALT and TOTAL_SCORE columns.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from _shared import require_shared_dir

from nejumi import cli
from nejumi.aggregate import ALT_AVG, GLP_AVG, GLP_LEVEL2, TOTAL, aggregate_scenarios, roll_up

# The CSV prints 10 decimals; its rounding carries through two averaging levels.
CSV_TOLERANCE = 1e-10


@pytest.fixture(scope="module")
def shared() -> Path:
    return require_shared_dir("golden/aggregate.inputs.json", "data/leaderboard/nejumi4_published_results.csv")


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_golden_aggregate_key_matches_exactly(shared: Path) -> None:
    golden = shared / "golden"
    scores = aggregate_scenarios(read(golden / "aggregate.inputs.json"))
    expected = read(golden / "aggregate.expected.json")
    assert list(scores) == list(expected)
    # Same arithmetic as upstream (np.mean's pairwise sums, pandas' row mean): equal to the last bit.
    assert scores == expected


def test_disabled_and_missing_benchmarks_turn_their_columns_off(shared: Path) -> None:
    scores = aggregate_scenarios(read(shared / "golden" / "aggregate.inputs.json"))
    # data_like has no SWE-bench table, flags_off switches it off: no AVG_swebench column at all.
    assert "aggregate/full/AVG_swebench" in scores
    assert "aggregate/data_like/AVG_swebench" not in scores
    assert "aggregate/flags_off/AVG_swebench" not in scores
    assert scores["aggregate/flags_off/GLP_抽象的推論"] is None
    assert scores["aggregate/flags_off/GLP_関数呼び出し"] is None


def test_cli_prints_the_golden_keys_with_nan_as_null(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    golden = shared / "golden"
    assert cli.main(["aggregate", str(golden / "aggregate.inputs.json")]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == read(golden / "aggregate.expected.json")
    assert '"aggregate/data_like/GLP_翻訳": null' in out


def published_rows(shared: Path) -> list[dict[str, str]]:
    with (shared / "data" / "leaderboard" / "nejumi4_published_results.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def value(text: str) -> float | None:
    return None if text in ("", "null") else float(text)


def test_published_rows_roll_up_to_their_glp_alt_and_total(shared: Path) -> None:
    rows = published_rows(shared)
    assert len(rows) == 59
    wrong = []
    for row in rows:
        categories = {k: value(v) for k, v in row.items() if k.startswith(("GLP_", "ALT_"))}
        got = roll_up(categories)
        for column in (*GLP_LEVEL2, GLP_AVG, ALT_AVG, TOTAL):
            published = value(row[column])
            if published is None:
                ok = got[column] is None
            else:
                ok = got[column] is not None and math.isclose(got[column], published, abs_tol=CSV_TOLERANCE)
            if not ok:
                wrong.append((row["model_name"], column, published, got[column]))
    assert not wrong
