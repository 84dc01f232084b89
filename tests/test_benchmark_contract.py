"""The benchmark contract end to end, through two real gRPC inference services on loopback.

The probe benchmark (support/probe_benchmark.py) asks two dependent turns, runs a
tool-calling loop with tool results, counts tokens, asks a judge on a second service
and scores every output in one batch. The run is then resumed (nothing is asked
again, nothing is re-scored), re-scored from its store with a changed scorer (nothing
is asked), and refused when the model is served differently.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import probe_benchmark as probe
from support.services import RunningService, child_env, scripted_service

from nejumi.config import load_config
from nejumi.rescore import rescore_run
from nejumi.runner import evaluate
from nejumi.store import ResumeRefused, Store


def write_config(path: Path, model: RunningService, judge: RunningService, **probe_section: Any) -> Path:
    config = {
        "api": "grpc",
        "inference": {"endpoint": model.target},
        "batch_size": 4,
        "model": {"pretrained_model_name_or_path": "scripted-model"},
        "run": {"jaster": False, "probe": True},
        "probe": {"judge": {"api": "grpc", "endpoint": judge.target, "model": "judge-model", "parallel": 2}},
        "nejumi": {"wandb": "off"},
    }
    config["probe"].update(probe_section)
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def run(config: Path, run_dir: Path, samples: int = 3, **options: Any) -> Any:
    registry = probe.registry(samples)
    return asyncio.run(evaluate(load_config(config), run_dir, show_progress=False, registry=registry, **options))


def test_every_context_capability_through_the_real_services(tmp_path: Path) -> None:
    with (
        scripted_service(tmp_path / "model", probe.MODEL_SCRIPT) as model,
        scripted_service(tmp_path / "judge", probe.JUDGE_SCRIPT) as judge,
    ):
        config = write_config(tmp_path / "probe.yaml", model, judge)
        probe.BatchLength.batches.clear()
        result = run(config, tmp_path / "run")
        assert probe.BatchLength.batches == [6]
        # chat: 2 turns; tools: a tool call, then the answer, for each of 3 samples.
        assert len(model.logged_requests()) == 3 * 2 + 3 * 2
        assert len(judge.logged_requests()) == 6
        assert result.judge_stats["probe.judge"].sent == 6

        rows = {(row.sample.task, row.sample.id): row for row in result.rows["probe"]}
        chat = rows[("chat", "0")].transcript
        calls = [event.model_call for event in chat.events if event.HasField("model_call")]
        assert [(c.position.role, c.position.turn) for c in calls] == [("model", 0), ("model", 1)]
        # The second turn carries the first answer.
        assert [m.content for m in calls[1].request.messages] == ["chat質問0", "一つ目の答え", "続けて0"]
        assert chat.output == "二つ目の答え"
        assert list(chat.state["turns"]) == ["一つ目の答え", "二つ目の答え"]

        tools = rows[("tools", "1")].transcript
        kinds = [event.WhichOneof("event") for event in tools.events]
        assert kinds == ["model_call", "tool_result", "model_call"]
        first, result_event, second = tools.events
        assert first.model_call.response.tool_calls[0].name == "lookup"
        assert json.loads(first.model_call.response.tool_calls[0].arguments_json) == {"word": "猫"}
        assert result_event.tool_result.content == "猫の意味は「辞書1」"
        assert [m.role for m in second.model_call.request.messages] == ["user", "assistant", "tool"]
        assert second.model_call.request.messages[2].tool_call_id == first.model_call.response.tool_calls[0].id
        assert (first.model_call.position.step, second.model_call.position.step) == (0, 1)
        assert tools.output == "辞書によれば答えです"
        assert tools.state["prompt_tokens"] == 1  # the scripted service counts words

        assert result.scores["probe/chat/0shot/rating"] == pytest.approx(0.8)
        assert result.scores["probe/tools/0shot/length"] == pytest.approx(1.0)
        assert result.scores["probe/chat/0shot/length"] == pytest.approx(
            len("二つ目の答え") / len("辞書によれば答えです")
        )

        lines = (tmp_path / "run" / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
        record = next(json.loads(line) for line in lines if '"tools"' in line and '"id": "1"' in line)
        assert [(c["step"], "tool_calls" in c) for c in record["calls"]] == [(0, True), (1, False)]
        assert record["tool_results"] == [
            {"call_id": record["calls"][0]["tool_calls"][0]["id"], "name": "lookup", "content": "猫の意味は「辞書1」"}
        ]

        again = run(config, tmp_path / "run")
        assert (again.stats.sent, again.judge_stats["probe.judge"].sent) == (0, 0)
        assert len(model.logged_requests()) == 12 and len(judge.logged_requests()) == 6
        assert again.scores == result.scores
        assert probe.BatchLength.batches == [6], "an unchanged batch scorer must not run again on resume"
        # The judged scorer's results come from the score cache: the judge's queue is not even consulted.
        assert again.judge_stats["probe.judge"].from_store == 0


def test_changed_scorer_rescores_from_the_store_without_asking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with (
        scripted_service(tmp_path / "model", probe.MODEL_SCRIPT) as model,
        scripted_service(tmp_path / "judge", probe.JUDGE_SCRIPT) as judge,
    ):
        config = write_config(tmp_path / "probe.yaml", model, judge)
        run(config, tmp_path / "run", samples=2)
        asked = len(model.logged_requests()) + len(judge.logged_requests())

    # The services are gone: re-scoring must need nothing but the store.
    registry = probe.registry(2)
    unchanged = rescore_run(tmp_path / "run", print, registry)
    assert unchanged["probe/chat/0shot/rating"] == pytest.approx(0.8)

    monkeypatch.setattr(probe.BatchLength, "version", "2")
    monkeypatch.setattr(
        probe.BatchLength,
        "score_batch",
        lambda self, ts: [[probe.types_pb2.Score(metric="length", value=0.5)] for _ in ts],
    )
    rescored = rescore_run(tmp_path / "run", print, registry)
    assert rescored["probe/chat/0shot/length"] == pytest.approx(0.5)
    assert rescored["probe/chat/0shot/rating"] == unchanged["probe/chat/0shot/rating"]
    assert asked == 2 * 4 + 4


def test_a_model_served_differently_is_refused_on_resume(tmp_path: Path) -> None:
    with scripted_service(tmp_path / "judge", probe.JUDGE_SCRIPT) as judge:
        with scripted_service(tmp_path / "model", probe.MODEL_SCRIPT) as model:
            run(write_config(tmp_path / "probe.yaml", model, judge), tmp_path / "run", samples=1)
        # The same model behind another service: another endpoint, so other answers may come.
        with scripted_service(tmp_path / "model2", probe.MODEL_SCRIPT) as moved:
            config = write_config(tmp_path / "probe.yaml", moved, judge)
            with pytest.raises(ResumeRefused, match=r"(?s)model\.endpoint: .* -> .*--force-new"):
                run(config, tmp_path / "run", samples=1)
            assert moved.logged_requests() == []
            fresh = run(config, tmp_path / "run", samples=1, force_new=True)
            assert fresh.stats.sent == 4
    assert list((tmp_path / "run").glob("store.*.sqlite")), "the old answers must be set aside, not deleted"


def stored(run_dir: Path) -> dict[str, set[str]]:
    path = run_dir / "store.sqlite"
    if not path.exists():
        return {"model": set(), "judge": set()}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            rows = db.execute("SELECT key, role FROM calls WHERE failed = 0").fetchall()
        except sqlite3.OperationalError:
            rows = []
    return {
        "model": {key for key, role in rows if role == "model"},
        "judge": {key for key, role in rows if role.startswith("judge:")},
    }


def test_a_run_killed_while_judging_resumes_without_repeating_a_call(tmp_path: Path) -> None:
    slow_judge = {**probe.JUDGE_SCRIPT, "delay_s": 0.2}
    samples = 6
    with (
        scripted_service(tmp_path / "model", probe.MODEL_SCRIPT) as model,
        scripted_service(tmp_path / "judge", slow_judge) as judge,
    ):
        config = write_config(tmp_path / "probe.yaml", model, judge)
        run_dir = tmp_path / "run"
        command = [sys.executable, probe.__file__, str(config), str(run_dir), str(samples)]
        runner = subprocess.Popen(command, env=child_env(), stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while len(stored(run_dir)["judge"]) < 3:
            assert runner.poll() is None, runner.stderr.read().decode() if runner.stderr else ""
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.01)
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        before = stored(run_dir)
        assert 3 <= len(before["judge"]) < 2 * samples, "the kill must land while judging"
        logged = (len(model.logged_requests()), len(judge.logged_requests()))

        resumed = subprocess.run(command, check=False, env=child_env(), capture_output=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr.decode()
        asked_model = {e["request_id"] for e in model.logged_requests()[logged[0] :]}
        asked_judge = {e["request_id"] for e in judge.logged_requests()[logged[1] :]}
        assert asked_model & before["model"] == set()
        assert asked_judge & before["judge"] == set()
        after = stored(run_dir)
        assert len(after["judge"]) == 2 * samples and len(after["model"]) == 4 * samples

    with Store(run_dir / "store.sqlite") as store:
        assert len(list(store.transcripts())) == 2 * samples
