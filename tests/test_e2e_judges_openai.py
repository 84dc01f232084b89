"""The four judged benchmarks end to end: the embedded model answers, an OpenAI-protocol judge judges.

The judge is a loopback server speaking the Responses API with structured output (upstream's
judge client; `api: openai` with a base_url) and, for Toxicity, Chat Completions with a JSON
schema (`api: openai-compatible`, as a local judge server offers). It answers with valid
verdicts of the schema each benchmark asks for, except where scripted: an invalid verdict
(asked again, then counted), a 429 with Retry-After and a timeout (both retried by the
queue). The report's judge usage must agree with what the server counted.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.fake_judge import Reply, fake_judge
from support.services import repo_root

from nejumi.config import load_config
from nejumi.runner import evaluate

DATA = repo_root() / "configs" / "quickstart_data"
SCHEMAS = {"JudgeSingle", "ExtractedAnswer", "JudgeOutput"}


def judged_config(path: Path, base_url: str) -> Path:
    responses = {"api": "openai", "base_url": base_url, "parallel": 2, "timeout_s": 2}
    config: dict[str, Any] = {
        "api": "llamacpp",
        "model": {"pretrained_model_name_or_path": "embedded"},
        "llamacpp": {"n_parallel": 2, "n_ctx": 4096},
        "batch_size": 2,
        "testmode": True,
        "run": {"jaster": False, "mtbench": True, "hle": True, "hallulens": True, "toxicity": True},
        "mtbench": {
            "data_dir": str(DATA / "mtbench"),
            "generator_config": {"max_tokens": 16},
            "judge_max_attempts": 3,
            "judge": responses,
        },
        "hle": {"data_dir": str(DATA / "hle"), "generator_config": {"max_tokens": 16}, "judge": responses},
        "hallulens": {"data_dir": str(DATA / "hallulens"), "generator_config": {"max_tokens": 16}, "judge": responses},
        "toxicity": {
            "data_dir": str(DATA / "toxicity"),
            "generator_config": {"max_tokens": 16},
            "judge": {"api": "openai-compatible", "base_url": base_url, "model": "local-judge", "parallel": 2},
        },
        "error_handling": {"request_failure": {"max_retries": 3, "max_backoff_s": 0.1}},
        "nejumi": {"wandb": "off"},
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def judge_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")


def test_judged_benchmarks_with_an_openai_judge(tmp_path: Path) -> None:
    rules = {
        # The writing question's second-turn verdict: a refusal first (asked again), then valid.
        "子ども向け": [Reply(text="I cannot rate this.")],
        # HalluLens' first prompt: rate limited once; HLE's first dev question: times out once.
        "ねじみ珈琲": [Reply(status=429, retry_after_s=0)],
        "9から4を引く": [Reply(delay_s=4)],
    }
    with fake_judge(rules) as judge:
        config = judged_config(tmp_path / "judged.yaml", judge.base_url)
        result = asyncio.run(evaluate(load_config(config), tmp_path / "run", show_progress=False))

    paths = {path for path, _, _ in judge.requests}
    assert paths == {"/v1/responses", "/v1/chat/completions"}
    schemas = judge.schemas()
    assert set(schemas) >= SCHEMAS
    # Toxicity asked through Chat Completions, one schema per category.
    assert {name for path, _, name in judge.requests if path == "/v1/chat/completions"} == {
        "ProhibitedActivity",
        "SocialNorm",
        "Fairness",
        "Unanswerable",
    }
    # Two questions x two turns for MT-bench, plus the one verdict asked again.
    assert schemas["JudgeSingle"] == 5
    assert result.scores["mtbench/_all/0shot/invalid_verdicts"] == 1.0
    assert result.scores["mtbench/_all/0shot/AVG_mtbench"] is not None
    # testmode: no HLE test question is asked; the dev questions are judged.
    assert result.scores["hle/dev/0shot/accuracy"] == 1.0
    assert result.scores["hallulens/test/0shot/hallucination_resistance"] is not None
    assert result.scores["toxicity/_all/0shot/unjudged"] == 0.0
    # The rate-limited and the timed-out call were retried by the judge queues.
    assert result.judge_stats["hallulens.judge"].retried == 1
    assert result.judge_stats["hle.judge"].retried == 1
    usage = {u.section: u for u in result.judges()}
    # Every attempt, retries included, reached the server and is counted once.
    assert sum(u.sent for u in usage.values()) == len(judge.requests)
    assert usage["mtbench.judge"].invalid_verdicts == 1
    assert usage["mtbench.judge"].model == "gpt-4.1-2025-04-14"
    assert usage["mtbench.judge"].estimated_cost_usd is not None
    written = json.loads((tmp_path / "run" / "results.json").read_text(encoding="utf-8"))
    assert [u["section"] for u in written["judge_usage"]] == sorted(usage)
    assert "testmode is on" in written["not_comparable"][0]
