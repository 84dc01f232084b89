"""What `nejumi plan` checks before a run: each thing a run would trip over later, found now.

Every check records what it finds in `Findings` (problems: the run would fail;
warnings: it would run, perhaps not as meant) and goes on, so that one plan lists
every problem. The model and its judges are checked as the runner reaches them:
their backends are built (not started) by `nejumi_inference.backends.create_backend`,
which checks their options and SDKs; their credentials are looked up in the
environment (provider_needs.py); datasets are resolved as a run resolves them, from
disk only.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from nejumi.benchmark import Benchmark
from nejumi.benchmarks import REGISTRY
from nejumi.config import Config, ConfigError
from nejumi.datasets import default_cache_dir, resolve_dataset
from nejumi.model_spec import SERVED, ModelSpec
from nejumi.provider_needs import credential_warnings, missing_credentials, missing_served_package
from nejumi_inference.backends import create_backend, vllm_options
from nejumi_inference.backends import options as backend_options
from nejumi_inference.backends.options import OptionsError

T = TypeVar("T")

# run.* flags that are not benchmarks.
RUN_OPTIONS = ("aggregate", "jmmlu_robustness")
# Where the private datasets come from (also in configs/base_config.yaml).
PRIVATE_DATA = {
    "jbbq": "the JBBQ artifact is private (llm-leaderboard/nejumi-leaderboard4-private); without access, "
    "request the data from ynklab/JBBQ_data",
    "toxicity": "the toxicity data is private LINE Yahoo data (llm-leaderboard/nejumi-leaderboard4-private)",
}


@dataclass
class Findings:
    """Problems (the run would fail) and warnings (it would run, maybe not as meant), each once, in order."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def attempt(self, step: Callable[..., T], *args: Any, hint: str = "") -> T | None:
        """`step(*args)`, or None with its ConfigError (and `hint`) recorded as a problem."""
        try:
            return step(*args)
        except ConfigError as err:
            self.problem(f"{err}{hint}")
            return None


def data_hint(name: str) -> str:
    private = f"; {PRIVATE_DATA[name]}" if name in PRIVATE_DATA else ""
    return (
        f" (plan reads data from disk only; where to get it: docs/datasets.md{private}; "
        f"or set run.{name}: false to skip {name})"
    )


def check_data(name: str, benchmark: Benchmark, findings: Findings) -> bool:
    """Resolves the benchmark's datasets as a run does, but only from disk (plan downloads nothing)."""
    folders = {}
    for key, dataset in benchmark.datasets.items():
        folder = findings.attempt(resolve_dataset, dataset, default_cache_dir(), None, _quiet, hint=data_hint(name))
        if folder is None:
            return False
        folders[key] = folder

    def checked() -> bool:
        benchmark.check(folders)
        return True

    return findings.attempt(checked, hint=data_hint(name)) is not None


def _quiet(_: str) -> None:
    """resolve_dataset's progress lines ("using the cached ...") are not plan's business."""


def check_access(
    cfg: Config,
    spec: ModelSpec,
    api_key: str,
    key_env_key: str,
    environ: Mapping[str, str],
    home: Path,
    findings: Findings,
) -> None:
    """The model (or judge) can be reached: its backend builds and its credentials are set."""
    where = f"{cfg.source_of(api_key)}: {api_key}"
    served = missing_served_package(spec)
    if served:
        findings.problem(f"{where}: {served}")
    problem = backend_problem(spec)
    if problem:
        key, problem = option_key(problem, spec) if spec.api in SERVED else (api_key, problem)
        findings.problem(f"{cfg.source_of(key)}: {key}: {problem}")
    # A key variable the model config names itself is needed even where keys are optional;
    # the base config's judge default (OPENAI_API_KEY) is not such a choice.
    explicit = cfg.source_of(key_env_key) in (str(cfg.model_file), "<override>") and cfg.get(key_env_key) is not None
    for names in missing_credentials(spec, explicit, environ):
        findings.problem(f"{where}: {names} is not set ({spec.api} reads it to reach {spec.name})")
    for message in credential_warnings(spec, environ, home):
        findings.warn(f"{where}: {message}")
    if spec.backend == "vllm" and spec.api in SERVED:
        for key in unread_vllm_keys(spec):
            findings.warn(f"{cfg.source_of(f'vllm.{key}')}: vllm.{key}: not read by nejumi's vLLM backend (ignored)")


def backend_problem(spec: ModelSpec) -> str | None:
    """Builds (does not start) the backend a run would use, as the run builds it: its options, the
    vendor SDK, the chat template, the GGUF file; the reason it cannot be built, or None."""
    if spec.api == "grpc":
        return None
    served = spec.api in SERVED
    config = spec.backend_config if served else spec.provider_config()
    # Unread keys are plan's own warnings; the options parser would log them a second time.
    options_log = logging.getLogger(backend_options.__name__)
    level = options_log.level
    options_log.setLevel(logging.ERROR)
    try:
        create_backend(spec.backend, spec.name, config, queue_owned=not served)
    except (OptionsError, ValueError) as err:
        return str(err).removeprefix("--backend-config: ")
    except ImportError as err:  # a backend module that cannot load fails the run just the same
        return f"the {spec.backend} backend cannot be loaded: {err}"
    finally:
        options_log.setLevel(level)
    return None


def option_key(message: str, spec: ModelSpec) -> tuple[str, str]:
    """The config key a served backend's options error is about (`vllm.<key>` when it names one), and the rest."""
    section = "llamacpp" if spec.backend == "llamacpp" else "vllm"
    for key in spec.backend_config:
        if message.startswith(f"{key}: "):
            return f"{section}.{key}", message.removeprefix(f"{key}: ")
        if f"option {key!r}" in message:
            return f"{section}.{key}", message
    return section, message


def unread_vllm_keys(spec: ModelSpec) -> list[str]:
    known = {f.name for f in dataclasses.fields(vllm_options.VllmOptions)}
    known |= vllm_options.IGNORED_KEYS | set(vllm_options.ALIASES)
    return sorted(set(spec.backend_config) - known)


def check_run_flags(cfg: Config, findings: Findings) -> None:
    run = findings.attempt(cfg.get_mapping, "run") or {}
    for key, value in run.items():
        if value is True and key not in REGISTRY and key not in RUN_OPTIONS:
            findings.warn(f"{cfg.source_of(f'run.{key}')}: run.{key}: nejumi has no {key} benchmark yet; it is not run")
