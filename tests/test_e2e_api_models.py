"""Whole runs of API models with model configs shaped as the official harness ships them: an OpenAI reasoning
model on the Responses API and Claude with extended thinking, each against a loopback server the vendor's SDK
really speaks (found through OPENAI_BASE_URL / ANTHROPIC_BASE_URL, so the configs name no endpoint)."""

from __future__ import annotations

import asyncio
import importlib
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.fake_vendors import fake_vendors
from support.services import quickstart_data

from nejumi.config import load_config
from nejumi.runner import evaluate

# What an official config sets beside the test's own keys (data folder, one task, no W&B).
O3_CONFIG: dict[str, Any] = {
    "api": "openai_responses",
    "batch_size": 32,
    "inference_interval": 0,
    "model": {
        "pretrained_model_name_or_path": "o3-2025-04-16",
        "bfcl_model_id": "o3-2025-04-16-FC",
        "size_category": "api",
        "size": None,
        "release_date": "4/16/2025",
    },
    "wandb": {"run_name": "o3-2025-04-16"},
    "generator": {"max_tokens": 100000, "temparature": "None", "extra_body": {"reasoning": {"effort": "high"}}},
}
CLAUDE_CONFIG: dict[str, Any] = {
    "api": "anthropic",
    "batch_size": 8,
    "model": {
        "pretrained_model_name_or_path": "claude-test-1",
        "size_category": "api",
        "release_date": "5/22/2025",
        "thinking": {"budget_tokens": 2048},
    },
    "wandb": {"run_name": "claude-test-1"},
}
TEST_KEYS: dict[str, Any] = {
    "jaster": {"data_dir": str(quickstart_data()), "tasks": ["jnli"]},
    "error_handling": {"request_failure": {"max_backoff_s": 0.05}},
    "nejumi": {"wandb": "off"},
}


def reply(question: str) -> str:
    return "entailment" if "白い犬" in question else "neutral"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def _run(config: dict[str, Any], tmp_path: Path) -> Any:
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump({**config, **TEST_KEYS}, allow_unicode=True), encoding="utf-8")
    return asyncio.run(evaluate(load_config(path), tmp_path / "run", show_progress=False))


def test_an_official_openai_responses_config_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_vendors(reply, fail_first=1) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        result = _run(O3_CONFIG, tmp_path)
    assert result.stats.retried == 1
    assert result.scores["jaster/jnli/0shot/exact_match"] == pytest.approx(2 / 5)
    sent = server.bodies("/v1/responses")[-1]
    assert sent["model"] == "o3-2025-04-16"
    # Official: temperature/top_p and the typo dropped, extra_body.reasoning not promoted, max(max_tokens, 16).
    assert sorted(sent) == ["input", "max_output_tokens", "model"]
    assert sent["max_output_tokens"] == 16


def require_extra(module: str, install: str) -> None:
    """Skip without an optional extra; under CI=true its absence fails the test."""
    try:
        importlib.import_module(module)
    except ImportError:
        reason = f"the optional extra {module!r} is not installed ({install})"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(reason + " — required when CI=true")
        pytest.skip(reason)


def test_an_anthropic_thinking_config_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_extra("anthropic", "pip install anthropic==2.10.0")
    with fake_vendors(reply, fail_first=2) as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        result = _run(CLAUDE_CONFIG, tmp_path)
    # Rate limits are retried (upstream's became TypeErrors), the thinking stays out of the scored answer.
    assert result.stats.retried == 2
    assert result.scores["jaster/jnli/0shot/exact_match"] == pytest.approx(2 / 5)
    sent = server.bodies("/v1/messages")[-1]
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert (sent["max_tokens"], sent["temperature"]) == (3 + 2048, 1.0)
