"""The benchmark command runs end to end on a small input (no timing is asserted).

Each suite checks that nejumi and the reference agree on every input before it
times anything, so this also guards the references from drifting.
"""

from __future__ import annotations

import contextlib
import io

import bench
import pytest


@pytest.mark.parametrize("suite", ["char_f1", "bfcl", "arc"])
def test_suite_runs_and_prints_ratios(suite: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert bench.main(["--n", "300", "--only", suite]) == 0
    lines = out.getvalue().splitlines()
    comparisons = [line for line in lines if " x" in line and "ns/item" in line]
    skipped = [line for line in lines if "skip" in line.lower()]
    assert comparisons or skipped, out.getvalue()
