"""Writes a small jaster-format dataset (our own items) for unit tests."""

from __future__ import annotations

import json
from pathlib import Path

TASKS = {
    "jnli": ("前提と仮説の関係を答えてください。", 3, ["exact_match"]),
    "jsquad": ("文章から抽出してください。", 25, ["char_f1"]),
    "mgsm": ("数字のみで答えてください。", 10, ["exact_match"]),
    "jmmlu": ("記号で答えてください。", 1, ["exact_match"]),
    "jmmlu_SymbolChoice": ("記号（例：$）で答えてください。", 1, ["exact_match"]),
    "jmmlu_IncorrectChoice": ("不正解を全て選んでください。", 1, ["exact_match"]),
}


def write_dataset(root: Path, test_items: int = 3) -> Path:
    for task, (instruction, length, metrics) in TASKS.items():
        for subset, count in (("train", 4), ("dev", 2), ("test", test_items)):
            if task == "mgsm" and subset == "dev":
                continue
            samples = [{"input": f"{task} {subset} 問題{i}", "output": f"答{i}"} for i in range(count)]
            doc = {"instruction": instruction, "output_length": length, "metrics": metrics, "samples": samples}
            path = root / subset / f"{task}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return root
