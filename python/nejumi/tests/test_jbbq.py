"""JBBQ on our own items in the official layout: plan, prompt, parsing, metrics, tables, settings."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from jbbq_fixture import CATEGORIES, INSTRUCTION, cell_items, jbbq_item, write_dataset, write_task

from nejumi.benchmark import ScoredRow
from nejumi.benchmarks.jbbq import ARTIFACT_PATH, Jbbq, JbbqSettings
from nejumi.benchmarks.jbbq.scoring import JbbqScorer, bias_metrics, parse_answer, score_answer
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError
from nejumi.predictions import Prediction
from nejumi_proto.v1 import transcript_pb2, types_pb2


def settings(data_dir: Path, **changes: Any) -> JbbqSettings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "tasks": ("jbbq",),
        "num_few_shots": 2,
        "samples": {"test": 20, "dev": 4},
        "generator": {"temperature": 0.1, "top_p": 1.0, "max_tokens": 10},
    }
    values.update(changes)
    return JbbqSettings(**values)


def scored(sample: types_pb2.Sample, output: str) -> ScoredRow:
    return ScoredRow(transcript_pb2.Transcript(sample=sample, output=output), tuple(score_answer(sample, output)))


def test_plan_takes_the_first_20_test_and_4_dev_items_of_each_category(tmp_path: Path) -> None:
    plan = Jbbq(settings(write_dataset(tmp_path))).plan()
    test = [s for s in plan if s.subset == "test"]
    dev = [s for s in plan if s.subset == "dev"]
    assert (len(test), len(dev)) == (100, 20)
    assert plan == test + dev
    assert [s.metadata["category"] for s in test] == [c for c in CATEGORIES for _ in range(20)]
    # 24 test items per category in the file: ids are file positions, `index` the place in the category.
    age = [s for s in test if s.metadata["category"] == "Age"]
    assert [s.id for s in age] == [str(i) for i in range(20)]
    disability = [s for s in test if s.metadata["category"] == "Disability_status"]
    assert [s.id for s in disability][:2] == ["24", "25"]
    assert [s.metadata["index"] for s in disability] == [str(i) for i in range(20)]
    assert {(s.benchmark, s.task, s.shots) for s in plan} == {("jbbq", "jbbq", 2)}


def test_two_shot_prompt_uses_the_category_s_training_items_0_and_9(tmp_path: Path) -> None:
    data = write_dataset(tmp_path)
    train = json.loads((data / "train" / "jbbq.json").read_text(encoding="utf-8"))["samples"]
    gender = [item for item in train if item["category"] == "Gender_identity"]
    test = json.loads((data / "test" / "jbbq.json").read_text(encoding="utf-8"))["samples"]
    plan = Jbbq(settings(data)).plan()
    sample = next(s for s in plan if s.subset == "test" and s.metadata["category"] == "Gender_identity")
    assert [(m.role, m.content) for m in sample.messages] == [
        ("user", f"{INSTRUCTION}\n\n{gender[0]['input']}"),
        ("assistant", str(gender[0]["output"])),
        ("user", gender[9]["input"]),
        ("assistant", str(gender[9]["output"])),
        ("user", test[int(sample.id)]["input"]),
    ]
    assert list(sample.references) == [str(test[int(sample.id)]["output"])]


@pytest.mark.parametrize(("shots", "positions"), [(4, [0, 3, 9, 10]), (3, [0, 1, 2]), (1, [0])])
def test_other_shot_counts(tmp_path: Path, shots: int, positions: list[int]) -> None:
    """4-shot uses positions 0, 3, 9, 10 as upstream; other counts (an upstream crash) take the first ones."""
    data = write_dataset(tmp_path)
    train = json.loads((data / "train" / "jbbq.json").read_text(encoding="utf-8"))["samples"]
    age = [item for item in train if item["category"] == "Age"]
    sample = Jbbq(settings(data, num_few_shots=shots)).plan()[0]
    users = [m.content for m in sample.messages if m.role == "user"][:-1]
    assert users == [f"{INSTRUCTION}\n\n{age[positions[0]]['input']}"] + [age[i]["input"] for i in positions[1:]]
    assert sample.shots == shots


def test_zero_shot_prompt_is_one_user_turn(tmp_path: Path) -> None:
    data = write_dataset(tmp_path)
    (data / "train" / "jbbq.json").unlink()
    sample = Jbbq(settings(data, num_few_shots=0)).plan()[0]
    test = json.loads((data / "test" / "jbbq.json").read_text(encoding="utf-8"))["samples"]
    assert [(m.role, m.content) for m in sample.messages] == [("user", f"{INSTRUCTION}\n\n{test[0]['input']}")]


def test_a_category_with_few_training_items_gets_fewer_examples(tmp_path: Path) -> None:
    data = write_dataset(tmp_path)
    write_task(data, "train", "jbbq", cell_items("train", 1))  # 4 per category: position 9 is missing
    sample = Jbbq(settings(data)).plan()[0]
    assert [m.role for m in sample.messages] == ["user", "assistant", "user"]


def test_missing_dev_file_is_skipped_and_testmode_asks_one_per_category(tmp_path: Path) -> None:
    data = write_dataset(tmp_path)
    (data / "dev" / "jbbq.json").unlink()
    plan = Jbbq(settings(data, samples={"test": 1, "dev": 1})).plan()
    assert [(s.subset, s.metadata["category"]) for s in plan] == [("test", c) for c in CATEGORIES]


def test_bad_files_are_named_with_the_key(tmp_path: Path) -> None:
    data = write_dataset(tmp_path)
    broken = jbbq_item("x", "Age", "ambig", "neg", 0, 1, 0)
    del broken["stereotype_label"]
    write_task(data, "test", "jbbq", [*cell_items("test", 1), broken])
    with pytest.raises(ConfigError, match=r"test/jbbq.json: samples\[20\]: missing JBBQ field\(s\) stereotype_label"):
        Jbbq(settings(data)).plan()
    (data / "test" / "jbbq.json").write_text('{"samples": []}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"jbbq.json: instruction: missing or not a string"):
        Jbbq(settings(data)).plan()


def test_check_accepts_the_artifact_folder_and_names_a_missing_file(tmp_path: Path) -> None:
    write_dataset(tmp_path / "jbbq")
    benchmark = Jbbq(settings(None))
    benchmark.check({"jbbq": tmp_path})
    assert benchmark.data_dir == tmp_path / "jbbq"
    assert len(benchmark.plan()) == 120
    (tmp_path / "jbbq" / "train" / "jbbq.json").unlink()
    with pytest.raises(ConfigError, match=r"train/jbbq.json: missing"):
        benchmark.check({"jbbq": tmp_path})


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("0", "0"),
        ("  1", "1"),
        ("\n\n2", "2"),
        ("2\n\n理由: 文脈から。", "2"),
        ('"1"', "1"),
        ("'0'", "0"),
        (" 0 \n", "0"),
        ("１", "１"),
        ("0。", "0。"),
        ("答え: 0", "答え: 0"),
        ("", ""),
    ],
)
def test_answer_parsing(raw: str, parsed: str) -> None:
    assert parse_answer(raw) == parsed


def planned(tmp_path: Path, items: list[dict[str, Any]]) -> list[types_pb2.Sample]:
    write_task(tmp_path, "test", "jbbq", items)
    return Jbbq(settings(tmp_path, num_few_shots=0)).plan()


FOUR = [
    # marker, context, polarity, unk, stereotype, expected
    ("a", "ambig", "neg", 0, 1, 0),
    ("b", "ambig", "nonneg", 2, 0, 2),
    ("c", "disambig", "neg", 1, 0, 0),
    ("d", "disambig", "nonneg", 1, 2, 0),
]


def four(tmp_path: Path) -> list[types_pb2.Sample]:
    return planned(tmp_path, [jbbq_item(m, "Age", c, p, u, s, e) for m, c, p, u, s, e in FOUR])


def test_metrics_by_hand(tmp_path: Path) -> None:
    samples = four(tmp_path)
    # a: stereotyped, wrong; b: not stereotyped, wrong; c: stereotyped, right; d: "unknown", wrong.
    rows = [scored(s, out) for s, out in zip(samples, ["1", "1", "0", "1"], strict=True)]
    assert bias_metrics(rows) == {
        "acc": 0.25,
        "acc_diff": 0 / 1 - 1 / 1,
        "bias_score_dis": 2 * 1 / 1 - 1,
        "bias_score_amb": (1 - 0 / 2) * (2 * 1 / 2 - 1),
        "avg_abs_bias_score": 0.5,
        "format_error_rate": 0.0,
    }


def test_format_errors_count_in_the_rate_but_not_in_the_bias(tmp_path: Path) -> None:
    rows = [scored(s, out) for s, out in zip(four(tmp_path), ["１", "1", "0", "1"], strict=True)]
    metrics = bias_metrics(rows)
    assert metrics["bias_score_amb"] == -1.0
    assert metrics["avg_abs_bias_score"] == 1.0
    assert metrics["format_error_rate"] == 0.25


def test_missing_parts_give_none_and_one_bias_score_stands_alone(tmp_path: Path) -> None:
    samples = four(tmp_path)
    ambiguous = bias_metrics([scored(s, "1") for s in samples[:2]])
    assert (ambiguous["acc_diff"], ambiguous["bias_score_dis"]) == (None, None)
    assert ambiguous["bias_score_amb"] == 0.0
    unknown = bias_metrics([scored(samples[0], "0"), scored(samples[2], "1")])
    assert (unknown["bias_score_amb"], unknown["bias_score_dis"], unknown["avg_abs_bias_score"]) == (None, None, None)
    assert unknown["acc"] == 0.5


def test_scorer_and_summary_keys(tmp_path: Path) -> None:
    samples = four(tmp_path)
    transcript = transcript_pb2.Transcript(sample=samples[0], output=' "0"\n')
    scores = asyncio.run(JbbqScorer().score(transcript, None))  # type: ignore[arg-type]  # JBBQ asks no judge
    assert [(s.metric, s.value) for s in scores] == [("correct", 1.0), ("format_error", 0.0)]
    assert scores[0].details["output"] == "0"
    notices: list[str] = []
    benchmark = Jbbq(settings(tmp_path, num_few_shots=0), notices.append)
    flat = benchmark.summarize([scored(s, "分からない") for s in samples])
    assert flat["jbbq/jbbq/0shot/format_error_rate"] == 1.0
    assert sorted(flat) == sorted(
        f"jbbq/jbbq/0shot/{m}"
        for m in ("acc", "acc_diff", "bias_score_dis", "bias_score_amb", "avg_abs_bias_score", "format_error_rate")
    )
    assert notices and "every jbbq test answer is a format error" in notices[0]


def test_official_tables(tmp_path: Path) -> None:
    data = write_dataset(tmp_path)
    benchmark = Jbbq(settings(data))
    plan = benchmark.plan()
    rows = [scored(s, s.metadata["stereotype_label"]) for s in plan]
    tables = {t.name: t for t in benchmark.tables(rows, "my-model")}
    assert list(tables) == ["jbbq_2shot_output_table_dev", "jbbq_2shot_output_table", "jbbq_2shot_leaderboard_table"]
    board = tables["jbbq_2shot_leaderboard_table"]
    assert board.columns == [
        "model_name",
        "acc",
        "acc_diff",
        "bias_score_dis",
        "bias_score_amb",
        "avg_abs_bias_score",
        "format_error_rate",
    ]
    flat = benchmark.summarize(rows)
    assert board.rows == [["my-model", *(flat[f"jbbq/jbbq/2shot/{c}"] for c in board.columns[1:])]]
    assert board.rows[0][5] == 1.0  # always the stereotyped option: |bias| is 1 in both contexts
    output = tables["jbbq_2shot_output_table"]
    assert output.columns[:6] == ["model_name", "index", "dataset", "subset", "num_few_shots", "category"]
    assert output.columns[-5:] == ["output", "expected_output", "correct", "format_error", "sub_category"]
    assert "unk_label" not in output.columns
    first = dict(zip(output.columns, output.rows[0], strict=True))
    item = json.loads((data / "test" / "jbbq.json").read_text(encoding="utf-8"))["samples"][0]
    assert first["index"] == 0 and first["dataset"] == "jbbq" and first["num_few_shots"] == 2
    assert (first["question_index"], first["example_id"]) == (item["question_index"], item["example_id"])
    assert first["stereotype_label"] == item["stereotype_label"]
    assert first["input"] == item["input"] and first["sub_category"] == "ALT_bias"
    assert json.loads(first["prompt"])[-1] == {"role": "user", "content": item["input"]}
    assert len(output.rows) == 100 and len(tables["jbbq_2shot_output_table_dev"].rows) == 20


def test_settings_from_config_default_to_upstream(tmp_path: Path) -> None:
    cfg = Config(data={"num_few_shots": 2, "generator": {"temperature": 0.1, "top_p": 1.0, "max_tokens": 128}})
    jbbq = Jbbq.from_config(cfg, Compatibility(), print)
    assert jbbq.generation.max_tokens == 10 and jbbq.generation.temperature == pytest.approx(0.1)
    spec = jbbq.datasets["jbbq"]
    assert (spec.artifact_path, spec.subdir, spec.data_dir) == (ARTIFACT_PATH, "jbbq", None)
    assert jbbq.settings.samples == {"test": 20, "dev": 4}
    custom = Config(
        data={
            "testmode": True,
            "generator": {"max_tokens": 128, "temperature": 0.1},
            "jbbq": {"data_dir": str(tmp_path), "generator_config": {"max_tokens": 64, "temperature": 0.6}},
        }
    )
    jbbq = Jbbq.from_config(custom, Compatibility(), print)
    assert jbbq.generation.max_tokens == 64 and jbbq.generation.temperature == pytest.approx(0.6)
    assert jbbq.datasets["jbbq"].data_dir == tmp_path
    assert jbbq.settings.samples == {"test": 1, "dev": 1} and jbbq.settings.num_few_shots == 0


def test_for_predictions_plans_every_item_of_the_named_task_files(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "jbbq", task="scenario")
    predictions = [Prediction("jbbq", "scenario", 2, "0", "0")]
    benchmark = Jbbq.for_predictions(tmp_path, Compatibility(), predictions, print)
    assert benchmark.data_dir == data
    plan = benchmark.plan()
    assert len(plan) == 5 * 24 + 5 * 8 and {s.task for s in plan} == {"scenario"}
    tables = [t.name for t in benchmark.tables([], "m")]
    assert tables[-1] == "jbbq_scenario_2shot_leaderboard_table"
