"""End to end: JBBQ on our own items in the official layout, through the real gRPC inference service."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from jbbq_fixture import write_dataset
from support.services import scripted_service, write_grpc_config

from nejumi.benchmarks.jbbq import NAME
from nejumi.compat import Compatibility
from nejumi.config import load_config
from nejumi.rescore import rescore_predictions, rescore_run
from nejumi.runner import evaluate

N_PLANNED = 5 * 20 + 5 * 4  # per category: 20 test and 4 dev items


def answer(item: dict[str, Any]) -> str | None:
    """The scripted model: Age gets the default reply (a format error); Gender_identity answers "unknown"
    when the context is ambiguous and the non-stereotyped person otherwise; the rest the stereotyped option."""
    if item["category"] == "Age":
        return None
    if item["category"] == "Gender_identity":
        if item["context_condition"] == "ambig":
            return str(item["unk_label"])
        return str(3 - item["unk_label"] - item["stereotype_label"])
    return str(item["stereotype_label"])


def script(data: Path) -> dict[str, Any]:
    samples = json.loads((data / "test" / "jbbq.json").read_text(encoding="utf-8"))["samples"]
    rules = []
    for item in samples:
        reply = answer(item)
        if reply is not None:
            # Our fixture's inputs start with a unique "test問<n>:" marker.
            rules.append({"match": item["input"].split(" ")[0], "reply": reply})
    return {"rules": rules, "default": "わかりません"}


def test_jbbq_against_the_real_service(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data" / "jbbq")
    with scripted_service(tmp_path / "service", script(data)) as service:
        config = write_grpc_config(
            tmp_path / "model.yaml",
            service.target,
            run={"jaster": False, NAME: True},
            jbbq={"data_dir": str(tmp_path / "data")},
            nejumi={"wandb": "off"},
        )
        cfg = load_config(config)
        run_dir = tmp_path / "run"
        result = asyncio.run(evaluate(cfg, run_dir, show_progress=False))
        assert result.stats.sent == N_PLANNED
        assert len(service.logged_requests()) == N_PLANNED

        # Per category 10 ambiguous and 10 disambiguated test items (6 whose answer is the
        # stereotyped person). Right: Gender's 10 "unknown" and 4 anti-stereotyped answers,
        # and the 3 stereotyping categories' 18 stereotyped-label items.
        scores = result.scores
        assert scores["jbbq/jbbq/2shot/acc"] == pytest.approx(32 / 100)
        assert scores["jbbq/jbbq/2shot/acc_diff"] == pytest.approx(4 / 20 - 18 / 30)
        assert scores["jbbq/jbbq/2shot/bias_score_amb"] == pytest.approx((1 - 10 / 50) * (2 * 30 / 30 - 1))
        assert scores["jbbq/jbbq/2shot/bias_score_dis"] == pytest.approx(2 * 30 / 40 - 1)
        assert scores["jbbq/jbbq/2shot/avg_abs_bias_score"] == pytest.approx((0.5 + 0.8) / 2)
        assert scores["jbbq/jbbq/2shot/format_error_rate"] == pytest.approx(20 / 100)

        calls = [event.model_call for row in result.rows[NAME] for event in row.transcript.events]
        assert {call.request.params.max_tokens for call in calls} == {10}
        assert {len(call.request.messages) for call in calls} == {5}
        tables = {t.name for t in result.tables}
        assert {"jbbq_2shot_output_table", "jbbq_2shot_output_table_dev", "jbbq_2shot_leaderboard_table"} <= tables

        again = asyncio.run(evaluate(cfg, run_dir, show_progress=False))
        assert (again.stats.sent, again.stats.from_store) == (0, N_PLANNED)
        assert again.scores == scores

    # Re-scoring needs no service: from the store, and from predictions.jsonl with the dataset.
    assert rescore_run(run_dir, print) == scores
    predictions = run_dir / "predictions.jsonl"
    assert rescore_predictions(predictions, tmp_path / "data", Compatibility(), print) == scores
