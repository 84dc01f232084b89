"""Logs a run to Weights & Biases with the official table names.

Online when WANDB_API_KEY is set, offline otherwise (the run is kept under the run
directory and can be uploaded later with `wandb sync`); never prompts. The core
runs without W&B: `nejumi.wandb: off` skips this sink entirely.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from nejumi.config import Config
from nejumi.run_result import RunResult
from nejumi.settings import RunSettings


def log_to_wandb(settings: RunSettings, cfg: Config, result: RunResult, say: Callable[[str], None]) -> None:
    mode = settings.wandb.mode
    if mode is None:
        return
    import wandb

    run = wandb.init(
        project=settings.wandb.project,
        entity=settings.wandb.entity,
        name=settings.wandb.run_name or settings.model.name,
        config=cfg.data,
        dir=str(result.run_dir),
        mode=mode,
        settings=wandb.Settings(silent=True, console="off", x_disable_stats=True),
    )
    try:
        run.log({table.name: wandb.Table(columns=table.columns, data=table.rows) for table in result.tables})
        run.summary.update({key: value for key, value in result.scores.items() if value is not None})
        where = run.url if mode == "online" else f"{run.dir} (upload later: wandb sync {os.path.dirname(run.dir)})"
    finally:
        run.finish()
    say(f"W&B ({mode}): {where}")
