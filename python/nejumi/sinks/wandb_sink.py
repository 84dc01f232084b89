"""Logs a run to Weights & Biases with the official table names.

Online when WANDB_API_KEY is set, offline otherwise (the run is kept under the run
directory and can be uploaded later with `wandb sync`); never prompts. The core
runs without W&B: `nejumi.wandb: off` skips this sink entirely.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from nejumi.config import Config
from nejumi.model_spec import ModelSpec
from nejumi.run_result import RunResult
from nejumi.tables import Table


def wandb_mode(cfg: Config) -> str | None:
    """ "online", "offline", or None when W&B is switched off."""
    setting = cfg.get_str("nejumi.wandb", "auto", choices=("auto", "online", "offline", "off"))
    if setting == "off":
        return None
    if setting == "auto":
        return "online" if os.environ.get("WANDB_API_KEY") else "offline"
    return setting


def log_to_wandb(
    cfg: Config, spec: ModelSpec, result: RunResult, tables: list[Table], say: Callable[[str], None]
) -> None:
    mode = wandb_mode(cfg)
    if mode is None:
        return
    import wandb

    settings = wandb.Settings(silent=True, console="off", x_disable_stats=True)
    run = wandb.init(
        project=cfg.get_str("wandb.project") or "nejumi",
        entity=cfg.get_str("wandb.entity"),
        name=cfg.get_str("wandb.run_name") or spec.name,
        config=cfg.data,
        dir=str(result.run_dir),
        mode=mode,
        settings=settings,
    )
    try:
        run.log({table.name: wandb.Table(columns=table.columns, data=table.rows) for table in tables})
        run.summary.update({key: value for key, value in result.scores.items() if value is not None})
        where = run.url if mode == "online" else f"{run.dir} (upload later: wandb sync {os.path.dirname(run.dir)})"
    finally:
        run.finish()
    say(f"W&B ({mode}): {where}")
