"""kill -9 while the judge is judging, restart: no verdict that was stored is asked again.

MT-bench on the scripted model (fast) with a slow OpenAI-protocol judge (Responses API,
structured output). The run is killed once some verdicts are in the store and others
are not. Every judge request carries its prompt; the store holds the prompt of each
stored verdict. The restarted run must ask the judge exactly the prompts whose verdicts
were not stored, each once, and finish with every turn judged.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml
from support.fake_judge import fake_judge, prompt_text
from support.services import child_env, repo_root, scripted_service, write_judged_config

from nejumi_proto.v1 import inference_pb2

DATA = repo_root() / "configs" / "quickstart_data" / "mtbench"
TURNS = 4  # two questions, two turns


def stored_verdict_prompts(run_dir: Path) -> set[str]:
    path = run_dir / "store.sqlite"
    if not path.exists():
        return set()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            rows = db.execute("SELECT request FROM calls WHERE role LIKE 'judge:%' AND failed = 0").fetchall()
        except sqlite3.OperationalError:
            return set()
    prompts = set()
    for (blob,) in rows:
        request = inference_pb2.GenerateRequest.FromString(blob)
        prompts.add(prompt_text({"messages": [{"role": m.role, "content": m.content} for m in request.messages]}))
    return prompts


def run_nejumi(config: Path, run_dir: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "nejumi", str(config), "--run-dir", str(run_dir), "--no-progress"]
    env = {**child_env(), "OPENAI_API_KEY": "sk-test"}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_kill_9_during_judging_then_resume_repeats_no_judge_call(tmp_path: Path) -> None:
    with (
        scripted_service(tmp_path / "model", {"rules": [], "default": "echo"}) as model,
        fake_judge(delay_s=0.6) as judge,
    ):
        config = write_judged_config(tmp_path / "mtbench.yaml", "mtbench", DATA, model, model)
        document = yaml.safe_load(config.read_text(encoding="utf-8"))
        document["mtbench"]["judge"] = {"api": "openai", "base_url": judge.base_url, "parallel": 1}
        config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        run_dir = tmp_path / "run"

        first = run_nejumi(config, run_dir)
        deadline = time.monotonic() + 120
        while len(stored_verdict_prompts(run_dir)) < 2:
            assert first.poll() is None, first.communicate()[1].decode()
            assert time.monotonic() < deadline, "no verdict was stored in time"
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        stored_before = stored_verdict_prompts(run_dir)
        assert 2 <= len(stored_before) < TURNS, "the kill must land mid-judging"
        asked_before = len(judge.requests)

        resumed = run_nejumi(config, run_dir)
        _, err = resumed.communicate(timeout=300)
        assert resumed.returncode == 0, err.decode()

    asked_after = judge.prompts()[asked_before:]
    assert not set(asked_after) & stored_before, "a stored verdict was asked again"
    assert len(asked_after) == len(set(asked_after)) == TURNS - len(stored_before)
    assert len(stored_verdict_prompts(run_dir)) == TURNS
    scores = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))["scores"]
    assert scores["mtbench/_all/0shot/unjudged_turns"] == 0.0
