"""`nejumi plan CONFIG`: check a model config and budget its run, sending no request.

It reads the config as a run does (base config merged under it), then checks what a
run would trip over later: every setting, each enabled benchmark's data (local, or a
verified W&B artifact already in the cache: plan downloads nothing), the served
model's backend options, the provider SDKs and the API keys of the model and of each
judge. Then it plans every benchmark as the runner does and runs the benchmarks' real
flows against stand-ins (dry_run.py) to count the requests, judge calls and tokens,
and prices them for API models (pricing.py). Every problem is listed, not only the
first; the exit status is 2 when there is one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nejumi import token_estimate
from nejumi.benchmarks import REGISTRY, BenchmarkEntry
from nejumi.cli import user_path
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError, load_config
from nejumi.dry_run import Count, JudgeTally, Tally, count_calls
from nejumi.model_spec import SERVED, JudgeSpec, ModelSpec
from nejumi.plan_checks import Findings, check_access, check_data, check_run_flags, data_hint
from nejumi.plan_report import as_json, render
from nejumi.pricing import Price, price_of
from nejumi.settings import AggregateSettings, RunSettings, WandbSettings, failure_policy

# Served by nejumi itself (or a running nejumi service): no per-token bill.
LOCAL_APIS = (*SERVED, "grpc")
# The parsers RunSettings.from_config is made of.
SETTINGS_PARTS: tuple[Callable[[Config], object], ...] = (
    ModelSpec.from_config,
    Compatibility.from_config,
    WandbSettings.from_config,
    AggregateSettings.from_config,
    failure_policy,
)
# OpenAI's reasoning models think on every request, whatever the config says.
_OPENAI_REASONING = re.compile(r"(^|/)(o1|o3|o4|gpt-5)([-.]|$)")


@dataclass(frozen=True)
class Priced:
    """Who answers a kind of call, and at what price (None: unknown; billed False: served locally)."""

    model: str
    api: str
    billed: bool
    price: Price | None

    @classmethod
    def of(cls, spec: ModelSpec) -> Priced:
        billed = spec.api not in LOCAL_APIS
        return cls(spec.name, spec.api, billed, price_of(spec.name) if billed else None)

    def cost(self, tally: Tally, most: bool = False) -> float | None:
        """USD for `tally` (typical output, or its max tokens); 0 when served locally, None when unknown."""
        if not self.billed:
            return 0.0
        output = tally.max_output if most else tally.typical_output
        if self.price is None or output is None:
            return None
        return self.price.cost(tally.prompt_tokens, output)


@dataclass(frozen=True)
class JudgePlan:
    section: str
    priced: Priced
    tally: JudgeTally


@dataclass(frozen=True)
class BenchmarkPlan:
    name: str
    count: Count
    judges: tuple[JudgePlan, ...]


@dataclass
class Plan:
    config: Path
    model: Priced | None
    # The config key that makes the model reason (its thinking is budgeted as output), or None.
    reasoning: str | None
    benchmarks: list[BenchmarkPlan]
    findings: Findings

    @property
    def ok(self) -> bool:
        return not self.findings.problems


def make_plan(cfg: Config, environ: Mapping[str, str] | None = None, home: Path | None = None) -> Plan:
    """Checks `cfg` and counts its run; `environ` and `home` are where keys and AWS files are looked up."""
    environ = os.environ if environ is None else environ
    home = Path.home() if home is None else home
    findings = Findings()
    settings = findings.attempt(RunSettings.from_config, cfg)
    # RunSettings stops at its first bad key; its parts, parsed alone, report the others too.
    for part in SETTINGS_PARTS:
        findings.attempt(part, cfg)
    compat = findings.attempt(Compatibility.from_config, cfg) or Compatibility()
    spec = settings.model if settings else findings.attempt(ModelSpec.from_config, cfg)
    reasoning = None
    if spec is not None:
        check_access(cfg, spec, "api", "api_key_env", environ, home, findings)
        reasoning = reasoning_key(cfg, spec)
    check_run_flags(cfg, findings)
    enabled = [entry for name, entry in REGISTRY.items() if findings.attempt(cfg.get_bool, f"run.{name}")]
    if not enabled:
        findings.problem(
            str(cfg.error("run", f"no benchmark is enabled (set run.<name>: true; known: {', '.join(REGISTRY)})"))
        )
    benchmarks = [
        planned
        for entry in enabled
        if (planned := plan_benchmark(cfg, entry, compat, reasoning is not None, environ, home, findings))
    ]
    return Plan(cfg.model_file, Priced.of(spec) if spec else None, reasoning, benchmarks, findings)


def plan_benchmark(
    cfg: Config,
    entry: BenchmarkEntry,
    compat: Compatibility,
    reasoning: bool,
    environ: Mapping[str, str],
    home: Path,
    findings: Findings,
) -> BenchmarkPlan | None:
    """One enabled benchmark: its settings, judges, data and counted calls (None after a problem)."""
    name = entry.name
    benchmark = findings.attempt(entry.from_config, cfg, compat, findings.warn)
    if benchmark is None:
        return None
    for judge in benchmark.judges:
        check_access(cfg, judge.model, f"{judge.section}.api", f"{judge.section}.api_key_env", environ, home, findings)
    if not check_data(name, benchmark, findings):
        return None
    samples = findings.attempt(benchmark.plan, hint=data_hint(name))
    if samples is None:
        return None
    try:
        count = count_calls(benchmark, samples, reasoning)
    except Exception as err:  # a flow the stand-ins cannot drive is a nejumi bug to report, not a crash
        findings.problem(f"{name}: counting its requests failed: {type(err).__name__}: {err}")
        return None
    if count.executions and not cfg.get("nejumi.sandbox"):
        findings.problem(str(cfg.error("nejumi.sandbox", f"{name} runs code: set it to the host:port of a sandbox")))
    return BenchmarkPlan(name, count, tuple(judge_plans(benchmark.judges, count)))


def judge_plans(judges: Sequence[JudgeSpec], count: Count) -> list[JudgePlan]:
    specs = {judge.section: judge for judge in judges}
    return [JudgePlan(section, Priced.of(specs[section].model), tally) for section, tally in count.judges.items()]


def reasoning_key(cfg: Config, spec: ModelSpec) -> str | None:
    """The setting that makes the model think before it answers, or None."""
    keyed = {
        "generator.reasoning": cfg.get("generator.reasoning") is not None,
        "generator.extra_body.reasoning": cfg.get("generator.extra_body.reasoning") is not None,
        "generator.include_reasoning": cfg.get("generator.include_reasoning") is True,
        "generator.extra_body.chat_template_kwargs.enable_thinking": (
            cfg.get("generator.extra_body.chat_template_kwargs.enable_thinking") is True
        ),
        "model.thinking": bool(cfg.get("model.thinking")),
        "model.thinking_budget": cfg.get("model.thinking_budget") not in (None, 0),
    }
    if spec.backend == "vllm":
        extra = cfg.get("vllm.extra_args") or []
        flags = extra if isinstance(extra, str) else " ".join(str(arg) for arg in extra)
        keyed["vllm.reasoning_parser"] = bool(cfg.get("vllm.reasoning_parser"))
        keyed["vllm.extra_args"] = "--reasoning-parser" in flags
    if cfg.get("generator.extra_body.chat_template_kwargs.enable_thinking") is False:
        # A reasoning parser with thinking switched off in the template: the model answers directly.
        return None
    found = next((key for key, on in keyed.items() if on), None)
    if found is None and _OPENAI_REASONING.search(spec.name.lower()):
        return "model.pretrained_model_name_or_path (an OpenAI reasoning model)"
    return found


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nejumi plan",
        description="Check a model config and estimate its run (requests, tokens, judge calls, API cost) "
        "without sending any request. Exit status 2 when a run would fail; every problem is listed.",
        epilog=token_estimate.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", help="model config YAML (merged over configs/base_config.yaml, as a run does)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    return parser


def main(argv: list[str]) -> int:
    """`nejumi plan CONFIG [--json]`: 0 when a run could start, 2 when it would fail (every problem listed)."""
    args = parser().parse_args(argv)
    try:
        cfg = load_config(user_path(args.config))
    except ConfigError as err:
        print(f"nejumi plan: config error: {err}", file=sys.stderr)
        return 2
    plan = make_plan(cfg)
    print(json.dumps(as_json(plan), ensure_ascii=False, indent=2) if args.json else render(plan))
    return 0 if plan.ok else 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
