"""Starts nejumi's real gRPC inference service (scripted backend) on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunningService:
    target: str
    request_log: Path
    process: subprocess.Popen[bytes]

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
    port_file = workdir / "port"
    command = [
        sys.executable, "-m", "nejumi_inference", "--backend", "scripted", "--model", "scripted-model",
        "--port", "0", "--port-file", str(port_file), "--backend-config", json.dumps({"script": str(script_path)}),
    ]  # fmt: skip
    with (workdir / "service.log").open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=child_env())
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"inference service did not start: {(workdir / 'service.log').read_text()}")
            time.sleep(0.05)
        yield RunningService(f"127.0.0.1:{port_file.read_text().strip()}", request_log, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def repo_root() -> Path:
    from support.shared_data import repo_root as root

    return root()


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
