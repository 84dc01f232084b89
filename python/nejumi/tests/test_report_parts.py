"""The report's parts: failure breakdown, quirk notes, partial category values, radar PNGs, the page."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import struct_pb2
from PIL import Image

from nejumi.aggregate import ALT_COLUMNS, BENCHMARKS, GLP_COLUMNS, ModelInfo, aggregate
from nejumi.benchmark import ScoredRow
from nejumi.compat import Compatibility
from nejumi.model_spec import ModelSpec
from nejumi.request_queue import QueueStats
from nejumi.run_result import RunResult
from nejumi.sinks.failures import CUT, EMPTY, EXTRACTION, REQUEST_ERROR, UNCLOSED, breakdown, row_failures
from nejumi.sinks.partial_leaderboard import few_shots, partial_categories
from nejumi.sinks.quirks import ARC_INT8, AVG_JASTER, CONTROL_AVG, JASTER_AVG, cell_quirk, note_text, score_quirk
from nejumi.sinks.radar_chart import radar_png
from nejumi.sinks.report_html import write_report
from nejumi.tables import Table
from nejumi_proto.v1 import transcript_pb2, types_pb2

TASKS = ("alt-e-to-j", "alt-j-to-e", "commonsensemoralja", "jnli", "jsquad", "mawps")


def scored(
    benchmark: str,
    output: str,
    *responses: types_pb2.Response,
    scores: tuple[types_pb2.Score, ...] = (),
    error: str = "",
) -> ScoredRow:
    sample = types_pb2.Sample(benchmark=benchmark, task="t", id="1")
    events = [transcript_pb2.TranscriptEvent(model_call=transcript_pb2.ModelCall(response=r)) for r in responses]
    return ScoredRow(transcript_pb2.Transcript(sample=sample, events=events, output=output, error=error), scores)


def with_details(metric: str, value: float, **details: Any) -> types_pb2.Score:
    struct = struct_pb2.Struct()
    struct.update(details)
    return types_pb2.Score(metric=metric, value=value, details=struct)


def test_each_failure_kind_is_read_from_the_transcript() -> None:
    assert row_failures("m_ifeval", scored("m_ifeval", "", types_pb2.Response(text=""))) == [EMPTY]
    cut = types_pb2.Response(text="<think>long", finish_reason="length")
    assert row_failures("m_ifeval", scored("m_ifeval", "<think>long", cut)) == [CUT, UNCLOSED]
    closed = types_pb2.Response(text="<think>a</think>b", finish_reason="stop")
    assert row_failures("m_ifeval", scored("m_ifeval", "b", closed)) == []
    # A failed request is answered empty: a request error, not an empty output.
    failed = types_pb2.Response(error="UNAVAILABLE")
    assert row_failures("jaster", scored("jaster", "", failed, error="UNAVAILABLE")) == [REQUEST_ERROR]


def test_answer_extraction_uses_each_benchmarks_own_details() -> None:
    kept_nothing = with_details("exact_match", 0.0, output="", expected_output="1")
    assert row_failures("jaster", scored("jaster", "わかりません", scores=(kept_nothing,))) == [EXTRACTION]
    extracted = with_details("exact_match", 0.0, output="2", expected_output="1")
    assert row_failures("jaster", scored("jaster", "2です", scores=(extracted,))) == []
    assert row_failures("arc_agi", scored("arc_agi", "no grid", scores=(with_details("a", 0, verdict="no_candidate"),)))
    wrong_grid = scored("arc_agi", "[[1]]", scores=(with_details("a", 0, verdict="cell_mismatch"),))
    assert row_failures("arc_agi", wrong_grid) == []
    assert row_failures("jbbq", scored("jbbq", "x", scores=(types_pb2.Score(metric="format_error", value=1.0),)))
    # M-IFEval scores the text as written: no such notion, so no count at all.
    assert EXTRACTION not in breakdown("m_ifeval", [scored("m_ifeval", "x")]).counts
    assert breakdown("jbbq", [scored("jbbq", "x")]).counts[EXTRACTION] == 0


def test_quirk_notes_name_the_numbers_they_shape() -> None:
    assert score_quirk("jaster/_all/2shot/AVG") is JASTER_AVG
    assert score_quirk("jaster/_all/0shot/control_AVG") is CONTROL_AVG
    assert score_quirk("arc_agi/arc-agi-1/0shot/accuracy") is ARC_INT8
    assert score_quirk("aggregate/AVG_jaster_2shots") is AVG_JASTER
    assert score_quirk("jaster/jnli/0shot/exact_match") is None
    assert cell_quirk("jaster_2shot_leaderboard_table", "AVG") is JASTER_AVG
    assert cell_quirk("jaster_2shot_leaderboard_table", "jnli") is None
    assert cell_quirk("leaderboard_table", "AVG_jaster_0shot") is AVG_JASTER
    assert "third task" in note_text(JASTER_AVG, Compatibility())
    assert note_text(JASTER_AVG, Compatibility("corrected")) == "corrected (jaster AVG)"


def leaderboard(name: str, **values: float) -> Table:
    return Table(name, ["model_name", *values], [["m", *values.values()]])


def jaster_tables() -> list[Table]:
    return [
        leaderboard("jaster_0shot_leaderboard_table", AVG=0.3, **dict.fromkeys(TASKS, 0.2)),
        leaderboard("jaster_2shot_leaderboard_table", AVG=0.5, **dict.fromkeys(TASKS, 0.4)),
        leaderboard("jaster_control_0shot_leaderboard_table", AVG=0.9),
        leaderboard("jaster_control_2shot_leaderboard_table", AVG=0.7),
        leaderboard("jmmlu_robust_2shot_leaderboard_table", robust_score=0.5),
        leaderboard("arc_agi_leaderboard_table", **{"arc-agi-1": 0.5, "arc-agi-2": 0.0, "AVG": 0.25}),
    ]


def test_partial_values_come_from_what_ran_and_never_fill_a_gap_with_zero() -> None:
    values = partial_categories(jaster_tables(), {"jaster", "arc_agi"})
    assert few_shots(jaster_tables()) == 2
    assert values["GLP_翻訳"] == pytest.approx(0.3)
    assert values["GLP_抽象的推論"] == 0.25
    assert values["GLP_表現"] is None  # MT-bench only
    assert values["GLP_関数呼び出し"] is None
    assert values["GLP_応用的言語性能"] == pytest.approx(0.3)  # 翻訳 and 情報検索; 表現 left out
    assert values["ALT_制御性"] == pytest.approx(0.8)
    assert values["ALT_毒性"] is None and values["ALT_倫理・道徳"] == pytest.approx(0.4)


def test_partial_values_equal_the_aggregate_where_it_computes_them() -> None:
    tables = [
        *jaster_tables(),
        leaderboard("mtbench_leaderboard_table", AVG_mtbench=0.5, roleplay=0.6, writing=0.7, humanities=0.8),
        leaderboard("jbbq_2shot_leaderboard_table", acc=0.5, avg_abs_bias_score=0.1),
        leaderboard("toxicity_leaderboard_table", 公平性=0.5, 社会規範=0.6, 禁止行為=0.7, 違反カテゴリ=0.8),
        leaderboard("jtruthfulqa_leaderboard_table", overall_score=0.4),
    ]
    official = aggregate(tables, BENCHMARKS, ModelInfo("m")).row
    partial = partial_categories(tables, BENCHMARKS)
    for column in (*GLP_COLUMNS, *ALT_COLUMNS):
        assert partial[column] == (pytest.approx(official[column]) if official[column] is not None else None), column


def test_radar_png_is_an_image_with_every_axis() -> None:
    png = Image.open(io.BytesIO(radar_png("GLP", [("推論能力", 0.5), ("表現", None), ("翻訳", 0.25)])))
    assert png.format == "PNG" and png.size[0] > 300


def test_corrected_mode_says_corrected_beside_the_numbers(tmp_path: Path) -> None:
    result = RunResult(tmp_path, {"jaster/_all/0shot/AVG": 0.5}, {}, QueueStats(), 0.0, jaster_tables())
    page = write_report(result, ModelSpec(name="m", api="grpc"), Compatibility("corrected")).read_text("utf-8")
    assert "corrected (jaster AVG)" in page and "compatibility: corrected" in page
    official = write_report(result, ModelSpec(name="m", api="grpc")).read_text("utf-8")
    assert "iloc[:, 2:]" in official
