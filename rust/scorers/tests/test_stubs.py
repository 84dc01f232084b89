"""`nejumi_scorers.pyi` against the built module: mypy's stubtest reports every name,
signature or type that the stub and the extension disagree on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

STUB = Path(__file__).resolve().parent.parent / "nejumi_scorers.pyi"


def test_stub_matches_module(tmp_path: Path) -> None:
    pytest.importorskip("mypy.stubtest")
    # The stub alone on MYPYPATH: it wins over any copy installed with a wheel.
    shutil.copy(STUB, tmp_path / "nejumi_scorers.pyi")
    env = {**os.environ, "MYPYPATH": str(tmp_path)}
    # An installed wheel is a package around the extension, `nejumi_scorers.nejumi_scorers`,
    # whose names the package re-exports: the stub describes the package.
    allowlist = tmp_path / "allowlist.txt"
    allowlist.write_text("nejumi_scorers\\.nejumi_scorers\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy.stubtest",
            "nejumi_scorers",
            "--allowlist",
            str(allowlist),
            "--ignore-unused-allowlist",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
