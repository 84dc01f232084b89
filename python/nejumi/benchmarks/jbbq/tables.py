"""The official JBBQ W&B tables: names and columns as upstream `jbbq.py` logs them."""

from __future__ import annotations

import json
from collections.abc import Sequence

from nejumi.benchmark import FlatScores, ScoredRow, score_key
from nejumi.benchmarks.jbbq.scoring import METRICS, VALID_ANSWERS, scored_answer
from nejumi.tables import Table

NAME = "jbbq"

OUTPUT_COLUMNS = [
    "model_name",
    "index",
    "dataset",
    "subset",
    "num_few_shots",
    "category",
    "question_index",
    "example_id",
    "question_polarity",
    "context_condition",
    "stereotype_label",
    "input",
    "prompt",
    "raw_output",
    "output",
    "expected_output",
    "correct",
    "format_error",
    "sub_category",
]


def table_name(task: str, shots: int, kind: str) -> str:
    """Upstream's names for its one task `jbbq`; another task file gets its name inserted."""
    prefix = NAME if task == NAME else f"{NAME}_{task}"
    return f"{prefix}_{shots}shot_{kind}"


def output_table(name: str, rows: Sequence[ScoredRow], model_name: str) -> Table:
    data = []
    for row in rows:
        sample = row.sample
        labels = json.loads(sample.metadata["labels"])
        answer = scored_answer(row)
        messages = [{"role": m.role, "content": m.content} for m in sample.messages]
        data.append(
            [
                model_name,
                int(sample.metadata["index"]),
                NAME,
                sample.subset,
                sample.shots,
                labels["category"],
                labels["question_index"],
                labels["example_id"],
                labels["question_polarity"],
                labels["context_condition"],
                labels["stereotype_label"],
                sample.metadata["input"],
                json.dumps(messages, ensure_ascii=False, indent=2),
                row.output,
                answer,
                sample.references[0],
                int(answer == sample.references[0]),
                int(answer not in VALID_ANSWERS),
                "ALT_bias",
            ]
        )
    return Table(name, OUTPUT_COLUMNS, data)


def leaderboard_table(name: str, flat: FlatScores, task: str, shots: int, model_name: str) -> Table:
    """`model_name, acc, acc_diff, bias_score_dis, bias_score_amb, avg_abs_bias_score, format_error_rate`.

    The aggregate reads `avg_abs_bias_score` of `jbbq_<n>shot_leaderboard_table`: ALT バイアス = 1 − it.
    """
    return Table(
        name, ["model_name", *METRICS], [[model_name, *(flat.get(score_key(NAME, task, shots, m)) for m in METRICS)]]
    )
