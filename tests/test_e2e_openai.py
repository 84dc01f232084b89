"""An API model over OpenAI-compatible HTTP, through the same queue and store."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
import yaml
from support.fake_openai import fake_openai
from support.services import quickstart_data

from nejumi.config import load_config
from nejumi.runner import evaluate


def reply(question: str) -> str:
    return "entailment" if "白い犬" in question else "neutral"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def test_openai_compatible_endpoint_with_rate_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_KEY", "sk-test")
    with fake_openai(reply, fail_first=2) as server:
        config = tmp_path / "api.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "api": "openai-compatible",
                    "base_url": server["base_url"],
                    "api_key_env": "FAKE_KEY",
                    "batch_size": 2,
                    "model": {"pretrained_model_name_or_path": "my-org/my-model"},
                    "generator": {
                        "temperature": 0.0,
                        "extra_body": {"chat_template_kwargs": {"enable_thinking": False}},
                    },
                    "error_handling": {"request_failure": {"max_backoff_s": 0.05}},
                    "jaster": {"data_dir": str(quickstart_data()), "tasks": ["jnli"]},
                    "nejumi": {"wandb": "off"},
                }
            ),
            encoding="utf-8",
        )
        result = asyncio.run(evaluate(load_config(config), tmp_path / "run", show_progress=False))
    assert result.stats.retried == 2
    assert result.scores["jaster/jnli/0shot/exact_match"] == pytest.approx(2 / 5)
    sent = server["requests"][-1]
    assert sent["model"] == "my-org/my-model"
    assert sent["max_tokens"] == 3 and sent["temperature"] == 0.0
    assert sent["chat_template_kwargs"] == {"enable_thinking": False}
    assert os.environ["FAKE_KEY"] == "sk-test"
