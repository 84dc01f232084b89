"""HLE end to end through two real gRPC inference services (the model and the judge).

A small fixture in the official layout (hle-ja/test.jsonl, hle-ja/dev.jsonl): every test
and dev question (fewer than `hle.max_samples`) is asked with the answer format,
each answer is judged once with the ExtractedAnswer structured output, a failed
generation is left without a prediction and a verdict that does not parse leaves its
question unjudged (both count as wrong). A resumed run asks no judge again (only the failed generation), and the run's
predictions.jsonl re-scores to the same numbers without a judge.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

from support.services import scripted_service, write_judged_config

from nejumi.benchmarks.hle import NAME
from nejumi.compat import Compatibility
from nejumi.config import load_config
from nejumi.rescore import rescore_predictions, rescore_run
from nejumi.runner import evaluate


def question(id_: str, text: str, answer: str) -> dict[str, str]:
    return {"id": id_, "question": text, "image": "", "answer": answer, "category": "Math"}


TEST = [
    question("t1", "3+2はいくつか。", "5"),
    question("t2", "7×8はいくつか。", "56"),
    question("t3", "とても長い質問。", "1"),
    question("t4", "100の平方根は。", "10"),
]
DEV = [question("d1", "2の3乗は。", "8"), question("d2", "9-4は。", "5")]
MODEL_SCRIPT = {
    "rules": [
        {"match": "3+2", "reply": "説明: 足す。\n答え: 5\n信頼度: 90%"},
        {"match": "7×8", "reply": "説明: 掛ける。\n答え: 54\n信頼度: 60%"},
        # A context-length error: upstream catches it and the question has no prediction.
        {"match": "とても長い", "error_code": "INVALID_ARGUMENT", "error_message": "context length exceeded"},
        {"match": "平方根", "reply": "説明: 平方根。\n答え: 10\n信頼度: 70%"},
        {"match": "2の3乗", "reply": "説明: 累乗。\n答え: 8\n信頼度: 80%"},
        {"match": "9-4", "reply": "説明: 引く。\n答え: 6"},
    ],
    "default": "echo",
}


def verdict(answer: str, correct: str, confidence: int) -> str:
    return json.dumps(
        {
            "extracted_final_answer": answer,
            "reasoning": "比較",
            "correct": correct,
            "confidence": confidence,
            "strict": True,
        },
        ensure_ascii=False,
    )


# The judge prompt holds the model's answer; the √100 answer gets a refusal, which does not parse.
JUDGE_SCRIPT = {
    "rules": [
        {"match": "答え: 5\n", "reply": verdict("5", "yes", 90)},
        {"match": "答え: 54", "reply": verdict("54", "no", 60)},
        {"match": "答え: 10", "reply": "申し訳ありませんが、お答えできません。"},
        {"match": "答え: 8", "reply": verdict("8", "yes", 80)},
        {"match": "答え: 6", "reply": verdict("6", "no", 100)},
    ],
    "default": "no verdict",
}


def write_data(folder: Path) -> Path:
    (folder / "hle-ja").mkdir(parents=True)
    for name, rows in (("test", TEST), ("dev", DEV)):
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        (folder / "hle-ja" / f"{name}.jsonl").write_text(text, encoding="utf-8")
    return folder


def run(config: Path, run_dir: Path) -> Any:
    return asyncio.run(evaluate(load_config(config), run_dir, show_progress=False))


def test_answers_judged_stored_and_resumed(tmp_path: Path) -> None:
    data = write_data(tmp_path / "hle")
    with (
        scripted_service(tmp_path / "model", MODEL_SCRIPT) as model,
        scripted_service(tmp_path / "judge", JUDGE_SCRIPT) as judge,
    ):
        config = write_judged_config(tmp_path / "hle.yaml", NAME, data, model, judge)
        result = run(config, tmp_path / "run")
        # Four test questions and two dev ones; the failed generation is not judged.
        assert len(model.logged_requests()) == 6
        judged = judge.logged_requests()
        assert len(judged) == 5
        assert all(entry["json_schema"]["name"] == "ExtractedAnswer" for entry in judged)
        assert result.judge_stats["hle.judge"].sent == 5

        scores = result.scores
        # test: one right of four (the failed and the unjudged count as wrong); two judged.
        assert {k: v for k, v in scores.items() if k.startswith("hle/test/")} == {
            "hle/test/0shot/accuracy": 0.25,
            "hle/test/0shot/accuracy_percent": 25.0,
            "hle/test/0shot/calibration_error": 25.0,
            "hle/test/0shot/confidence_half_width": 42.44,
            "hle/test/0shot/total_questions": 4.0,
            "hle/test/0shot/answered_questions": 2.0,
            "hle/test/0shot/invalid_verdicts": 1.0,
        }
        assert scores["hle/dev/0shot/accuracy"] == 0.5 and scores["hle/dev/0shot/total_questions"] == 2.0
        assert scores["hle/dev/0shot/calibration_error"] == 40.0

        rows = {row.sample.id: row for row in result.rows[NAME]}
        calls = [e.model_call for e in rows["t1"].transcript.events]
        assert [c.position.role for c in calls] == ["model", "judge"]
        assert calls[0].request.messages[0].content.startswith("回答は以下の形式で行ってください：\n説明:")
        assert calls[0].request.params.max_tokens == 4096
        assert "[回答]: 説明: 足す。\n答え: 5\n信頼度: 90%\n\n" in calls[1].request.messages[0].content
        assert "[正解]: 5\n\n" in calls[1].request.messages[0].content
        assert [e.model_call.position.role for e in rows["t3"].transcript.events] == ["model"]

        tables = {table.name: table for table in result.tables}
        board = tables["hle_test_leaderboard_table"]
        assert board.columns[:3] == ["model_name", "accuracy", "accuracy_percent"]
        assert board.rows == [["org/scripted-model", 0.25, 25.0, 25.0, 42.44, 4, 2]]
        output = tables["hle_test_output_table"]
        assert [(r[1], r[5], r[6], r[7]) for r in output.rows] == [("t1", "5", "yes", 90), ("t2", "54", "no", 60)]
        assert [r[1] for r in tables["hle_dev_output_table"].rows] == ["d1", "d2"]

        with sqlite3.connect(tmp_path / "run" / "store.sqlite") as db:
            roles = dict(db.execute("SELECT role, COUNT(*) FROM calls GROUP BY role").fetchall())
        assert roles["judge:hle.judge"] == 5

        again = run(config, tmp_path / "run")
        # Only the failed generation is asked again (it fails again); no verdict is asked twice.
        assert (again.stats.sent, again.judge_stats["hle.judge"].sent) == (1, 0)
        assert len(model.logged_requests()) == 7 and len(judge.logged_requests()) == 5
        assert again.scores == scores

    # The services are gone: the store and the predictions re-score alone.
    assert rescore_run(tmp_path / "run", print) == scores
    replayed = rescore_predictions(tmp_path / "run" / "predictions.jsonl", data, Compatibility(), print)
    assert {k: replayed[k] for k in scores} == scores
