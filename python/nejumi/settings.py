"""The run's settings, parsed once from the merged config before the first request.

Every key nejumi reads outside a benchmark's own section is parsed here, with its
type, default and meaning; benchmarks parse their sections in their own
`Settings.from_config` (called from the registry at the same moment). The rest of the
program receives these typed values and never reads the raw config, so a bad value is
reported up front, naming its file and key, and never after hours of inference.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from nejumi.compat import Compatibility
from nejumi.config import Config
from nejumi.generation import generation_params
from nejumi.model_spec import ModelSpec
from nejumi.request_queue import FailurePolicy
from nejumi_proto.v1 import types_pb2

WANDB_MODES = ("auto", "online", "offline", "off")


def wandb_setting(cfg: Config) -> str:
    """`nejumi.wandb`: auto | online | offline | off. YAML reads `off`/`no` as false, `on`/`yes` as true."""
    value = cfg.get("nejumi.wandb", "auto")
    if value is False:
        return "off"
    if value is True:
        return "auto"
    if not isinstance(value, str) or value.lower() not in WANDB_MODES:
        raise cfg.error("nejumi.wandb", f"must be one of {', '.join(WANDB_MODES)} (got {value!r})")
    return value.lower()


@dataclass(frozen=True)
class WandbSettings:
    # "online", "offline" or None (W&B switched off).
    mode: str | None
    project: str
    entity: str | None
    run_name: str | None

    @classmethod
    def from_config(cls, cfg: Config) -> WandbSettings:
        setting = wandb_setting(cfg)
        if setting == "off":
            mode = None
        elif setting == "auto":
            mode = "online" if os.environ.get("WANDB_API_KEY") else "offline"
        else:
            mode = setting
        return cls(
            mode=mode,
            project=cfg.get_str("wandb.project") or "nejumi",
            entity=cfg.get_str("wandb.entity"),
            run_name=cfg.get_str("wandb.run_name"),
        )


def failure_policy(cfg: Config, prefix: str = "", default_mode: str = "hard") -> FailurePolicy:
    """`<prefix>error_handling.request_failure.*` (upstream's hard/soft, plus nejumi's retry limits)."""
    key = f"{prefix}error_handling.request_failure"
    return FailurePolicy(
        mode=cfg.get_str(f"{key}.mode", default_mode, choices=("hard", "soft")) or default_mode,
        max_retries=cfg.get_int(f"{key}.max_retries", 8, minimum=0) or 0,
        max_backoff_s=cfg.get_float(f"{key}.max_backoff_s", 60.0, minimum=0.0) or 0.0,
    )


def benchmark_policy(cfg: Config, benchmark: str, default_mode: str | None = None) -> FailurePolicy:
    """A benchmark's failure policy: its own section over the global one, as upstream reads it.

    Upstream reads `<benchmark>.error_handling.request_failure.mode` or
    `<benchmark>.soft_fail_on_error`; some benchmarks (ARC-AGI) default to soft.
    """
    policy = failure_policy(cfg)
    mode = default_mode or policy.mode
    if cfg.get(f"{benchmark}.soft_fail_on_error") is not None:
        mode = "soft" if cfg.get_bool(f"{benchmark}.soft_fail_on_error") else "hard"
    mode = cfg.get_str(f"{benchmark}.error_handling.request_failure.mode", mode, choices=("hard", "soft")) or mode
    return FailurePolicy(mode=mode, max_retries=policy.max_retries, max_backoff_s=policy.max_backoff_s)


def benchmark_generator(cfg: Config, benchmark: str) -> dict[str, Any]:
    """`<benchmark>.generator_config` over `generator`, key by key, as upstream merges them."""
    return {**cfg.get_mapping("generator"), **cfg.get_mapping(f"{benchmark}.generator_config")}


def benchmark_generation(cfg: Config, benchmark: str, max_tokens: int | None = None) -> types_pb2.GenerationParams:
    return generation_params(benchmark_generator(cfg, benchmark), max_tokens=max_tokens)


@dataclass(frozen=True)
class RunSettings:
    model: ModelSpec
    compatibility: Compatibility
    wandb: WandbSettings
    runs_dir: str
    # Requests in flight at once (`batch_size`); no effect on scores.
    concurrency: int
    # Seconds between request starts (`inference_interval`, for rate-limited APIs).
    interval_s: float
    policy: FailurePolicy
    # host:port of a nejumi sandbox service (`nejumi.sandbox`), for code execution.
    sandbox: str | None

    @classmethod
    def from_config(cls, cfg: Config) -> RunSettings:
        return cls(
            model=ModelSpec.from_config(cfg),
            compatibility=Compatibility.from_config(cfg),
            wandb=WandbSettings.from_config(cfg),
            runs_dir=cfg.get_str("nejumi.runs_dir", "runs") or "runs",
            concurrency=cfg.get_int("batch_size", 32, minimum=1) or 1,
            interval_s=cfg.get_float("inference_interval", 0.0, minimum=0.0) or 0.0,
            policy=failure_policy(cfg),
            sandbox=cfg.get_str("nejumi.sandbox"),
        )
