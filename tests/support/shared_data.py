"""Locates ../shared (datasets and golden scores) for parity tests.

Tests that need it skip with a clear reason when it is absent, except under
CI=true, where a missing folder is a failure (CI always has it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def repo_root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "WORKSPACE").is_file():
            return parent
    raise RuntimeError(f"no WORKSPACE above {here}")


def shared_dir() -> Path:
    configured = os.environ.get("NEJUMI_SHARED_DIR")
    path = Path(configured) if configured else repo_root().parent / "shared"
    if not (path / "golden").is_dir() or not (path / "data").is_dir():
        message = f"shared datasets not found at {path} (set NEJUMI_SHARED_DIR to the folder holding data/ and golden/)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
