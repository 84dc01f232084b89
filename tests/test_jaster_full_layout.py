"""A default jaster run over the official full layout (every task, test and dev subsets).

It drives the real runner and gRPC service over `../shared/data/jaster`, with the
tasks nejumi runs by default, and checks what a user reads afterwards: a score for
every task in both passes, dev rows in the dev output tables, JHumanEval's dev rows
scored like its test rows (upstream's stale metric), and jaster leaderboard tables
without a JHumanEval column.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml
from _shared import require_shared_dir
from support.services import scripted_service

from nejumi.benchmarks.jaster import SEPARATE_TABLES, UNSUPPORTED, UPSTREAM_TASKS
from nejumi.config import load_config
from nejumi.runner import evaluate

SCRIPT = {"rules": [], "default": "A"}


def test_default_run_over_every_task_with_test_and_dev(tmp_path: Path) -> None:
    data = require_shared_dir("data/jaster/test", "data/jaster/dev") / "data" / "jaster"
    present = {path.stem for path in (data / "test").glob("*.json")}
    expected_tasks = [t for t in UPSTREAM_TASKS if t in present and t not in UNSUPPORTED]
    with scripted_service(tmp_path / "service", SCRIPT) as service:
        config = {
            "api": "grpc",
            "inference": {"endpoint": service.target},
            "batch_size": 64,
            "model": {"pretrained_model_name_or_path": "scripted-model"},
            "jaster": {"data_dir": str(data), "max_samples": {"test": 3, "dev": 2}},
            "nejumi": {"wandb": "off"},
        }
        path = tmp_path / "model.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        notices: list[str] = []
        result = asyncio.run(evaluate(load_config(path), tmp_path / "run", notices.append, show_progress=False))

    scored_tasks = {key.split("/")[1] for key in result.scores}
    assert set(expected_tasks) - {"jhumaneval"} <= scored_tasks
    for shots in (0, 2):
        assert f"jaster/_all/{shots}shot/AVG" in result.scores
        assert result.scores["jaster/jmmlu_robust/2shot/consistency"] is not None
    assert result.scores["jaster/jhumaneval/0shot/AVG"] is not None

    rows = result.rows["jaster"]
    dev_tasks = {row.sample.task for row in rows if row.sample.subset == "dev"}
    assert {t for t in expected_tasks if (data / "dev" / f"{t}.json").exists()} <= dev_tasks
    jhumaneval = [row for row in rows if row.sample.task == "jhumaneval"]
    assert {row.sample.subset for row in jhumaneval} == {"test", "dev"}
    assert {row.sample.metadata["scored_with"] for row in jhumaneval} == {"char_f1"}

    tables = {table.name: table for table in result.tables}
    for shots in (0, 2):
        for kind in ("", "control_"):
            columns = tables[f"jaster_{kind}{shots}shot_leaderboard_table"].columns
            assert not set(columns) & SEPARATE_TABLES, columns
        dev_table = tables[f"jaster_{shots}shot_output_table_dev"]
        assert {row[dev_table.columns.index("subset")] for row in dev_table.rows} == {"dev"}
    assert len(tables["jhumaneval_output_table_dev"].rows) == 2 * 2  # 2 dev items x 2 metric rows
