"""The nejumi command line.

    nejumi CONFIG.yaml [--run-dir DIR] [--force-new]  evaluate a model (the default)
    nejumi score RUN_DIR                              re-score a run from its store, no inference
    nejumi score PREDICTIONS.jsonl --data DIR         re-score predictions, no inference
    nejumi report RUN_DIR                             rebuild RUN_DIR/report.html from the store, no inference
    nejumi aggregate INPUTS.json                      roll leaderboard tables up to GLP / ALT / TOTAL
    nejumi plan CONFIG.yaml [--json]                  check a config and estimate its run; sends nothing

Under `bazel run`, relative paths resolve against the directory you ran from.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from pathlib import Path

from nejumi import __version__
from nejumi.compat import MODES, Compatibility
from nejumi.config import ConfigError, load_config
from nejumi.request_queue import RunAborted
from nejumi.service_process import ServiceError
from nejumi.store import StoreError

EPILOG = """\
examples:
  nejumi configs/quickstart.yaml
      evaluate the embedded CPU model on the quick-start data (no keys, no network)
  nejumi configs/my-model.yaml --run-dir runs/my-model
      evaluate; re-running the same command resumes where it stopped
  nejumi score runs/my-model
      re-score a run from its store (a changed scorer re-scores; nothing is asked again)
  nejumi score runs/my-model/predictions.jsonl --data /data/jaster
      re-score predictions and print "<benchmark>/<task>/<shots>shot/<metric>": value
  nejumi report runs/my-model
      rebuild runs/my-model/report.html from the store (nothing is asked again)
  nejumi aggregate inputs.json
      roll per-benchmark leaderboard tables up to the leaderboard row (GLP / ALT / TOTAL)
  nejumi plan configs/my-model.yaml
      check config, data, SDKs and keys; count requests, tokens, judge calls and API cost (sends nothing)

A model config is merged over configs/base_config.yaml exactly as the official
Nejumi Leaderboard 4 harness does; upstream model configs keep working.
Results go to the run directory: results.json, predictions.jsonl, report.html,
store.sqlite (every request and answer), and a W&B run (offline without WANDB_API_KEY).
"""


def user_path(text: str) -> Path:
    """Paths on the command line are relative to where the user ran the command."""
    path = Path(text).expanduser()
    if path.is_absolute():
        return path
    return Path(os.environ.get("BUILD_WORKING_DIRECTORY", os.getcwd())) / path


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "run"


def eval_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nejumi",
        description="Evaluate an LLM on the Nejumi Leaderboard 4 suite with official-identical scores.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", help="model config YAML (merged over configs/base_config.yaml)")
    parser.add_argument(
        "--run-dir",
        help="where results and the resumable store go (default: <nejumi.runs_dir>/<config name>)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (for logs)")
    parser.add_argument(
        "--force-new",
        action="store_true",
        help="start afresh in the run directory: its stored answers are set aside (store.<time>.sqlite), not used",
    )
    parser.add_argument("--version", action="version", version=f"nejumi {__version__}")
    return parser


def score_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nejumi score",
        description="Re-score a run directory, or a predictions.jsonl (benchmark, task, shots, id, output per line), "
        "without inference.",
    )
    parser.add_argument("source", help="a run directory, or a predictions.jsonl written by a run (or your own)")
    parser.add_argument(
        "--data", help="with a predictions.jsonl: the dataset folder (for jaster: the one holding test/, dev/, train/)"
    )
    parser.add_argument(
        "--compatibility",
        choices=MODES,
        default="official",
        help="with a predictions.jsonl: official quirks or corrected (a run directory keeps its own)",
    )
    return parser


def aggregate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nejumi aggregate",
        description="Roll per-benchmark leaderboard tables up to the leaderboard row, as the official aggregate "
        'does, and print "aggregate/<scenario>/<column>": value (NaN as null).',
    )
    parser.add_argument(
        "inputs",
        help="JSON: {scenario: {run_flags_override: {benchmark: bool}, tables: {table name: [row, ...]}, "
        "num_few_shots (default 2)}}; flags start from upstream's base_config (every benchmark on)",
    )
    parser.add_argument(
        "--compatibility",
        choices=MODES,
        default="official",
        help="official quirks (AVG_jaster_* includes the jaster AVG column) or corrected",
    )
    return parser


def report_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nejumi report",
        description="Rebuild a run directory's report.html from its store, without inference "
        "(scores are re-computed as `nejumi score RUN_DIR` does).",
    )
    parser.add_argument("run_dir", help="a run directory (holding store.sqlite)")
    return parser


def run_report(argv: list[str]) -> int:
    args = report_parser().parse_args(argv)
    from nejumi.rescore import rebuild_run
    from nejumi.sinks.report_html import write_report

    rebuilt = rebuild_run(user_path(args.run_dir), lambda message: print(message, file=sys.stderr))
    path = write_report(rebuilt.result, rebuilt.settings.model, rebuilt.settings.compatibility)
    print(path)
    return 0


def run_aggregate(argv: list[str]) -> int:
    args = aggregate_parser().parse_args(argv)
    from nejumi.aggregate import aggregate_scenarios
    from nejumi.datasets import read_json

    path = user_path(args.inputs)
    document = read_json(path)
    if not isinstance(document, dict) or not all(isinstance(spec, dict) for spec in document.values()):
        raise ConfigError(str(path), "", "must map each scenario to {run_flags_override, tables}")
    scores = aggregate_scenarios(document, Compatibility(args.compatibility))
    print(json.dumps(scores, ensure_ascii=False, indent=2))
    return 0


def run_eval(argv: list[str]) -> int:
    args = eval_parser().parse_args(argv)
    from nejumi.runner import evaluate, say_stderr

    cfg = load_config(user_path(args.config))
    if args.run_dir:
        run_dir = user_path(args.run_dir)
    else:
        runs = cfg.get_str("nejumi.runs_dir", "runs") or "runs"
        run_dir = user_path(runs) / slug(cfg.name)
    result = asyncio.run(evaluate(cfg, run_dir.resolve(), show_progress=not args.no_progress, force_new=args.force_new))
    say_stderr(
        f"done in {result.seconds:.1f} s: {result.stats.sent} requests sent, {result.stats.from_store} from the store"
    )
    say_stderr(f"results: {run_dir / 'results.json'}\nreport:  {run_dir / 'report.html'}")
    print(json.dumps(result.scores, ensure_ascii=False, indent=2))
    return 0


def run_score(argv: list[str]) -> int:
    args = score_parser().parse_args(argv)
    from nejumi.rescore import rescore_predictions, rescore_run

    def warn(message: str) -> None:
        print(message, file=sys.stderr)

    source = user_path(args.source)
    if source.is_dir():
        scores = rescore_run(source, warn)
    else:
        if not args.data:
            raise ConfigError(str(source), "", "re-scoring a predictions file needs --data DIR (the dataset folder)")
        data = user_path(args.data)
        if not data.is_dir():
            raise ConfigError(str(data), "", "dataset folder not found")
        scores = rescore_predictions(source, data, Compatibility(args.compatibility), warn)
    print(json.dumps(scores, ensure_ascii=False, indent=2, sort_keys=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv and argv[0] == "score":
            return run_score(argv[1:])
        if argv and argv[0] == "report":
            return run_report(argv[1:])
        if argv and argv[0] == "aggregate":
            return run_aggregate(argv[1:])
        if argv and argv[0] == "plan":
            from nejumi.plan import main as run_plan

            return run_plan(argv[1:])
        if argv and argv[0] == "eval":
            argv = argv[1:]
        return run_eval(argv)
    except ConfigError as err:
        print(f"nejumi: config error: {err}", file=sys.stderr)
        return 2
    except StoreError as err:
        print(f"nejumi: {err}", file=sys.stderr)
        return 2
    except (RunAborted, ServiceError) as err:
        print(f"nejumi: run stopped: {err}", file=sys.stderr)
        print("nejumi: every answer received so far is stored; re-run the same command to resume.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nnejumi: interrupted; re-run the same command to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
