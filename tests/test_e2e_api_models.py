"""Whole runs of API models with model configs shaped as the official harness ships them: an OpenAI reasoning
model on the Responses API, Claude with extended thinking, Gemini, and Claude and Nova on Amazon Bedrock, each
against a loopback server the vendor's SDK really speaks (found through OPENAI_BASE_URL, ANTHROPIC_BASE_URL,
GOOGLE_GEMINI_BASE_URL and AWS_ENDPOINT_URL_BEDROCK_RUNTIME, so the configs name no endpoint)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.fake_vendors import fake_vendors
from support.services import quickstart_data, repo_root
from vendor_http import no_proxies, require_sdk

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


# nejumi's model configs in the official shapes (python/nejumi/tests/model_configs, also planned by test_plan.py).
MODEL_CONFIGS = repo_root() / "python" / "nejumi" / "tests" / "model_configs"


def model_config(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((MODEL_CONFIGS / name).read_text(encoding="utf-8"))
    return loaded


def reply(question: str) -> str:
    return "entailment" if "白い犬" in question else "neutral"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    no_proxies(monkeypatch)


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


def test_an_anthropic_thinking_config_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_sdk("anthropic", "anthropic==2.10.0")
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


def test_an_official_google_config_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_sdk("google.genai", "google-genai==3.3.0")
    config = model_config("config-gemini-2.5-flash.yaml")
    with fake_vendors(reply, fail_first=1) as server:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)
        monkeypatch.setenv("GOOGLE_API_KEY", "gemini-test")
        result = _run(config, tmp_path)
    # The 429's RetryInfo is retried (upstream's became an empty answer); thought parts are not the answer.
    assert result.stats.retried == 1
    assert result.scores["jaster/jnli/0shot/exact_match"] == pytest.approx(2 / 5)
    bodies = server.bodies("/v1beta/models/gemini-2.5-flash:generateContent")
    sent = bodies[-1]
    assert sent["safetySettings"] == config["model"]["safety_settings"]
    assert sent["generationConfig"]["thinkingConfig"] == {"thinking_budget": 0}
    # Upstream's GoogleClient: no systemInstruction, assistant turns (few-shot answers) as model turns.
    assert not any("systemInstruction" in body for body in bodies)
    assert {turn["role"] for body in bodies for turn in body["contents"]} == {"user", "model"}


@pytest.mark.parametrize(
    ("name", "operation"),
    [("config-bedrock-claude-sonnet-4.yaml", "invoke"), ("config-amazon-nova-lite.yaml", "converse")],
)
def test_an_official_amazon_bedrock_config_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, operation: str
) -> None:
    require_sdk("boto3", "boto3==1.44.5")
    config = model_config(name)
    with fake_vendors(reply, fail_first=1) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
        monkeypatch.setenv("AWS_BEDROCK_REGION", "ap-northeast-1")
        for unused in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(unused, raising=False)
        result = _run(config, tmp_path)
    assert result.stats.retried == 1  # throttling is retried (upstream's became an empty answer)
    assert result.scores["jaster/jnli/0shot/exact_match"] == pytest.approx(2 / 5)
    sent = server.bodies(f"/model/{config['model']['pretrained_model_name_or_path']}/{operation}")[-1]
    # Official: sampling only from the merged generator section (base_config's 0.1 / 1.0), whatever the
    # benchmark asks; only the request's max_tokens (jnli's 3) applies.
    if operation == "invoke":
        assert (sent["anthropic_version"], sent["max_tokens"]) == ("bedrock-2023-05-31", 3)
        assert (sent["temperature"], sent["top_p"]) == (0.1, 1.0)
    else:
        assert sent["inferenceConfig"] == {"maxTokens": 3, "temperature": 0.1, "topP": 1.0}
