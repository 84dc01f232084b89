"""The run's settings, parsed once from the merged config before the first request.

Every key nejumi reads outside a benchmark's own section is parsed here, with its
type, default and meaning; benchmarks parse their sections in their own
`Settings.from_config` (called from the registry at the same moment). The rest of the
program receives these typed values and never reads the raw config, so a bad value is
reported up front, naming its file and key, and never after hours of inference.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any

from nejumi.aggregate import BENCHMARKS, ModelInfo, parse_release_date
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


def release_date(cfg: Config) -> datetime.datetime | None:
    """`model.release_date` (MM/DD/YYYY, as upstream parses it).

    Upstream crashes without one; nejumi leaves the column empty.
    """
    value = cfg.get("model.release_date")
    if value is None:
        return None
    if isinstance(value, datetime.date):
        # YAML reads an unquoted ISO date as a date.
        return datetime.datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        raise cfg.error("model.release_date", f"must be a date MM/DD/YYYY (got {value!r})")
    try:
        return parse_release_date(value)
    except ValueError:
        raise cfg.error("model.release_date", f"must be a date MM/DD/YYYY (got {value!r})") from None


@dataclass(frozen=True)
class AggregateSettings:
    """The leaderboard roll-up at the end of a run (aggregate.py)."""

    # `run.aggregate` (upstream's default: on).
    enabled: bool
    # `run.<benchmark>` for every benchmark upstream's aggregate knows; off when unset.
    flags: dict[str, bool]
    # `num_few_shots`: which few-shot tables (`jaster_<n>shot_...`) the roll-up reads.
    num_few_shots: int
    model: ModelInfo

    def enabled_among(self, ran: list[str]) -> list[str]:
        """The benchmarks that count: switched on and run (a benchmark nejumi lacks never ran)."""
        return [name for name in BENCHMARKS if self.flags.get(name) and name in ran]

    @classmethod
    def from_config(cls, cfg: Config) -> AggregateSettings:
        return cls(
            enabled=cfg.get_bool("run.aggregate", True),
            flags={name: cfg.get_bool(f"run.{name}") for name in BENCHMARKS},
            num_few_shots=cfg.get_int("num_few_shots", 2, minimum=0) or 0,
            model=ModelInfo(
                name=cfg.get_str("model.pretrained_model_name_or_path") or "",
                size_category=cfg.get("model.size_category"),
                size=cfg.get("model.size"),
                base_model=cfg.get("model.base_model"),
                release_date=release_date(cfg),
            ),
        )


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
    aggregate: AggregateSettings

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
            aggregate=AggregateSettings.from_config(cfg),
        )
