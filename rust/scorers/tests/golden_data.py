"""Locating and reading the shared golden data (``../shared``): the one locator for the
scorer tests, the jaster golden test and ``//tools/bench``, so it imports no test
framework (``_shared.require_shared_dir`` adds the skip / CI failure)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import bfcl_reference as ref


def find_shared_dir() -> Path | None:
    """``$NEJUMI_SHARED_DIR``, else ``<repo root>/../shared`` where the repo root is the
    first ancestor (of this file, or of its resolved path under Bazel runfiles) holding
    ``WORKSPACE``."""
    env = os.environ.get("NEJUMI_SHARED_DIR")
    if env:
        return Path(env)
    here = Path(__file__)
    for start in (here.absolute(), here.resolve()):
        for parent in start.parents:
            if (parent / "WORKSPACE").is_file() or (parent / "WORKSPACE.bazel").is_file():
                return parent.parent / "shared"
    return None


def read_jsonl(path: Path) -> list:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def bfcl_single_turn_rows(shared: Path) -> list[dict]:
    """The single-turn BFCL golden items with their inputs: dicts with category, id,
    output, functions, possible_answer (None for relevance categories), valid, error_type."""
    data = shared / "data" / "bfcl" / "bfcl"
    outputs = {p["id"]: p["output"] for p in read_jsonl(shared / "golden" / "bfcl.predictions.jsonl")}
    rows = []
    for item in read_jsonl(shared / "golden" / "bfcl.items.jsonl"):
        category = item["task"]
        if category not in ref.SINGLE_TURN_CATEGORIES:
            continue
        functions = {e["id"]: e["function"] for e in read_jsonl(data / f"BFCL_v3_{category}.json")}
        answer_file = data / "possible_answer" / f"BFCL_v3_{category}.json"
        answers = {e["id"]: e["ground_truth"] for e in read_jsonl(answer_file)} if answer_file.exists() else {}
        rows.append(
            {
                "category": category,
                "id": item["id"],
                "output": outputs[item["id"]],
                "functions": functions[item["id"]],
                "possible_answer": answers.get(item["id"]),
                "valid": item["value"] == 1.0,
                "error_type": item["error_type"],
            }
        )
    return rows
