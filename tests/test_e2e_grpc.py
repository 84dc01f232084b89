"""End to end: the runner drives the real gRPC inference service on loopback."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from support.services import quickstart_data, scripted_service, write_grpc_config

from nejumi import cli
from nejumi.config import load_config
from nejumi.datasets import ArtifactFile, ArtifactFiles
from nejumi.runner import evaluate

# Right answers for some quick-start items, wrong or missing for the others.
SCRIPT = {
    "rules": [
        {"match": "魚が泳いでいる場所", "reply": "2"},
        {"match": "髪を切ってもらう店", "reply": "1"},
        {"match": "朝ごはんを食べる時間帯", "reply": "0"},
        {"match": "白い犬が芝生", "reply": "entailment"},
        {"match": "赤いりんご", "reply": "Contradiction\n\n理由"},
        {"match": "灯台は何色", "reply": "白"},
        {"match": "市場は毎朝何時", "reply": "答え: 朝五時"},
    ],
    "default": "わかりません",
}

N_PLANNED = 3 * 2 * (5 + 1)  # tasks x (0-shot, 2-shot) x (test + dev)


def test_runner_against_the_real_service(tmp_path: Path) -> None:
    with scripted_service(tmp_path / "service", SCRIPT) as service:
        cfg = load_config(write_grpc_config(tmp_path / "model.yaml", service.target))
        run_dir = tmp_path / "run"
        result = asyncio.run(evaluate(cfg, run_dir, show_progress=False))
        assert result.stats.sent == N_PLANNED
        assert len(service.logged_requests()) == N_PLANNED

        scores = result.scores
        assert scores["jaster/jcommonsenseqa/0shot/exact_match"] == pytest.approx(2 / 5)
        assert scores["jaster/jcommonsenseqa/0shot/control"] == pytest.approx(3 / 5)
        # "Contradiction\n\n..." is cut at the blank line and lower-cased for jnli.
        assert scores["jaster/jnli/2shot/exact_match"] == pytest.approx(2 / 5)
        assert scores["jaster/jsquad/0shot/char_f1"] == pytest.approx((1.0 + 0.8) / 5)

        results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
        assert results["scores"] == scores
        predictions = (run_dir / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(predictions) == N_PLANNED
        assert {"benchmark", "task", "shots", "id", "output"} <= set(json.loads(predictions[0]))
        report = (run_dir / "report.html").read_text(encoding="utf-8")
        assert "jaster_0shot_leaderboard_table" in report and "jaster_control_2shot_leaderboard_table" in report
        assert list(run_dir.glob("wandb/offline-run-*/run-*.wandb")), "no offline W&B run file was written"

        again = asyncio.run(evaluate(cfg, run_dir, show_progress=False))
        assert again.stats.sent == 0
        assert again.stats.from_store == N_PLANNED
        assert again.scores == scores
        assert len(service.logged_requests()) == N_PLANNED


def test_score_command_reproduces_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with scripted_service(tmp_path / "service", SCRIPT) as service:
        config = write_grpc_config(tmp_path / "model.yaml", service.target, nejumi={"wandb": "off"})
        assert cli.main([str(config), "--run-dir", str(tmp_path / "run"), "--no-progress"]) == 0
    run_scores = json.loads((tmp_path / "run" / "results.json").read_text(encoding="utf-8"))["scores"]
    capsys.readouterr()
    assert cli.main(["score", str(tmp_path / "run" / "predictions.jsonl"), "--data", str(quickstart_data())]) == 0
    assert json.loads(capsys.readouterr().out) == run_scores
    # From the run directory, with the service gone: everything is in the store.
    assert cli.main(["score", str(tmp_path / "run")]) == 0
    assert json.loads(capsys.readouterr().out) == run_scores


def test_score_names_a_bad_predictions_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    predictions = tmp_path / "p.jsonl"
    predictions.write_text('{"benchmark": "jaster", "task": "jnli", "shots": 0, "id": "0"}\n', encoding="utf-8")
    assert cli.main(["score", str(predictions), "--data", str(quickstart_data())]) == 2
    assert f"{predictions}: line 1: missing field(s) output" in capsys.readouterr().err


def test_bad_config_exits_2_naming_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("api: grpc\nmodel:\n  pretrained_model_name_or_path: m\n", encoding="utf-8")
    assert cli.main([str(config), "--run-dir", str(tmp_path / "run")]) == 2
    assert f"{config}: inference.endpoint: is required with api: grpc" in capsys.readouterr().err


def test_unreachable_service_stops_the_run_with_advice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_grpc_config(
        tmp_path / "model.yaml",
        "127.0.0.1:9",
        error_handling={"request_failure": {"mode": "hard", "max_retries": 1, "max_backoff_s": 0.01}},
    )
    assert cli.main([str(config), "--run-dir", str(tmp_path / "run"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "UNAVAILABLE" in err and "re-run the same command to resume" in err


class QuickstartArtifact:
    """The W&B artifact source, faked: serves the quick-start data as the jaster artifact (with its jaster/ folder)."""

    def __init__(self) -> None:
        self.downloads = 0

    def download(self, artifact_path: str, into: Path) -> ArtifactFiles:
        assert artifact_path == "llm-leaderboard/nejumi-leaderboard4/jaster:production"
        self.downloads += 1
        files = []
        for source in sorted(p for p in quickstart_data().rglob("*") if p.is_file()):
            relative = "jaster/" + source.relative_to(quickstart_data()).as_posix()
            (into / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, into / relative)
            digest = base64.b64encode(hashlib.md5(source.read_bytes()).digest()).decode()
            files.append(ArtifactFile(relative, digest, "md5", source.stat().st_size))
        return ArtifactFiles(version="v1", digest="quickstart", files=tuple(files))


def test_the_official_artifact_is_downloaded_once_then_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEJUMI_CACHE_DIR", str(tmp_path / "cache"))
    artifact = QuickstartArtifact()
    with scripted_service(tmp_path / "service", SCRIPT) as service:
        config = write_grpc_config(tmp_path / "model.yaml", service.target, nejumi={"wandb": "off"})
        cfg = load_config(config, overrides={"jaster": {"data_dir": None}})
        first = asyncio.run(evaluate(cfg, tmp_path / "run", show_progress=False, artifacts=artifact))
        second = asyncio.run(evaluate(cfg, tmp_path / "run2", show_progress=False, artifacts=artifact))
    assert artifact.downloads == 1
    assert first.scores == second.scores
    assert first.scores["jaster/jcommonsenseqa/0shot/exact_match"] == pytest.approx(2 / 5)
