"""Helpers shared by the nejumi_scorers Python tests: skip, or fail under ``CI=true``,
when the shared data or a test-only dependency is missing."""

from __future__ import annotations

import os
import random
import unicodedata
from pathlib import Path

import pytest
from golden_data import find_shared_dir


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def require_shared_dir(*relative: str) -> Path:
    """Return the shared dir; skip (fail under ``CI=true``) if it or a needed file is missing."""
    shared = find_shared_dir()
    missing = None
    if shared is None:
        missing = "no NEJUMI_SHARED_DIR and no WORKSPACE found above the test file"
    elif not shared.is_dir():
        missing = f"shared data folder {shared} does not exist"
    else:
        for rel in relative:
            if not (shared / rel).exists():
                missing = f"{shared / rel} does not exist"
                break
    if missing is not None:
        msg = f"golden data unavailable: {missing} (set NEJUMI_SHARED_DIR)"
        if _in_ci():
            pytest.fail(msg + " — required when CI=true")
        pytest.skip(msg)
    assert shared is not None
    return shared


def require_module(name: str):
    """Import a test-only dependency; skip if absent (fail under ``CI=true``)."""
    try:
        return __import__(name, fromlist=["_"])
    except ImportError as exc:
        msg = f"test dependency {name!r} is not installed ({exc})"
        if _in_ci():
            pytest.fail(msg + " — required when CI=true")
        pytest.skip(msg)


def _fresh_seed() -> int:
    seed = os.environ.get("NEJUMI_PROPERTY_SEED", "").strip()
    return int(seed) if seed else random.SystemRandom().randrange(2**32)


FRESH_SEED = _fresh_seed()


def property_seeds(fixed: int) -> list:
    """The seeds a property test runs with, as pytest params named by their seed: ``fixed``
    (the same cases on every run) and a fresh one per session, printed in the test id
    (``test_x[seed=123]``); ``NEJUMI_PROPERTY_SEED=123`` replays a failure."""
    return [pytest.param(fixed, id=f"seed={fixed}"), pytest.param(FRESH_SEED, id=f"seed={FRESH_SEED}")]


# The scorers follow CPython 3.11 (Unicode 14.0.0) on every interpreter; a reference that
# is the running interpreter itself (its `str` methods, `re`, `int`, or fuzzywuzzy on top
# of them) only agrees where that interpreter has the same Unicode version.
UNICODE_VERSION = "14.0.0"
needs_same_unicode = pytest.mark.skipif(
    unicodedata.unidata_version != UNICODE_VERSION,
    reason=(
        f"this Python has Unicode {unicodedata.unidata_version}; nejumi_scorers follows "
        f"CPython 3.11 (Unicode {UNICODE_VERSION})"
    ),
)
