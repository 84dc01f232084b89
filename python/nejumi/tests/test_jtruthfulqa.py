"""JTruthfulQA: settings, the data checks, the prompt's 50-character cut, recorded verdicts, the
strict > 0.5 threshold, dropped rows, 'not scored' without the classifier, and the tables."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from nejumi.benchmark import ScoredRow
from nejumi.benchmarks.jtruthfulqa import (
    ARTIFACT,
    INSTRUCTION,
    ClassifierScorer,
    Jtruthfulqa,
    JtruthfulqaSettings,
    predicted_transcript,
)
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError
from nejumi.predictions import Prediction
from nejumi.scoring_models import roberta_classifier
from nejumi.scoring_models.roberta_classifier import ScoringModelUnavailable, require_dependencies
from nejumi_proto.v1 import transcript_pb2, types_pb2

LONG_QUESTION = "あ" * 45 + "いうえおかきくけこ"  # 54 characters: the prompt keeps the first 50


def question(n: int, type_: str = "事実（fact）", category: str = "迷信") -> dict[str, Any]:
    return {
        "Type": type_,
        "Category": category,
        "Question": f"質問{n}ですか？",
        "Original Answer": f"答え{n}",
        "Correct Answers": "['はい']",
        "Incorrect Answers": "['いいえ']",
    }


def write_data(folder: Path, records: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (folder / "JTruthfulQA_all.jsonl").write_text(lines, encoding="utf-8")
    return folder


def float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


ABOVE_HALF = struct.unpack("f", struct.pack("I", 0x3F000001))[0]  # the float32 just above 0.5
BELOW_HALF = struct.unpack("f", struct.pack("I", 0x3EFFFFFF))[0]


def line(n: int, output: str, judge: Any) -> Prediction:
    return Prediction(
        benchmark="jtruthfulqa", task="jtruthfulqa", shots=0, id=str(n), output=output, extra={"judge": judge}
    )


def rows_for(bench: Jtruthfulqa, verdicts: list[Any]) -> list[ScoredRow]:
    scorer = bench.scorers[0]
    assert isinstance(scorer, ClassifierScorer)
    transcripts = [
        predicted_transcript(sample, line(int(sample.id), f"回答{sample.id}", verdict))
        for sample, verdict in zip(bench.plan(), verdicts, strict=True)
    ]
    return [ScoredRow(t, tuple(s)) for t, s in zip(transcripts, scorer.score_batch(transcripts), strict=True)]


def test_generation_is_upstream_max_tokens_over_the_generator_defaults() -> None:
    cfg = Config(data={"generator": {"max_tokens": 128, "temperature": 0.1, "top_p": 1.0}})
    settings = JtruthfulqaSettings.from_config(cfg)
    assert settings.generator == {"max_tokens": 256, "temperature": 0.1, "top_p": 1.0}
    assert settings.roberta_model_name == "nlp-waseda/roberta_jtruthfulqa"
    spec = settings.datasets["jtruthfulqa"]
    assert (spec.artifact_path, spec.artifact_key, spec.required) == (
        ARTIFACT,
        "artifact_path",
        ("JTruthfulQA_all.jsonl",),
    )
    overridden = Config(
        data={
            "generator": {"max_tokens": 128, "temperature": 0.1},
            "jtruthfulqa": {"generator_config": {"max_tokens": 32768, "temperature": 0.6, "top_p": 0.95}},
        }
    )
    bench = Jtruthfulqa(JtruthfulqaSettings.from_config(overridden))
    assert (bench.generation.max_tokens, bench.generation.temperature) == (32768, pytest.approx(0.6))


def test_the_prompt_cuts_the_question_at_50_characters_and_testmode_takes_10(tmp_path: Path) -> None:
    records = [dict(question(0), Question=LONG_QUESTION), *(question(n) for n in range(1, 12))]
    data = write_data(tmp_path / "data" / "jtruthfulqa", records)
    samples = Jtruthfulqa(JtruthfulqaSettings(data_dir=tmp_path / "data")).plan()
    assert len(samples) == 12
    assert samples[0].messages[0].content == INSTRUCTION + "あ" * 45 + "いうえおか"
    assert [m.role for m in samples[0].messages] == ["user"]
    # The full row travels with the sample, fields in file order, for the classifier and the output table.
    assert json.loads(samples[0].metadata["record"]) == records[0]
    assert list(json.loads(samples[0].metadata["record"])) == list(records[0])
    testmode = Jtruthfulqa(JtruthfulqaSettings(data_dir=data, testmode=True)).plan()
    assert [s.id for s in testmode] == [str(n) for n in range(10)]


def test_a_row_without_a_question_names_the_file_and_line(tmp_path: Path) -> None:
    data = write_data(tmp_path, [question(0), {"Type": "事実（fact）", "Category": "迷信", "Question": 3}])
    with pytest.raises(ConfigError, match="line 2: Question"):
        Jtruthfulqa(JtruthfulqaSettings(data_dir=data))
    with pytest.raises(ConfigError, match=r"has no JTruthfulQA_all\.jsonl"):
        Jtruthfulqa(JtruthfulqaSettings(data_dir=tmp_path / "empty"))


def test_label_is_one_only_strictly_above_one_half(tmp_path: Path) -> None:
    data = write_data(tmp_path, [question(n) for n in range(5)])
    bench = Jtruthfulqa(JtruthfulqaSettings(data_dir=data, roberta_model_name=str(tmp_path / "no-model")))
    probabilities = [0.5, ABOVE_HALF, BELOW_HALF, float32(0.5001), 0.0]
    rows = rows_for(bench, [{"probability": p} for p in probabilities])
    assert [row.value("Label") for row in rows] == [0.0, 1.0, 0.0, 1.0, 0.0]
    assert [row.value("score") for row in rows] == probabilities
    assert bench.summarize(rows)["jtruthfulqa/_all/0shot/overall_score"] == pytest.approx(0.4)


def test_means_per_type_and_category_in_first_appearance_order(tmp_path: Path) -> None:
    records = [
        question(0, "知識（knowledge）", "地理"),
        question(1, "事実（fact）", "迷信"),
        question(2, "知識（knowledge）", "歴史"),
        question(3, "事実（fact）", "地理"),
    ]
    bench = Jtruthfulqa(JtruthfulqaSettings(data_dir=write_data(tmp_path, records)))
    rows = rows_for(bench, [{"probability": p} for p in (0.9, 0.1, 0.2, 0.8)])
    assert bench.summarize(rows) == {
        "jtruthfulqa/_all/0shot/overall_score": 0.5,
        "jtruthfulqa/知識（knowledge）/0shot/type_score": 0.5,
        "jtruthfulqa/事実（fact）/0shot/type_score": 0.5,
        "jtruthfulqa/地理/0shot/category_score": 1.0,
        "jtruthfulqa/迷信/0shot/category_score": 0.0,
        "jtruthfulqa/歴史/0shot/category_score": 0.0,
        "jtruthfulqa/_all/0shot/unscored_answers": 0.0,
    }
    tables = {t.name: t for t in bench.tables(rows, "org/model")}
    board = tables["jtruthfulqa_leaderboard_table"]
    assert board.columns == ["model_name", "overall_score", "知識（knowledge）", "事実（fact）", "地理", "迷信", "歴史"]
    assert board.rows == [["org/model", 0.5, 0.5, 0.5, 1.0, 0.0, 0.0]]
    assert tables["jtruthfulqa_radar_table"].columns == ["Type", "score"]
    assert tables["jtruthfulqa_radar_table"].rows == [["知識（knowledge）", 0.5], ["事実（fact）", 0.5]]
    output = tables["jtruthfulqa_output_table"]
    assert output.columns == [*records[0], "answer", "score", "Label"]
    assert output.rows[0] == [*records[0].values(), "回答0", 0.9, 1]


def test_a_row_the_classifier_raised_on_leaves_every_denominator_and_the_output_table(tmp_path: Path) -> None:
    records = [question(0, category="迷信"), question(1, category="宗教"), question(2, category="迷信")]
    bench = Jtruthfulqa(JtruthfulqaSettings(data_dir=write_data(tmp_path, records)))
    rows = rows_for(bench, [{"probability": 0.9}, {"probability": 0.7}, None])
    assert rows[2].value("Label") is None and "error" in rows[2].score("Label").details.fields
    flat = bench.summarize(rows)
    assert flat["jtruthfulqa/_all/0shot/overall_score"] == 1.0
    assert flat["jtruthfulqa/迷信/0shot/category_score"] == 1.0
    assert flat["jtruthfulqa/_all/0shot/unscored_answers"] == 1.0
    output = next(t for t in bench.tables(rows, "m") if t.name == "jtruthfulqa_output_table")
    assert [r[-3] for r in output.rows] == ["回答0", "回答1"]


def test_without_the_classifier_answers_are_not_scored_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The model is what is missing here, whether or not this machine has the extras.
    monkeypatch.setattr(roberta_classifier, "DEPENDENCIES", ())
    data = write_data(tmp_path, [question(0), question(1)])
    missing = tmp_path / "no-such-model"
    said: list[str] = []
    cfg = Config(data={"jtruthfulqa": {"data_dir": str(data), "roberta_model_name": str(missing)}})
    bench = Jtruthfulqa.from_config(cfg, Compatibility(), said.append)
    # Said before any request is sent.
    assert len(said) == 1 and str(missing) in said[0] and "will not be scored" in said[0]
    bench.check({"jtruthfulqa": data})
    scorer = bench.scorers[0]
    assert isinstance(scorer, ClassifierScorer)
    assert scorer.version == f"1:{missing}"
    transcripts = [transcript_pb2.Transcript(sample=s, output="はい") for s in bench.plan()]
    rows = [ScoredRow(t, tuple(s)) for t, s in zip(transcripts, scorer.score_batch(transcripts), strict=True)]
    for row in rows:
        assert row.value("Label") is None
        assert str(missing) in str(row.score("Label").details["not_scored"])
    # Stored under a version no later lookup asks for, so a run with the classifier scores them.
    assert scorer.version == "1:not-scored"
    assert len(said) == 2 and "are not scored" in said[1]
    flat = bench.summarize(rows)
    assert flat == {"jtruthfulqa/_all/0shot/overall_score": None, "jtruthfulqa/_all/0shot/unscored_answers": 2.0}
    tables = bench.tables(rows, "m")
    assert [(t.name, t.rows) for t in tables] == [("jtruthfulqa_output_table", [])]


def test_recorded_verdicts_need_no_classifier(tmp_path: Path) -> None:
    data = write_data(tmp_path, [question(0)])
    bench = Jtruthfulqa(JtruthfulqaSettings(data_dir=data, roberta_model_name=str(tmp_path / "absent")))
    rows = rows_for(bench, [{"probability": 0.75}])
    assert rows[0].value("Label") == 1.0
    scorer = bench.scorers[0]
    assert isinstance(scorer, ClassifierScorer) and scorer.unavailable is None
    # A line without the verdict is nejumi's own: the transcript it records.
    sample = bench.plan()[0]
    own = Prediction(benchmark="jtruthfulqa", task="jtruthfulqa", shots=0, id="0", output="はい")
    assert [e.model_call.judge for e in predicted_transcript(sample, own).events] == [""]


def test_missing_extras_are_named_with_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roberta_classifier, "DEPENDENCIES", ("json", "nejumi_no_such_module"))
    with pytest.raises(ScoringModelUnavailable, match="nejumi_no_such_module not installed: install nejumi's extras"):
        require_dependencies()


def test_upstream_verdict_lines_become_a_recorded_classifier_call() -> None:
    sample = types_pb2.Sample(benchmark="jtruthfulqa", task="jtruthfulqa", id="0")
    transcript = predicted_transcript(sample, line(0, "はい", {"probability": 0.25}))
    calls = [e.model_call for e in transcript.events]
    assert [(c.position.role, c.judge) for c in calls] == [("model", ""), ("judge", "jtruthfulqa.classifier")]
    assert json.loads(calls[1].response.text) == {"probability": 0.25}
