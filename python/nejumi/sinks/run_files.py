"""results.json and predictions.jsonl in the run directory."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from nejumi.predictions import prediction_record
from nejumi.run_result import RunResult
from nejumi.settings import RunSettings


def write_atomic(path: Path, text: str) -> None:
    """Readers never see a half-written file, even if nejumi is killed mid-write."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_results(result: RunResult, settings: RunSettings) -> Path:
    path = result.run_dir / "results.json"
    document = {
        "model": settings.model.name,
        "api": settings.model.api,
        "compatibility": settings.compatibility.mode,
        "scores": result.scores,
        "requests": asdict(result.stats),
        "judges": {section: asdict(stats) for section, stats in result.judge_stats.items()},
        "judge_models": result.judge_models,
        "judge_usage": [asdict(usage) for usage in result.judges()],
        "not_comparable": result.not_comparable,
        "seconds": round(result.seconds, 3),
    }
    write_atomic(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    return path


def write_predictions(result: RunResult) -> Path:
    """One line per sample: the interchange format `nejumi score` reads (predictions.py)."""
    lines = [
        json.dumps(prediction_record(row.transcript), ensure_ascii=False)
        for rows in result.rows.values()
        for row in rows
    ]
    path = result.run_dir / "predictions.jsonl"
    write_atomic(path, "\n".join(lines) + ("\n" if lines else ""))
    return path
