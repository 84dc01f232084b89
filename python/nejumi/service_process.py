"""Starts the gRPC inference service as a child process and stops it at the end.

Used when the config asks nejumi to serve the model itself (api: llamacpp or vllm):
the service binds a free loopback port, writes it to a file once the model is
loaded, and is terminated when the evaluation ends, crashes or is interrupted.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


class ServiceError(RuntimeError):
    pass


class InferenceService:
    def __init__(self, backend: str, model: str, backend_config: dict[str, Any], log_path: Path) -> None:
        self.backend = backend
        self.model = model
        self.backend_config = backend_config
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self.target = ""

    async def start(self, on_wait: Any = None) -> str:
        """Starts the service and returns its address once it serves."""
        port_file = Path(tempfile.mkdtemp(prefix="nejumi-service-")) / "port"
        command = [
            *_die_with_parent(),
            sys.executable,
            "-m",
            "nejumi_inference",
            "--backend",
            self.backend,
            "--model",
            self.model,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--backend-config",
            json.dumps(self.backend_config),
        ]
        self._process = self._spawn(command)
        waited = 0.0
        while not port_file.exists():
            code = self._process.poll()
            if code is not None:
                raise ServiceError(
                    f"the inference service ({self.backend}, {self.model}) exited with code {code} while starting; "
                    f"its log: {self.log_path}\n{tail(self.log_path)}"
                )
            await asyncio.sleep(0.1)
            waited += 0.1
            if on_wait is not None and waited % 10 < 0.1:
                on_wait(waited)
        self.target = f"127.0.0.1:{port_file.read_text().strip()}"
        return self.target

    def _spawn(self, command: list[str]) -> subprocess.Popen[bytes]:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)

    def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _die_with_parent() -> list[str]:
    """Linux: the service gets SIGTERM when nejumi dies, even by `kill -9`."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
