"""MT-bench end to end through two real gRPC inference services (the model and the judge).

A three-question fixture in the official layout (question/, reference_answer/,
judge_prompt/): both turns are asked with the first answer in the history, each turn
is judged with structured output, an invalid verdict is asked again and then counted,
and a resumed run asks nothing again. The run's predictions.jsonl re-scores to the same
numbers without a judge.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from support.services import scripted_service, write_judged_config

from nejumi.benchmarks.mtbench import NAME
from nejumi.compat import Compatibility
from nejumi.config import load_config
from nejumi.rescore import rescore_predictions, rescore_run
from nejumi.runner import evaluate

QUESTIONS = [
    {"question_id": 1, "category": "writing", "turns": ["春の詩を書いてください。", "もっと短くしてください。"]},
    {"question_id": 2, "category": "math", "turns": ["2+2はいくつですか？", "それを2倍にするといくつですか？"]},
    {"question_id": 3, "category": "coding", "turns": ["足し算の関数を書いてください。", "型注釈を付けてください。"]},
]
REFERENCES = {
    1: ["参照詩", "参照短詩"],
    2: ["4です。", "8です。"],
    3: ["def add(a, b): ...", "def add(a: int, b: int): ..."],
}
# The judge prompts in FastChat's schema: the system prompts and placeholders as upstream fills them.
PROMPTS = [
    ("single-v1", "評価者です。", "[Question]\n{question}\n[Answer]\n{answer}"),
    ("single-math-v1", "評価者です。", "[Question]\n{question}\n[Reference]\n{ref_answer_1}\n[Answer]\n{answer}"),
    (
        "single-v1-multi-turn",
        "二つ目を評価してください。\n\n",
        "{question_1}\n{answer_1}\n{question_2}\n{answer_2}",
    ),
    (
        "single-math-v1-multi-turn",
        "二つ目を参照と比べてください。\n\n",
        "{question_1}\n{ref_answer_1}\n{question_2}\n{ref_answer_2}\n---\n{question_1}\n{answer_1}\n{question_2}\n{answer_2}",
    ),
]
MODEL_SCRIPT = {
    "rules": [
        {"match": "もっと短く", "reply": "短い詩"},
        {"match": "春の詩", "reply": "春の詩です"},
        {"match": "2倍", "reply": "答えは8"},
        {"match": "2+2", "reply": "答えは4"},
        {"match": "型注釈", "reply": "コードB"},
        {"match": "足し算", "reply": "コードA"},
    ],
    "default": "echo",
}


def verdict(rating: str) -> str:
    return json.dumps({"explanation": "説明", "rating": rating}, ensure_ascii=False)


# The turn-2 prompt shows both answers, so the second answer's rule comes first.
JUDGE_SCRIPT = {
    "rules": [
        {"match": "短い詩", "reply": verdict("[[6]]")},
        {"match": "春の詩です", "reply": verdict("[[8]]")},
        {"match": "答えは8", "reply": verdict("[[3]]")},
        {"match": "答えは4", "reply": verdict("[[7]]")},
        {"match": "コードB", "reply": verdict("[[5]]")},
        # A rating the JudgeSingle schema refuses: asked again, then counted.
        {"match": "コードA", "reply": verdict("[[8.5]]")},
    ],
    "default": "no verdict",
}


def write_data(folder: Path) -> Path:
    for name in ("question", "reference_answer", "judge_prompt"):
        (folder / name).mkdir(parents=True)
    lines = [json.dumps(q, ensure_ascii=False) for q in QUESTIONS]
    (folder / "question" / "question.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    answers = [
        {"question_id": i, "answer_id": f"a{i}", "model_id": "ref", "choices": [{"index": 0, "turns": t}], "tstamp": 0}
        for i, t in REFERENCES.items()
    ]
    text = "\n".join(json.dumps(a, ensure_ascii=False) for a in answers) + "\n"
    (folder / "reference_answer" / "ref-model.jsonl").write_text(text, encoding="utf-8")
    prompts = [
        {"name": n, "type": "single", "system_prompt": s, "prompt_template": t, "output_format": "[[rating]]"}
        for n, s, t in PROMPTS
    ]
    text = "\n".join(json.dumps(p, ensure_ascii=False) for p in prompts) + "\n"
    (folder / "judge_prompt" / "judge_prompts.jsonl").write_text(text, encoding="utf-8")
    return folder


def run(config: Path, run_dir: Path) -> Any:
    return asyncio.run(evaluate(load_config(config), run_dir, show_progress=False))


def test_both_turns_judged_stored_and_resumed(tmp_path: Path) -> None:
    data = write_data(tmp_path / "mtbench")
    with (
        scripted_service(tmp_path / "model", MODEL_SCRIPT) as model,
        scripted_service(tmp_path / "judge", JUDGE_SCRIPT) as judge,
    ):
        config = write_judged_config(
            tmp_path / "mtbench.yaml", NAME, data, model, judge, section={"judge_max_attempts": 3}
        )
        result = run(config, tmp_path / "run")
        assert len(model.logged_requests()) == 6
        # Two verdicts per question, and two more tries for the invalid one.
        judged = judge.logged_requests()
        assert len(judged) == 8
        assert all(entry["json_schema"]["name"] == "JudgeSingle" for entry in judged)
        assert result.judge_stats["mtbench.judge"].sent == 8

        scores = result.scores
        assert scores["mtbench/writing/0shot/score"] == pytest.approx(0.7)
        assert scores["mtbench/math/0shot/score"] == pytest.approx(0.5)
        # Only turn 2 of the coding question has a valid verdict.
        assert scores["mtbench/coding/0shot/score"] == pytest.approx(0.5)
        assert scores["mtbench/_all/0shot/AVG_mtbench"] == pytest.approx((0.5 + 0.5 + 0.7) / 3)
        assert scores["mtbench/_all/0shot/invalid_verdicts"] == 3
        assert scores["mtbench/_all/0shot/unjudged_turns"] == 1

        rows = {row.sample.id: row for row in result.rows[NAME]}
        calls = [e.model_call for e in rows["2"].transcript.events]
        assert [(c.position.role, c.position.turn) for c in calls] == [
            ("model", 0),
            ("model", 1),
            ("judge", 0),
            ("judge", 1),
        ]
        # Turn 2 carries the first answer.
        assert [m.content for m in calls[1].request.messages] == [
            QUESTIONS[1]["turns"][0],
            "答えは4",
            QUESTIONS[1]["turns"][1],
        ]
        # math: temperature 0.0 for both turns; the math prompt with both reference answers.
        assert calls[0].request.params.temperature == 0.0 and calls[1].request.params.max_tokens == 1024
        assert "8です。" in calls[3].request.messages[1].content and "答えは8" in calls[3].request.messages[1].content
        # The judge temperature upstream's Responses client drops is not sent.
        judge_params = calls[2].request.params
        assert not judge_params.HasField("temperature") and judge_params.max_tokens == 2048
        assert rows["1"].transcript.events[0].model_call.request.params.temperature == pytest.approx(0.7)
        retried = [e.model_call.position.attempt for e in rows["3"].transcript.events if e.model_call.judge]
        assert retried == [0, 1, 2, 0]

        tables = {table.name: table for table in result.tables}
        board = tables["mtbench_leaderboard_table"]
        assert board.columns == ["model_name", "AVG_mtbench", "coding", "math", "writing"]
        assert board.rows[0][0] == "org/scripted-model" and board.rows[0][2:] == pytest.approx([0.5, 0.5, 0.7])
        output = tables["mtbench_output_table"]
        assert [(r[1], r[10], r[9]) for r in output.rows] == [(1, 1, 8), (2, 1, 7), (1, 2, 6), (2, 2, 3), (3, 2, 5)]

        with sqlite3.connect(tmp_path / "run" / "store.sqlite") as db:
            roles = dict(db.execute("SELECT role, COUNT(*) FROM calls GROUP BY role").fetchall())
        assert roles == {"model": 6, "judge:mtbench.judge": 8}

        again = run(config, tmp_path / "run")
        assert (again.stats.sent, again.judge_stats["mtbench.judge"].sent) == (0, 0)
        assert len(model.logged_requests()) == 6 and len(judge.logged_requests()) == 8
        assert again.scores == scores

    # The services are gone: the store and the predictions re-score alone.
    assert rescore_run(tmp_path / "run", print) == scores
    replayed = rescore_predictions(tmp_path / "run" / "predictions.jsonl", data, Compatibility(), print)
    assert {k: replayed[k] for k in scores} == scores
