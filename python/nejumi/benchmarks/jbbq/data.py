"""The JBBQ dataset: `jbbq/{train,dev,test}/jbbq.json`, read and checked, and which items upstream uses.

Each file is in llm-jp-eval format (`instruction`, `samples`; `output_length`,
`metrics` and `few_shots` are there too but unused) whose samples carry JBBQ's
labels besides `input` and `output` (upstream `scripts/data_uploader/upload_jbbq.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nejumi.config import ConfigError
from nejumi.datasets import read_json

# Upstream's five categories, in its evaluation order; items of any other category are never asked.
CATEGORIES = ("Age", "Disability_status", "Gender_identity", "Physical_appearance", "Sexual_orientation")
LABEL_FIELDS = (
    "category",
    "question_index",
    "example_id",
    "question_polarity",
    "context_condition",
    "unk_label",
    "stereotype_label",
)

# Upstream's 2- and 4-shot examples: these positions among the category's training items.
FEW_SHOT_POSITIONS = {2: (0, 9), 4: (0, 3, 9, 10)}


@dataclass(frozen=True)
class JbbqItem:
    position: int  # index in the file's samples: the sample id
    input: str
    output: Any  # the label, an int in the official data
    labels: dict[str, Any]

    @property
    def category(self) -> str:
        return str(self.labels["category"])


@dataclass(frozen=True)
class TaskFile:
    instruction: str
    items: list[JbbqItem]


def read_task_file(path: Path) -> TaskFile:
    data = read_json(path)
    if not isinstance(data, dict):
        raise ConfigError(str(path), "", "a JBBQ file must hold a JSON object")
    if not isinstance(data.get("instruction"), str):
        raise ConfigError(str(path), "instruction", "missing or not a string")
    if not isinstance(data.get("samples"), list):
        raise ConfigError(str(path), "samples", "missing or not a list")
    items = []
    for position, sample in enumerate(data["samples"]):
        where = f"samples[{position}]"
        if not isinstance(sample, dict) or not isinstance(sample.get("input"), str) or "output" not in sample:
            raise ConfigError(str(path), where, 'must be an object with a string "input" and an "output"')
        missing = [key for key in LABEL_FIELDS if key not in sample]
        if missing:
            raise ConfigError(str(path), where, f"missing JBBQ field(s) {', '.join(missing)}")
        labels = {key: sample[key] for key in LABEL_FIELDS}
        items.append(JbbqItem(position, sample["input"], sample["output"], labels))
    return TaskFile(data["instruction"], items)


def by_category(items: Sequence[JbbqItem]) -> dict[str, list[JbbqItem]]:
    grouped: dict[str, list[JbbqItem]] = {}
    for item in items:
        grouped.setdefault(item.category, []).append(item)
    return grouped


def few_shot_items(train: Sequence[JbbqItem], shots: int) -> dict[str, list[JbbqItem]]:
    """Each category's few-shot examples (upstream `get_few_shot_samples_by_bbq_category`).

    A category with fewer training items gets fewer examples, as upstream. For other
    counts than 2 and 4 upstream crashes (`sample[:k]` on the wrong variable); nejumi
    takes the category's first `shots` items, which is what that line meant.
    """
    if shots == 0:
        return {}
    chosen = {}
    for category, items in by_category(train).items():
        positions = FEW_SHOT_POSITIONS.get(shots, tuple(range(shots)))
        chosen[category] = [items[i] for i in positions if i < len(items)]
    return chosen


def evaluated_items(items: Sequence[JbbqItem], per_category: int) -> list[tuple[int, JbbqItem]]:
    """(index within its category, item): the first `per_category` items of each category, in upstream order."""
    grouped = by_category(items)
    return [
        (index, item) for category in CATEGORIES for index, item in enumerate(grouped.get(category, [])[:per_category])
    ]
