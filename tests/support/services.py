"""Starts nejumi's real gRPC inference service (scripted backend) on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nejumi_inference.launcher import start_server_process


@dataclass(frozen=True)
class RunningService:
    target: str
    request_log: Path

    def logged_requests(self) -> list[dict[str, Any]]:
        if not self.request_log.exists():
            return []
        lines = self.request_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def child_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))


@contextlib.contextmanager
def scripted_service(workdir: Path, script: dict[str, Any]) -> Iterator[RunningService]:
    workdir.mkdir(parents=True, exist_ok=True)
    request_log = workdir / "requests.jsonl"
    script_path = workdir / "script.json"
    script_path.write_text(json.dumps({**script, "request_log": str(request_log)}, ensure_ascii=False), "utf-8")
    args = ["--backend", "scripted", "--model", "scripted-model", "--backend-config"]
    with start_server_process(
        [*args, json.dumps({"script": str(script_path)})], timeout_s=60, log_path=workdir / "service.log"
    ) as server:
        yield RunningService(server.address, request_log)


def repo_root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "WORKSPACE").is_file():
            return parent
    raise RuntimeError(f"no WORKSPACE above {here}")


def quickstart_data() -> Path:
    return repo_root() / "configs" / "quickstart_data" / "jaster"


def write_grpc_config(path: Path, target: str, **extra: Any) -> Path:
    """A model config that evaluates the scripted service on the quick-start data."""
    import yaml

    config: dict[str, Any] = {
        "api": "grpc",
        "inference": {"endpoint": target},
        "batch_size": 4,
        "model": {"pretrained_model_name_or_path": "scripted-model"},
        "jaster": {"data_dir": str(quickstart_data()), "tasks": ["jcommonsenseqa", "jnli", "jsquad"]},
        "nejumi": {"wandb": "offline"},
    }
    for key, value in extra.items():
        config[key] = value
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def write_judged_config(
    path: Path,
    benchmark: str,
    data: Path,
    model: RunningService,
    judge: RunningService,
    section: dict[str, Any] | None = None,
    **extra: Any,
) -> Path:
    """A config that runs `benchmark` alone on the scripted `model` service, judged by the scripted `judge` one."""
    import yaml

    config: dict[str, Any] = {
        "api": "grpc",
        "inference": {"endpoint": model.target},
        "batch_size": 4,
        "model": {"pretrained_model_name_or_path": "org/scripted-model"},
        "run": {"jaster": False, benchmark: True},
        benchmark: {
            "data_dir": str(data),
            "judge": {"api": "grpc", "endpoint": judge.target, "model": "judge-model", "parallel": 2},
            **(section or {}),
        },
        "nejumi": {"wandb": "off"},
        **extra,
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path
