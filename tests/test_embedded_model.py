"""The real embedded model (SmolLM2-135M-Instruct on llama.cpp), spawned by the runner."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml
from support.services import quickstart_data, repo_root, scripted_service, write_judged_config

from nejumi.config import load_config
from nejumi.runner import evaluate
from nejumi.store import Store


def test_runner_serves_the_embedded_model_itself(tmp_path: Path) -> None:
    config = tmp_path / "embedded.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "api": "llamacpp",
                "model": {"pretrained_model_name_or_path": "embedded"},
                "llamacpp": {"n_parallel": 2, "n_ctx": 4096},
                "batch_size": 2,
                "num_few_shots": 0,
                "jaster": {
                    "data_dir": str(quickstart_data()),
                    "tasks": ["jsquad"],
                    "max_samples": {"test": 2, "dev": 0},
                },
                "nejumi": {"wandb": "off"},
            }
        ),
        encoding="utf-8",
    )
    run_dir = tmp_path / "run"
    result = asyncio.run(evaluate(load_config(config), run_dir, show_progress=False))
    assert result.stats.sent == 2
    assert 0.0 <= result.scores["jaster/jsquad/0shot/char_f1"] <= 1.0
    with Store(run_dir / "store.sqlite") as store:
        transcripts = [transcript for _, transcript in store.transcripts()]
    answers = [event.model_call.response for t in transcripts for event in t.events]
    assert len(answers) == 2
    assert all(a.text.strip() and a.usage.completion_tokens > 0 and a.finish_reason for a in answers)


def test_the_embedded_model_judges_as_the_quick_start_asks(tmp_path: Path) -> None:
    """MT-bench answered by the scripted service, judged by the embedded model the runner spawns (quickstart.yaml)."""
    with scripted_service(tmp_path / "model", {"rules": [], "default": "echo"}) as model:
        config = write_judged_config(
            tmp_path / "mtbench.yaml",
            "mtbench",
            repo_root() / "configs" / "quickstart_data" / "mtbench",
            model,
            model,
            section={"judge_max_attempts": 1, "generator_config": {"max_tokens": 16}},
            llamacpp={"n_parallel": 2, "n_ctx": 4096},
        )
        document = yaml.safe_load(config.read_text(encoding="utf-8"))
        document["mtbench"]["judge"] = {
            "api": "llamacpp",
            "model": "embedded",
            "parallel": 2,
            "params": {"max_tokens": 96},
        }
        config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        result = asyncio.run(evaluate(load_config(config), tmp_path / "run", show_progress=False))
    with Store(tmp_path / "run" / "store.sqlite") as store:
        transcripts = [transcript for _, transcript in store.transcripts()]
    verdicts = [event.model_call for t in transcripts for event in t.events if event.model_call.judge]
    # Two questions of two turns, each asked of the judge once (judge_max_attempts: 1).
    assert len(verdicts) == 4 and {call.judge for call in verdicts} == {"mtbench.judge"}
    assert all(call.response.text.strip() and call.response.usage.completion_tokens > 0 for call in verdicts)
    # A 135M judge may well rate nothing validly; whatever it did is counted, turn by turn.
    scores = result.scores
    assert scores["mtbench/_all/0shot/invalid_verdicts"] == scores["mtbench/_all/0shot/unjudged_turns"] <= 4
