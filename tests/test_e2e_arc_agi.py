"""End to end: ARC-AGI through the runner and the real gRPC inference service (scripted backend).

Each test input is asked twice as identical requests that stay distinct calls (their own
request ids and store entries), and a request that fails for good is answered empty and
graded wrong (ARC's failure policy is soft by default) unless the benchmark is set to hard.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from support.services import scripted_service, write_grpc_config

from nejumi.benchmarks.arc_agi import NAME
from nejumi.config import load_config
from nejumi.request_queue import RunAborted
from nejumi.rescore import rescore_run
from nejumi.runner import evaluate


def task(test_input: list[list[int]], test_output: list[list[int]]) -> dict[str, Any]:
    return {"train": [{"input": [[0]], "output": [[1]]}], "test": [{"input": test_input, "output": test_output}]}


# Version 1: one solved, one answered wrong, one whose requests fail; version 2: solved.
TASKS = {
    "arc-agi-1": {
        "solved01": task([[1, 1, 1]], [[2, 2, 2]]),
        "wrong002": task([[3, 3, 3]], [[4, 4, 4]]),
        "failed03": task([[5, 5, 5]], [[6, 6, 6]]),
    },
    "arc-agi-2": {"solved04": task([[7, 7, 7]], [[8, 8, 8]])},
}
SCRIPT = {
    "rules": [
        {"match": "--テスト入力--\n[\n  [1,1,1]\n]", "reply": "答え:\n[[2, 2, 2]]"},
        {"match": "--テスト入力--\n[\n  [3,3,3]\n]", "reply": "[[4, 4, 0]]"},
        {"match": "--テスト入力--\n[\n  [5,5,5]\n]", "error_code": "INVALID_ARGUMENT", "error_message": "too long"},
        {"match": "--テスト入力--\n[\n  [7,7,7]\n]", "reply": "```json\n[[8, 8, 8]]\n```", "reasoning": "8 にする"},
    ],
    "default": "わかりません",
}


def write_data(root: Path) -> Path:
    for version, tasks in TASKS.items():
        (root / version / "evaluation").mkdir(parents=True)
        for task_id, content in tasks.items():
            (root / version / "evaluation" / f"{task_id}.json").write_text(json.dumps(content), encoding="utf-8")
    return root


def arc_config(tmp_path: Path, target: str, **arc_agi: Any) -> Path:
    return write_grpc_config(
        tmp_path / "model.yaml",
        target,
        run={"jaster": False, NAME: True},
        arc_agi={"data_dir": str(write_data(tmp_path / "data")), **arc_agi},
        nejumi={"wandb": "off"},
    )


def test_two_attempts_are_distinct_requests_and_a_failure_is_soft(tmp_path: Path) -> None:
    with scripted_service(tmp_path / "service", SCRIPT) as service:
        cfg = load_config(arc_config(tmp_path, service.target))
        run_dir = tmp_path / "run"
        result = asyncio.run(evaluate(cfg, run_dir, show_progress=False))
        logged = service.logged_requests()

        # 4 test inputs x 2 attempts: identical requests (same content hash), each sent on its own.
        assert result.stats.sent == 8 and len(logged) == 8
        assert len({entry["request_id"] for entry in logged}) == 8
        assert sorted(Counter(entry["sha256"] for entry in logged).values()) == [2, 2, 2, 2]
        assert result.stats.failed == 2
        assert Counter(entry["status"] for entry in logged) == {"completed": 6, "failed": 2}

        assert result.scores == pytest.approx(
            {
                "arc_agi/arc-agi-1/0shot/accuracy": 1 / 3,
                "arc_agi/arc-agi-2/0shot/accuracy": 1.0,
                "arc_agi/_all/0shot/AVG": 2 / 3,
            }
        )
        lines = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
        assert sorted((p["id"], p["attempt"]) for p in lines) == sorted(
            (task_id, attempt) for tasks in TASKS.values() for task_id in tasks for attempt in (0, 1)
        )
        failed = [p for p in lines if p["id"] == "failed03"]
        assert [p["output"] for p in failed] == ["", ""] and all("INVALID_ARGUMENT" in p["error"] for p in failed)

        tables = {t.name: t for t in result.tables}
        assert tables["arc_agi_leaderboard_table"].rows == [["scripted-model", 1 / 3, 1.0, 2 / 3]]
        v2 = [
            dict(zip(tables["arc_agi_2_output_table"].columns, r, strict=True))
            for r in tables["arc_agi_2_output_table"].rows
        ]
        assert [(r["num_attempts"], r["correct"], r["reasoning_content"], r["output"]) for r in v2] == [
            (0, True, "8 にする", "8 8 8"),
            (1, True, "8 にする", "8 8 8"),
        ]

        # Resuming finds both attempts of every answered input in the store; the two soft
        # failures are asked again.
        again = asyncio.run(evaluate(cfg, run_dir, show_progress=False))
        assert (again.stats.from_store, again.stats.sent) == (6, 2)
        assert again.scores == result.scores
    assert rescore_run(run_dir, print) == result.scores


def test_the_benchmarks_own_hard_mode_aborts_on_a_failed_request(tmp_path: Path) -> None:
    with scripted_service(tmp_path / "service", SCRIPT) as service:
        cfg = load_config(arc_config(tmp_path, service.target, error_handling={"request_failure": {"mode": "hard"}}))
        with pytest.raises(RunAborted, match="INVALID_ARGUMENT"):
            asyncio.run(evaluate(cfg, tmp_path / "run", show_progress=False))
