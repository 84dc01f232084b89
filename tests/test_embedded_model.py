"""The real embedded model (SmolLM2-135M-Instruct on llama.cpp), spawned by the runner."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml
from support.services import quickstart_data

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
