"""kill -9 mid-run, restart: same scores, and no stored answer is ever asked again.

The scripted service logs every request it receives (request_id = store key). After
the kill, the keys in the store are the answers already received; the restarted run
must not send any of them again, and must finish with the scores of an
uninterrupted run.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from support.services import child_env, scripted_service, write_grpc_config

SCRIPT = {
    "rules": [{"match": "魚が泳いでいる場所", "reply": "2"}, {"match": "白い犬が芝生", "reply": "entailment"}],
    "default": "echo",
    "delay_s": 0.15,
}
TOTAL = 36


def run_nejumi(config: Path, run_dir: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "nejumi", str(config), "--run-dir", str(run_dir), "--no-progress"]
    return subprocess.Popen(command, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def stored_keys(run_dir: Path) -> set[str]:
    path = run_dir / "store.sqlite"
    if not path.exists():
        return set()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            return {row[0] for row in db.execute("SELECT key FROM calls WHERE failed = 0")}
        except sqlite3.OperationalError:
            return set()


def test_kill_9_then_resume_repeats_no_request(tmp_path: Path) -> None:
    with scripted_service(tmp_path / "service", SCRIPT) as service:
        config = write_grpc_config(tmp_path / "model.yaml", service.target, nejumi={"wandb": "off"})
        run_dir = tmp_path / "run"
        runner = run_nejumi(config, run_dir)
        deadline = time.monotonic() + 120
        while len(stored_keys(run_dir)) < 8:
            assert runner.poll() is None, runner.stderr.read().decode() if runner.stderr else ""
            assert time.monotonic() < deadline, "the runner made no progress"
            time.sleep(0.01)
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        answered_before_kill = stored_keys(run_dir)
        assert 8 <= len(answered_before_kill) < TOTAL, "the kill must land mid-run"
        requests_before_restart = len(service.logged_requests())

        resumed = run_nejumi(config, run_dir)
        _, err = resumed.communicate(timeout=300)
        assert resumed.returncode == 0, err.decode()
        after_restart = service.logged_requests()[requests_before_restart:]
        resent = {entry["request_id"] for entry in after_restart} & answered_before_kill
        assert resent == set(), f"{len(resent)} stored answers were requested again"
        assert stored_keys(run_dir) >= answered_before_kill
        assert len(stored_keys(run_dir)) == TOTAL

        reference_dir = tmp_path / "reference"
        reference = run_nejumi(config, reference_dir)
        _, err = reference.communicate(timeout=300)
        assert reference.returncode == 0, err.decode()

    resumed_scores = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))["scores"]
    reference_scores = json.loads((reference_dir / "results.json").read_text(encoding="utf-8"))["scores"]
    assert resumed_scores == reference_scores
    assert resumed_scores["jaster/jcommonsenseqa/0shot/exact_match"] == 0.2
