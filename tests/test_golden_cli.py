"""Every parity set through the command line users run: `nejumi score` and `nejumi aggregate`.

The per-benchmark golden tests check items and tables; this one checks that the CLI,
with the registry as shipped, prints exactly the expected flat scores (the judged
benchmarks from the verdicts the golden lines carry: no judge is asked).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from _shared import require_shared_dir
from golden_data import read_jsonl
from jbbq_fixture import write_golden_dataset

from nejumi import cli


def same(expected: float | None, got: float | None) -> bool:
    if expected is None or got is None:
        return expected is got
    return math.isclose(expected, got, rel_tol=0, abs_tol=1e-12)


def printed(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, float | None]:
    capsys.readouterr()
    assert cli.main(argv) == 0
    return json.loads(capsys.readouterr().out)


def assert_matches(expected: dict[str, float | None], scores: dict[str, float | None]) -> None:
    mismatched = {k: (v, scores.get(k, "missing")) for k, v in expected.items() if not same(v, scores.get(k))}
    assert mismatched == {}


@pytest.mark.parametrize(
    "benchmark", ["jaster", "arc_agi", "m_ifeval", "mtbench", "hle", "hallulens", "toxicity", "jtruthfulqa"]
)
def test_score_prints_the_golden_scores(benchmark: str, capsys: pytest.CaptureFixture[str]) -> None:
    shared = require_shared_dir("golden", f"data/{benchmark}")
    golden = shared / "golden"
    scores = printed(["score", str(golden / f"{benchmark}.predictions.jsonl"), "--data", str(shared / "data")], capsys)
    assert_matches(json.loads((golden / f"{benchmark}.expected.json").read_text(encoding="utf-8")), scores)


def test_score_prints_the_jbbq_golden_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    golden = require_shared_dir("golden") / "golden"
    predictions = golden / "jbbq.predictions.jsonl"
    data = write_golden_dataset(tmp_path / "jbbq", read_jsonl(predictions))
    scores = printed(["score", str(predictions), "--data", str(data)], capsys)
    expected = json.loads((golden / "jbbq.expected.json").read_text(encoding="utf-8"))
    assert_matches(expected, scores)
    assert set(scores) == set(expected)


def test_aggregate_prints_the_golden_leaderboard(capsys: pytest.CaptureFixture[str]) -> None:
    golden = require_shared_dir("golden") / "golden"
    scores = printed(["aggregate", str(golden / "aggregate.inputs.json")], capsys)
    expected = json.loads((golden / "aggregate.expected.json").read_text(encoding="utf-8"))
    assert_matches(expected, scores)
