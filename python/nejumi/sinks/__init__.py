"""Sinks: projections of a finished run (files in the run directory, W&B)."""

from __future__ import annotations

from collections.abc import Callable

from nejumi.config import Config
from nejumi.run_result import RunResult
from nejumi.settings import RunSettings
from nejumi.sinks.report_html import write_report
from nejumi.sinks.run_files import write_predictions, write_results
from nejumi.sinks.wandb_sink import log_to_wandb


def write_sinks(settings: RunSettings, cfg: Config, result: RunResult, say: Callable[[str], None]) -> None:
    write_results(result, settings)
    write_predictions(result)
    write_report(result, settings.model, settings.compatibility)
    log_to_wandb(settings, cfg, result, say)
