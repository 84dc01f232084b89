"""The benchmark registry: which modules exist and how the config enables them."""

from __future__ import annotations

from collections.abc import Callable

from nejumi.benchmark import Benchmark
from nejumi.benchmarks.jaster import Jaster, JasterSettings
from nejumi.compat import Compatibility
from nejumi.config import Config


def build_benchmarks(cfg: Config, compat: Compatibility, warn: Callable[[str], None]) -> list[Benchmark]:
    """The enabled benchmarks, in upstream's run order, validated against the config."""
    benchmarks: list[Benchmark] = []
    if cfg.get_bool("run.jaster"):
        benchmarks.append(Jaster(JasterSettings.from_config(cfg, compat), warn))
    return benchmarks
