"""Start the server as a child process and wait until it serves (for the evaluation runner and for tests)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from nejumi_inference.cli import TOKEN_ENV

POLL_S = 0.05
LOG_TAIL_CHARS = 4000


class ServerStartError(RuntimeError):
    """The server process exited or timed out before it served; the message ends with its log."""


class ServerProcess:
    """A running ``python -m nejumi_inference``; ``stop`` sends SIGTERM (graceful) and waits."""

    def __init__(self, process: subprocess.Popen[bytes], host: str, port: int, port_file: Path, log_path: Path) -> None:
        self.process = process
        self.host = host
        self.port = port
        self.port_file = port_file
        self.log_path = log_path

    @property
    def address(self) -> str:
        """``host:port``, ready for ``grpc.insecure_channel``."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def log_tail(self) -> str:
        return _tail(self.log_path)

    def stop(self, timeout_s: float = 30.0) -> int:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout_s``) and return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def start_server_process(
    args: Sequence[str],
    *,
    host: str = "127.0.0.1",
    token: str | None = None,
    timeout_s: float = 900.0,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
    python: str = sys.executable,
) -> ServerProcess:
    """Run ``python -m nejumi_inference <args>`` on a free port of ``host`` and return once it serves.

    ``args`` holds the backend flags (``--backend``, ``--model``, ``--backend-config``, ``--max-queue``); this
    function adds ``--host``, ``--port 0`` and ``--port-file``. The child sees this process's ``sys.path``
    through PYTHONPATH and gets ``token`` through the environment, never on its command line.
    """
    workdir = Path(tempfile.mkdtemp(prefix="nejumi-inference-"))
    port_file = workdir / "port"
    log_path = log_path or workdir / "server.log"
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONPATH"] = os.pathsep.join(
        [p for p in sys.path if p] + [p for p in child_env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    if token:
        child_env[TOKEN_ENV] = token
    command = [
        *_die_with_parent(),
        *[python, "-m", "nejumi_inference", *args, "--host", host, "--port", "0", "--port-file", str(port_file)],
    ]
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=child_env)
    deadline = time.monotonic() + timeout_s
    while True:
        if port_file.exists():
            return ServerProcess(process, host, int(port_file.read_text()), port_file, log_path)
        code = process.poll()
        if code is not None:
            raise ServerStartError(
                f"the inference server exited with code {code} before serving; its log ({log_path}):\n"
                + _tail(log_path)
            )
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise ServerStartError(
                f"the inference server did not serve within {timeout_s:.0f} s; its log ({log_path}):\n"
                + _tail(log_path)
            )
        time.sleep(POLL_S)


def _die_with_parent() -> list[str]:
    """Linux: the server gets SIGTERM when its parent dies, even by ``kill -9`` (util-linux setpriv)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-LOG_TAIL_CHARS:]
    except OSError:
        return ""
