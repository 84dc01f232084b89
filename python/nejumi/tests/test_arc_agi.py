"""ARC-AGI: plan, prompt, attempts, failure policy, config and data errors, scores and tables."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from nejumi.benchmark import ScoredRow
from nejumi.benchmarks.arc_agi import ARTIFACTS, ArcAgi, ArcScorer, ArcSettings, grade
from nejumi.benchmarks.arc_agi_answer import backscan_grid, format_tile
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError
from nejumi_proto.v1 import transcript_pb2, types_pb2

# Upstream's user message (spec upstream-benchmarks.md §4.2), written out by hand.
TEMPLATE = (
    "あなたはパズルを解くコンテストに参加しています。あなたはパズルを解く専門家です。\n"
    "以下は、入力と出力のペアのリストです。あなたの目標は、トレーニング例における入力から出力への"
    "マッピングを行うためのパターンや変換を特定し、そのパターンをテスト入力に適用して最終的な出力を"
    "生成することです。\n"
    "\n"
    "以下のトレーニング出力例のフォーマットで出力してください。\n"
    "\n"
    "--トレーニング例--\n"
    "{examples}\n"
    "--トレーニング例ここまで--\n"
    "\n"
    "--テスト入力--\n"
    "{test}\n"
    "--テスト入力ここまで--\n"
)

# Two versions of small tasks in the official layout (<version>/evaluation/<task_id>.json).
TASKS: dict[str, dict[str, dict[str, Any]]] = {
    "arc-agi-1": {
        "aaaa0001": {
            "train": [{"input": [[0, 1], [1, 0]], "output": [[1, 0], [0, 1]]}, {"input": [[2]], "output": [[3]]}],
            "test": [{"input": [[5, 6]], "output": [[6, 5]]}],
        },
        "bbbb0002": {
            "train": [{"input": [[1]], "output": [[2]]}],
            "test": [{"input": [[7]], "output": [[8]]}, {"input": [[3, 3]], "output": [[4, 4]]}],
        },
    },
    "arc-agi-2": {
        "cccc0003": {"train": [{"input": [[9]], "output": [[0]]}], "test": [{"input": [[4]], "output": [[1]]}]},
    },
}


def write_data(root: Path, tasks: dict[str, dict[str, dict[str, Any]]] = TASKS) -> Path:
    for version, by_id in tasks.items():
        folder = root / version / "evaluation"
        folder.mkdir(parents=True, exist_ok=True)
        for task_id, task in by_id.items():
            (folder / f"{task_id}.json").write_text(json.dumps(task), encoding="utf-8")
    return root


def config(**arc_agi: Any) -> Config:
    data = {"generator": {"temperature": 0.1, "top_p": 1.0, "max_tokens": 128}, "arc_agi": arc_agi}
    return Config(data=data, origins={"arc_agi": "model.yaml", "generator": "base_config.yaml"})


def benchmark(data_dir: Path, **changes: Any) -> ArcAgi:
    values: dict[str, Any] = {"data_dir": data_dir, "generator": {"temperature": 0.1, "top_p": 1.0, "max_tokens": 128}}
    values.update(changes)
    return ArcAgi(ArcSettings(**values))


def test_every_test_input_is_planned_twice_with_distinct_attempts(tmp_path: Path) -> None:
    plan = benchmark(write_data(tmp_path)).plan()
    assert [(s.task, s.id, s.attempt) for s in plan] == [
        ("arc-agi-1", "aaaa0001", 0),
        ("arc-agi-1", "aaaa0001", 1),
        ("arc-agi-1", "bbbb0002", 0),
        ("arc-agi-1", "bbbb0002", 1),
        ("arc-agi-1", "bbbb0002_1", 0),
        ("arc-agi-1", "bbbb0002_1", 1),
        ("arc-agi-2", "cccc0003", 0),
        ("arc-agi-2", "cccc0003", 1),
    ]
    first, second = plan[0], plan[1]
    # Identical requests on purpose: only the attempt number tells them apart.
    assert first.messages == second.messages and first.generation == second.generation
    assert {(s.benchmark, s.shots, s.subset) for s in plan} == {("arc_agi", 0, "test")}
    assert json.loads(plan[5].references[0]) == [[4, 4]]
    assert plan[5].metadata["task_id"] == "bbbb0002" and plan[5].metadata["test_example_id"] == "1"


def test_prompt_is_upstreams_user_message(tmp_path: Path) -> None:
    sample = benchmark(write_data(tmp_path)).plan()[0]
    examples = (
        "--例 0-- \n\n 入力: \n\n[\n  [0,1],\n  [1,0]\n]\n\n出力: \n\n[\n  [1,0],\n  [0,1]\n]\n\n"
        "--例 1-- \n\n 入力: \n\n[\n  [2]\n]\n\n出力: \n\n[\n  [3]\n]\n\n"
    )
    assert [m.role for m in sample.messages] == ["user"]
    assert sample.messages[0].content == TEMPLATE.format(examples=examples, test="[\n  [5,6]\n]")


def test_generation_is_max_output_tokens_over_the_generator(tmp_path: Path) -> None:
    write_data(tmp_path)
    cfg = config(data_dir=str(tmp_path), generator_config={"temperature": 0.9})
    arc = ArcAgi.from_config(cfg, Compatibility(), print)
    assert arc.generation.max_tokens == 4096
    # Upstream sends only max_tokens over the client's defaults: generator_config is not read.
    assert arc.generation.temperature == pytest.approx(0.1)
    assert ArcAgi.from_config(config(max_output_tokens=180000), Compatibility(), print).generation.max_tokens == 180000


def test_num_attempts_and_testmode(tmp_path: Path) -> None:
    data = {
        "arc-agi-1": {f"t{i}": TASKS["arc-agi-1"]["bbbb0002"] for i in range(7)},
        "arc-agi-2": TASKS["arc-agi-2"],
    }
    write_data(tmp_path, data)
    plan = benchmark(tmp_path, testmode=True, num_attempts=3).plan()
    v1 = [(s.id, s.attempt) for s in plan if s.task == "arc-agi-1"]
    # The first five task files, only the first test input of each.
    assert v1 == [(f"t{i}", a) for i in range(5) for a in range(3)]
    cfg = Config(data={"testmode": True, "arc_agi": {"num_attempts": 3, "data_dir": str(tmp_path)}})
    arc = ArcAgi.from_config(cfg, Compatibility(), print)
    arc.check({"arc_agi": tmp_path})
    assert [(s.id, s.attempt) for s in arc.plan()] == [(s.id, s.attempt) for s in plan]


def test_failed_requests_are_soft_by_default() -> None:
    assert ArcAgi.from_config(config(), Compatibility(), print).policy.mode == "soft"
    hard = Config(data={"error_handling": {"request_failure": {"mode": "hard"}}})
    assert ArcAgi.from_config(hard, Compatibility(), print).policy.mode == "soft"
    assert ArcAgi.from_config(config(soft_fail_on_error=False), Compatibility(), print).policy.mode == "hard"
    own = config(error_handling={"request_failure": {"mode": "hard"}})
    assert ArcAgi.from_config(own, Compatibility(), print).policy.mode == "hard"


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"max_output_tokens": "many"}, "arc_agi.max_output_tokens"),
        ({"max_output_tokens": 0}, "arc_agi.max_output_tokens"),
        ({"num_attempts": 0}, "arc_agi.num_attempts"),
        ({"data_dir": 3}, "arc_agi.data_dir"),
        ({"arc_agi_1_artifacts_path": ["x"]}, "arc_agi.arc_agi_1_artifacts_path"),
        ({"error_handling": {"request_failure": {"mode": "maybe"}}}, "arc_agi.error_handling.request_failure.mode"),
    ],
)
def test_config_errors_name_the_key(section: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        ArcAgi.from_config(config(**section), Compatibility(), print)
    assert err.value.key == key and err.value.source == "model.yaml"


def test_without_a_local_folder_each_version_is_its_artifact() -> None:
    cfg = config(
        arc_agi_1_artifacts_path="e/p/arc-agi-1_public-eval_50:production",
        arc_agi_2_artifacts_path="e/p/arc-agi-2_public-eval_50:production",
    )
    arc = ArcAgi.from_config(cfg, Compatibility(), print)
    assert {v: (s.artifact_path, s.required) for v, s in arc.datasets.items()} == {
        "arc-agi-1": ("e/p/arc-agi-1_public-eval_50:production", ("evaluation",)),
        "arc-agi-2": ("e/p/arc-agi-2_public-eval_50:production", ("evaluation",)),
    }
    with pytest.raises(ConfigError) as err:
        arc.check({})
    assert err.value.key == "arc_agi.data_dir"


def test_the_two_artifacts_folders_are_planned(tmp_path: Path) -> None:
    write_data(tmp_path)
    cfg = config(arc_agi_1_artifacts_path="e/p/a:v", arc_agi_2_artifacts_path="e/p/b:v")
    arc = ArcAgi.from_config(cfg, Compatibility(), print)
    arc.check({version: tmp_path / version for version in ("arc-agi-1", "arc-agi-2")})
    assert len(arc.plan()) == 8


def test_the_official_artifacts_are_the_default() -> None:
    arc = ArcAgi.from_config(config(), Compatibility(), print)
    assert {v: s.artifact_path for v, s in arc.datasets.items()} == ARTIFACTS


def test_the_local_folder_is_the_dataset(tmp_path: Path) -> None:
    write_data(tmp_path / "arc_agi")
    arc = ArcAgi.from_config(config(data_dir=str(tmp_path)), Compatibility(), print)
    assert arc.datasets["arc_agi"].required == ("arc-agi-1/evaluation", "arc-agi-2/evaluation")
    # The folder holding arc_agi/ is accepted, like the one holding the two versions.
    arc.check({"arc_agi": tmp_path})
    assert len(arc.plan()) == 8


def test_a_missing_version_folder_is_named(tmp_path: Path) -> None:
    write_data(tmp_path, {"arc-agi-1": TASKS["arc-agi-1"]})
    with pytest.raises(ConfigError) as err:
        benchmark(tmp_path).check({"arc_agi": tmp_path})
    assert err.value.source == str(tmp_path / "arc-agi-2" / "evaluation")
    (tmp_path / "arc-agi-2" / "evaluation").mkdir(parents=True)
    with pytest.raises(ConfigError, match="holds no ARC task files") as err:
        benchmark(tmp_path).plan()
    assert err.value.source == str(tmp_path / "arc-agi-2" / "evaluation")


@pytest.mark.parametrize(
    ("content", "key", "message"),
    [
        ('{"train": [', "", "invalid JSON: line 1, column 12"),
        ("[1, 2]", "", "must hold a JSON object"),
        ('{"test": [{"input": [[1]], "output": [[1]]}]}', "train", "missing or empty"),
        ('{"train": [{"input": [[1]], "output": [[1]]}], "test": []}', "test", "missing or empty"),
        ('{"train": [{"input": [[1]], "output": [[1]]}], "test": [3]}', "test[0]", "must be an object"),
        ('{"train": [{"input": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}', "train[0].output", "grid"),
        (
            '{"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1], [2, 3]]}]}',
            "test[0].output",
            "grid",
        ),
        (
            '{"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [["1"]], "output": [[1]]}]}',
            "test[0].input",
            "grid",
        ),
    ],
)
def test_a_malformed_task_file_is_named(tmp_path: Path, content: str, key: str, message: str) -> None:
    write_data(tmp_path)
    bad = tmp_path / "arc-agi-2" / "evaluation" / "dddd0004.json"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as err:
        benchmark(tmp_path).plan()
    assert err.value.source == str(bad) and err.value.key == key


class RecordingContext:
    def __init__(self, sample: types_pb2.Sample) -> None:
        self.sample = sample
        self.calls: list[dict[str, Any]] = []

    async def generate(self, messages: Any, **position: Any) -> types_pb2.Response:
        self.calls.append({"messages": list(messages), **position})
        return types_pb2.Response(text="[[6, 5]]")


def test_solve_sends_the_prompt_once_at_the_samples_attempt(tmp_path: Path) -> None:
    arc = benchmark(write_data(tmp_path))
    sample = arc.plan()[1]
    ctx = RecordingContext(sample)
    assert asyncio.run(arc.solve(ctx)) == "[[6, 5]]"  # type: ignore[arg-type]
    assert ctx.calls == [{"messages": list(sample.messages), "attempt": 1}]


def scored(arc: ArcAgi, outputs: dict[tuple[str, int], str], reasoning: str = "") -> list[ScoredRow]:
    rows = []
    for sample in arc.plan():
        output = outputs.get((sample.id, sample.attempt), "")
        transcript = transcript_pb2.Transcript(sample=sample, output=output)
        transcript.events.add().model_call.response.CopyFrom(types_pb2.Response(text=output, reasoning_text=reasoning))
        scores = asyncio.run(arc.scorers[0].score(transcript, None))  # type: ignore[arg-type]
        rows.append(ScoredRow(transcript, tuple(scores)))
    return rows


OUTPUTS = {
    ("aaaa0001", 0): "[[5, 6]]",
    ("aaaa0001", 1): "答え: [[6, 5]]",  # pass@2: the second attempt is right
    ("bbbb0002", 0): "[[8]]",
    ("bbbb0002_1", 1): "[[4, 5]]",
    ("cccc0003", 0): "[[1]]",
}


def test_pass_at_2_then_task_then_version_means(tmp_path: Path) -> None:
    arc = benchmark(write_data(tmp_path))
    flat = arc.summarize(scored(arc, OUTPUTS))
    # aaaa0001: 1; bbbb0002: (1 + 0) / 2; version 1 = (1 + 0.5) / 2.
    assert flat == {
        "arc_agi/arc-agi-1/0shot/accuracy": 0.75,
        "arc_agi/arc-agi-2/0shot/accuracy": 1.0,
        "arc_agi/_all/0shot/AVG": 0.875,
    }


def test_a_version_without_rows_has_no_score(tmp_path: Path) -> None:
    arc = benchmark(write_data(tmp_path))
    rows = [r for r in scored(arc, OUTPUTS) if r.sample.task == "arc-agi-1"]
    assert arc.summarize(rows) == {
        "arc_agi/arc-agi-1/0shot/accuracy": 0.75,
        "arc_agi/arc-agi-2/0shot/accuracy": None,
        "arc_agi/_all/0shot/AVG": None,
    }


def test_tables_have_upstreams_names_and_columns(tmp_path: Path) -> None:
    arc = benchmark(write_data(tmp_path))
    tables = arc.tables(scored(arc, OUTPUTS, reasoning="考えた"), "my-model")
    assert [t.name for t in tables] == ["arc_agi_1_output_table", "arc_agi_2_output_table", "arc_agi_leaderboard_table"]
    output = tables[0]
    assert output.columns == [
        "model_name",
        "task",
        "task_id",
        "test_example_id",
        "num_attempts",
        "prompt",
        "raw_output",
        "input",
        "reasoning_content",
        "output",
        "expected_output",
        "correct",
        "visualize",
    ]
    assert len(output.rows) == 6 and len(tables[1].rows) == 2
    row = dict(zip(output.columns, output.rows[5], strict=True))
    assert row["task_id"] == "bbbb0002" and row["test_example_id"] == 1 and row["num_attempts"] == 1
    assert row["input"] == "3 3" and row["expected_output"] == "4 4" and row["output"] == "4 5"
    assert row["correct"] is False and row["reasoning_content"] == "考えた" and row["visualize"] is None
    assert dict(zip(output.columns, output.rows[1], strict=True))["correct"] is True
    assert tables[2].columns == ["model_name", "arc-agi-1", "arc-agi-2", "AVG"]
    assert tables[2].rows == [["my-model", 0.75, 1.0, 0.875]]


def sample_for(expected: list[list[int]]) -> types_pb2.Sample:
    return types_pb2.Sample(benchmark="arc_agi", task="arc-agi-1", id="x", references=[json.dumps(expected)])


@pytest.mark.parametrize(
    ("output", "official", "corrected"),
    [
        ("[[1, 2]]", "correct", "correct"),
        ("[[1.7, 2]]", "correct", "cast_to_match"),
        ('[["1", 2]]', "correct", "cast_to_match"),
        ("[[257, 2]]", "correct", "cast_to_match"),
        ("[[true, 2]]", "correct", "cast_to_match"),
        ("[[1, 3]]", "cell_mismatch", "cell_mismatch"),
        ("", "no_candidate", "no_candidate"),
    ],
)
def test_corrected_refuses_cells_the_int8_cast_bends(output: str, official: str, corrected: str) -> None:
    for compat, verdict in ((Compatibility(), official), (Compatibility("corrected"), corrected)):
        (score,) = grade(sample_for([[1, 2]]), output, compat)
        assert score.details["verdict"] == verdict
        assert score.value == (1.0 if verdict == "correct" else 0.0)
    assert ArcScorer(Compatibility()).version != ArcScorer(Compatibility("corrected")).version


def test_the_logged_output_is_the_json_before_the_cast() -> None:
    assert backscan_grid("x [[1.7, 2], [3, 4]] y") == [[1.7, 2], [3, 4]]
    assert format_tile([[1.7, 2], [3, 4]]) == "1.7 2\n3 4"
    assert backscan_grid("[[1, 2], [3]]") == [[1, 2], [3]]
    assert backscan_grid('[[1]] {"confidence": 0.9}') is None
    assert backscan_grid("[[1, 2], [3, 4]") is None
    assert backscan_grid("no grid") is None
    assert backscan_grid("[" * 5000 + "]" * 5000) is None
