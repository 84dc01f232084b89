"""results.json and predictions.jsonl in the run directory."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from nejumi.config import Config
from nejumi.model_spec import ModelSpec
from nejumi.run_result import RunResult


def write_atomic(path: Path, text: str) -> None:
    """Readers never see a half-written file, even if nejumi is killed mid-write."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_results(result: RunResult, spec: ModelSpec, cfg: Config) -> Path:
    path = result.run_dir / "results.json"
    document = {
        "model": spec.name,
        "api": spec.api,
        "compatibility": cfg.get("nejumi.compatibility", "official"),
        "scores": result.scores,
        "requests": asdict(result.stats),
        "seconds": round(result.seconds, 3),
    }
    write_atomic(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    return path


def write_predictions(result: RunResult) -> Path:
    """One line per answered sample: the interchange format `nejumi score` reads."""
    lines = []
    for rows in result.rows.values():
        for row in rows:
            sample = row.sample
            record = {
                "benchmark": sample.benchmark,
                "task": sample.task,
                "shots": sample.shots,
                "id": sample.id,
                "output": row.output,
                "subset": sample.subset,
                "attempt": sample.attempt,
            }
            if "metric" in sample.metadata:
                record["metric"] = sample.metadata["metric"]
            lines.append(json.dumps(record, ensure_ascii=False))
    path = result.run_dir / "predictions.jsonl"
    write_atomic(path, "\n".join(lines) + ("\n" if lines else ""))
    return path
