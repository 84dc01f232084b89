"""Sinks: projections of a finished run (files in the run directory, W&B)."""

from __future__ import annotations

from collections.abc import Callable

from nejumi.config import Config
from nejumi.model_spec import ModelSpec
from nejumi.run_result import RunResult
from nejumi.sinks.report_html import write_report
from nejumi.sinks.run_files import write_predictions, write_results
from nejumi.sinks.wandb_sink import log_to_wandb
from nejumi.tables import Table


def write_sinks(
    cfg: Config, spec: ModelSpec, result: RunResult, tables: list[Table], say: Callable[[str], None]
) -> None:
    write_results(result, spec, cfg)
    write_predictions(result)
    write_report(result, spec, tables)
    log_to_wandb(cfg, spec, result, tables, say)
