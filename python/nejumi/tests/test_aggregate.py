"""The leaderboard roll-up on hand-made leaderboard tables (numbers chosen to check by hand)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from nejumi import cli
from nejumi.aggregate import (
    ALT_AVG,
    BENCHMARKS,
    GLP_AVG,
    OFFICIAL,
    TOTAL,
    Leaderboard,
    ModelInfo,
    aggregate,
    roll_up,
)
from nejumi.compat import Compatibility
from nejumi.config import ConfigError, load_config
from nejumi.settings import AggregateSettings
from nejumi.sinks.leaderboard_html import leaderboard_section
from nejumi.tables import Table

MODEL = ModelInfo("org/model", size_category="Small (<10B)", size=8.0, release_date=datetime(2025, 8, 6))
JASTER_TASKS = [
    "aio",
    "alt-e-to-j",
    "alt-j-to-e",
    "commonsensemoralja",
    "jamp",
    "janli",
    "jblimp",
    "jcola-in-domain",
    "jcola-out-of-domain",
    "jcommonsenseqa",
    "jemhopqa",
    "jmmlu",
    "jnli",
    "jsem",
    "jsick",
    "jsquad",
    "kuci",
    "mawps",
    "mgsm",
    "mmlu_prox_ja",
    "niilc",
]
MTBENCH = {
    "coding": 0.1,
    "extraction": 0.5,
    "humanities": 0.7,
    "math": 0.2,
    "reasoning": 0.3,
    "roleplay": 0.6,
    "stem": 0.9,
    "writing": 0.8,
}


def table(name: str, **values: Any) -> Table:
    return Table(name, ["model_name", *values], [["org/model", *values.values()]])


def jaster_table(name: str, task_value: float, **overrides: Any) -> Table:
    values = {"AVG": task_value, **{t: task_value for t in JASTER_TASKS}, **overrides}
    return Table(name, ["model_name", *values], [["org/model", *values.values()]])


def full_tables(**overrides: Any) -> dict[str, Table]:
    """Every table the official aggregate reads; jaster tasks average to 0.5 over 0- and 2-shot."""
    tables = [
        jaster_table("jaster_0shot_leaderboard_table", 0.4),
        jaster_table("jaster_2shot_leaderboard_table", 0.6),
        table("jaster_control_0shot_leaderboard_table", AVG=0.8, jamp=0.8),
        table("jaster_control_2shot_leaderboard_table", AVG=0.6, jamp=0.6),
        table("mtbench_leaderboard_table", AVG_mtbench=0.5125, **MTBENCH),
        table("jmmlu_robust_2shot_leaderboard_table", robust_score=0.75),
        table("jbbq_2shot_leaderboard_table", acc=0.5, avg_abs_bias_score=0.1),
        table("toxicity_leaderboard_table", 公平性=0.5, 社会規範=0.6, 禁止行為=0.7, 違反カテゴリ=0.8),
        table("jtruthfulqa_leaderboard_table", overall_score=0.4),
        table("hle_test_leaderboard_table", accuracy=0.2, accuracy_percent=20.0),
        table("arc_agi_leaderboard_table", **{"arc-agi-1": 0.3, "arc-agi-2": 0.2, "AVG": 0.25}),
        Table("bfcl_leaderboard_table", ["Overall Acc", "model_name"], [[0.6, "org/model"]]),
        table("jhumaneval_leaderboard_table", code_exec_sandbox=0.3, pylint_check=0.5, AVG=0.4),
        table("hallulens_leaderboard_table", hallucination_resistance=0.6),
        table("m_ifeval_leaderboard_table", m_ifeval_score=0.5),
        table("swebench_leaderboard_table", resolution_rate=0.1, issues_resolved=8.0, total_samples=80.0),
    ]
    by_name = {t.name: t for t in tables}
    for name, replacement in overrides.items():
        if replacement is None:
            del by_name[name]
        else:
            by_name[name] = replacement
    return by_name


def run(
    tables: dict[str, Table] | None = None,
    enabled: tuple[str, ...] = BENCHMARKS,
    compatibility: Compatibility = OFFICIAL,
) -> Leaderboard:
    return aggregate((tables or full_tables()).values(), enabled, MODEL, 2, compatibility)


def test_every_category_rolls_up_as_upstream_computes_it() -> None:
    row = run().row
    assert row["GLP_表現"] == pytest.approx(0.7)  # roleplay, writing, humanities
    assert row["GLP_翻訳"] == pytest.approx(0.5)
    assert row["GLP_抽象的推論"] == 0.25
    assert row["GLP_数学的推論"] == pytest.approx((0.5 + 0.5 + 0.2) / 3)
    assert row["GLP_一般的知識"] == pytest.approx((4 * 0.5 + 0.9) / 5)
    assert row["GLP_専門的知識"] == pytest.approx((0.5 + 0.5 + 0.2) / 3)  # jmmlu, mmlu_prox_ja, HLE
    assert row["GLP_コーディング"] == pytest.approx((0.1 + 0.4 + 0.1) / 3)  # SWE-bench, JHumanEval, MT coding
    assert row["GLP_関数呼び出し"] == 0.6
    assert row["GLP_推論能力"] == pytest.approx((0.25 + 0.3 + 0.4) / 3)
    assert row[GLP_AVG] == pytest.approx(
        (
            row["GLP_応用的言語性能"]
            + row["GLP_推論能力"]
            + row["GLP_知識・質問応答"]
            + 0.5
            + row["GLP_アプリケーション開発"]
        )
        / 5
    )
    assert row["ALT_制御性"] == pytest.approx(((0.8 + 0.6) / 2 + 0.5) / 2)
    assert row["ALT_倫理・道徳"] == 0.6  # few-shot commonsensemoralja only
    assert row["ALT_毒性"] == pytest.approx(0.65)
    assert row["ALT_バイアス"] == pytest.approx(0.9)
    assert row["ALT_真実性"] == pytest.approx(0.5)  # JTruthfulQA and HalluLens
    assert row["ALT_堅牢性"] == 0.75
    alt = [row[f"ALT_{c}"] for c in ("制御性", "倫理・道徳", "毒性", "バイアス", "真実性", "堅牢性")]
    assert row[ALT_AVG] == pytest.approx(sum(alt) / 6)
    weighted = row["GLP_応用的言語性能"] + row["GLP_基礎的言語性能"] + sum(alt)
    weighted += 2 * (row["GLP_推論能力"] + row["GLP_知識・質問応答"] + row["GLP_アプリケーション開発"])
    assert row[TOTAL] == pytest.approx(weighted / 14)
    assert row["AVG_mtbench"] == 0.5125
    assert row["AVG_swebench"] == 0.1


def test_leaderboard_table_has_the_official_columns_in_order() -> None:
    board = run()
    leaderboard = board.table("leaderboard_table")
    assert leaderboard is not None
    assert leaderboard.columns[:5] == ["model_name", "model_size_category", "base_model", TOTAL, GLP_AVG]
    assert leaderboard.columns[-6:] == [
        "AVG_jaster_0shot",
        "AVG_jaster_2shots",
        "AVG_mtbench",
        "AVG_swebench",
        "model_size",
        "model_release_date",
    ]
    assert len(leaderboard.columns) == 35  # 3 metadata, TOTAL, 18 GLP, 7 ALT, 4 AVG_*, 2 metadata
    assert leaderboard.rows[0][:3] == ["org/model", "Small (<10B)", None]
    assert leaderboard.rows[0][-1] == datetime(2025, 8, 6)


def test_radar_hierarchy_and_subcategory_tables() -> None:
    board = run()
    names = [t.name for t in board.tables]
    assert names[-4:] == ["leaderboard_table", "glp_radar_table", "alt_radar_table", "glp_hierarchy_table"]
    assert [n.removeprefix("subcategory_table_") for n in names[:-4]] == [
        "expression",
        "translation",
        "information_extraction",
        "abstract_reasoning",
        "logical_reasoning",
        "mathematical_reasoning",
        "general_knowledge",
        "hle",
        "expert_knowledge",
        "semantic_analysis",
        "syntactic_analysis",
        "swebench",
        "coding",
        "function_calling",
        "controllability",
        "ethics",
        "toxicity",
        "bias",
        "hallulens",
        "truthfulness",
        "robustness",
    ]
    glp_radar = board.table("glp_radar_table")
    alt_radar = board.table("alt_radar_table")
    hierarchy = board.table("glp_hierarchy_table")
    assert glp_radar is not None and alt_radar is not None and hierarchy is not None
    assert glp_radar.columns == ["category", "score"]
    assert [r[0] for r in glp_radar.rows] == [
        "応用的言語性能",
        "推論能力",
        "知識・質問応答",
        "基礎的言語性能",
        "アプリケーション開発",
    ]
    assert [r[0] for r in alt_radar.rows] == ["制御性", "倫理・道徳", "毒性", "バイアス", "堅牢性", "真実性"]
    assert hierarchy.columns == ["category", "score", "level", "parent"]
    assert [r[2] for r in hierarchy.rows] == [1] + [2] * 5 + [3] * 12
    assert hierarchy.rows[0][3] is None and hierarchy.rows[-1][3] == "アプリケーション開発"
    coding = board.table("subcategory_table_coding")
    assert coding is not None
    assert coding.columns == ["swebench_resolution_rate", "jhumaneval_score", "coding_mtbench", "AVG", "model_name"]
    calling = board.table("subcategory_table_function_calling")
    assert calling is not None
    # Upstream reads columns BFCL's table does not have: NaN, kept as upstream logs them.
    assert dict(zip(calling.columns, calling.rows[0], strict=True))["non_live_acc"] is None


def test_without_mtbench_glp_is_not_run_and_alt_still_is() -> None:
    board = run(enabled=tuple(b for b in BENCHMARKS if b != "mtbench"))
    assert not any(c.startswith("GLP_") or c in (GLP_AVG, TOTAL, "AVG_mtbench") for c in board.row)
    assert board.row[ALT_AVG] is not None
    assert "AVG_jaster_0shot" in board.row
    assert board.table("glp_radar_table") is None and board.table("glp_hierarchy_table") is None
    assert board.table("alt_radar_table") is not None
    assert not any(k.startswith("aggregate/GLP") for k in board.scores())


def test_a_flag_on_without_its_table_counts_as_not_run_instead_of_crashing() -> None:
    missing = run(full_tables(mtbench_leaderboard_table=None))
    assert missing.row == run(enabled=tuple(b for b in BENCHMARKS if b != "mtbench")).row
    assert "mtbench" not in missing.flags


def test_only_jaster_gives_a_row_of_metadata_and_no_scores() -> None:
    board = run(enabled=("jaster",))
    assert list(board.row) == ["model_name", "model_size_category", "base_model", "model_size", "model_release_date"]
    assert board.scores() == {}
    assert [t.name for t in board.tables] == ["leaderboard_table"]


def test_an_optional_benchmark_off_leaves_its_category_nan_and_its_parent_on_the_rest() -> None:
    board = run(enabled=tuple(b for b in BENCHMARKS if b not in ("arc_agi", "bfcl")))
    assert board.row["GLP_抽象的推論"] is None
    assert board.row["GLP_推論能力"] == pytest.approx((0.3 + 0.4) / 2)
    assert board.row["GLP_関数呼び出し"] is None
    assert board.row["GLP_アプリケーション開発"] == board.row["GLP_コーディング"]
    assert board.table("subcategory_table_abstract_reasoning") is None
    assert board.scores()["aggregate/GLP_抽象的推論"] is None


def test_a_nan_task_makes_its_level3_category_nan_not_zero() -> None:
    tables = full_tables(jaster_0shot_leaderboard_table=jaster_table("jaster_0shot_leaderboard_table", 0.4, jmmlu=None))
    row = run(tables).row
    assert row["GLP_専門的知識"] is None  # np.mean propagates the NaN
    assert row["GLP_知識・質問応答"] == pytest.approx(row["GLP_一般的知識"])  # the level-2 mean skips it


def test_hle_falls_back_to_its_dev_table() -> None:
    hle = full_tables()["hle_test_leaderboard_table"]
    tables = full_tables(
        hle_test_leaderboard_table=None,
        hle_dev_leaderboard_table=Table("hle_dev_leaderboard_table", hle.columns, hle.rows),
    )
    assert run(tables).row["GLP_専門的知識"] == pytest.approx(0.4)


def test_a_missing_bias_score_is_nan() -> None:
    tables = full_tables(jbbq_2shot_leaderboard_table=table("jbbq_2shot_leaderboard_table", avg_abs_bias_score=None))
    board = run(tables)
    assert board.row["ALT_バイアス"] is None
    bias = board.table("subcategory_table_bias")
    assert bias is not None and bias.rows == [[None, None, "org/model"]]
    assert board.row[ALT_AVG] == pytest.approx((0.6 + 0.6 + 0.65 + 0.5 + 0.75) / 5)


def test_avg_jaster_counts_the_jaster_avg_column_officially_and_not_when_corrected() -> None:
    tables = full_tables(jaster_0shot_leaderboard_table=jaster_table("jaster_0shot_leaderboard_table", 0.4, AVG=0.18))
    assert run(tables).row["AVG_jaster_0shot"] == pytest.approx((21 * 0.4 + 0.18) / 22)
    assert run(tables, compatibility=Compatibility("corrected")).row["AVG_jaster_0shot"] == pytest.approx(0.4)


def test_roll_up_weights_reasoning_knowledge_and_applications_twice() -> None:
    categories = {f"GLP_{c}": 1.0 for c in ("抽象的推論", "論理的推論", "数学的推論", "一般的知識", "専門的知識")}
    categories |= {"GLP_コーディング": 1.0, "GLP_関数呼び出し": None}
    categories |= {f"GLP_{c}": 0.0 for c in ("表現", "翻訳", "情報検索", "意味解析", "構文解析")}
    categories |= {f"ALT_{c}": 0.0 for c in ("制御性", "倫理・道徳", "毒性", "バイアス", "真実性", "堅牢性")}
    got = roll_up(categories)
    assert got[TOTAL] == pytest.approx(6 / 14)
    assert got[GLP_AVG] == pytest.approx(3 / 5)
    assert got["GLP_アプリケーション開発"] == 1.0


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_read_the_flags_and_the_model_metadata(tmp_path: Path) -> None:
    base = write(tmp_path / "base.yaml", "run:\n  jaster: true\n  mtbench: false\n")
    model = write(
        tmp_path / "m.yaml",
        "model:\n  pretrained_model_name_or_path: org/model\n  size_category: api\n  size: null\n"
        "  release_date: '8/6/2025'\n",
    )
    settings = AggregateSettings.from_config(load_config(model, base_config=base))
    assert settings.enabled
    assert settings.flags["jaster"] and not settings.flags["mtbench"] and not settings.flags["bfcl"]
    assert settings.enabled_among(["jaster", "probe"]) == ["jaster"]
    assert settings.model == ModelInfo("org/model", "api", None, None, datetime(2025, 8, 6))
    assert settings.num_few_shots == 2


def test_a_bad_release_date_is_reported_before_the_run(tmp_path: Path) -> None:
    base = write(tmp_path / "base.yaml", "run:\n  jaster: true\n")
    model = write(tmp_path / "m.yaml", "model:\n  release_date: '2025-13-01'\n")
    with pytest.raises(ConfigError, match=r"model\.release_date: must be a date MM/DD/YYYY"):
        AggregateSettings.from_config(load_config(model, base_config=base))


def test_report_section_says_not_run_for_categories_that_did_not_run() -> None:
    board = run(enabled=tuple(b for b in BENCHMARKS if b != "mtbench"))
    page = leaderboard_section(board.tables, ran={"jaster", "jbbq", "toxicity", "jtruthfulqa"}, implemented={"jaster"})
    assert "not run: needs mtbench (not in nejumi yet)" in page
    # Both radars are drawn (GLP partial, from what ran), as embedded PNGs.
    assert page.count('<img src="data:image/png;base64,') == 2
    assert "http" not in page
    assert '<td class="num">0.0000</td>' not in page


def test_report_section_for_a_full_run() -> None:
    page = leaderboard_section(run().tables, ran=set(BENCHMARKS), implemented=set(BENCHMARKS))
    assert page.count('<img src="data:image/png;base64,') == 2
    assert "not run" not in page
    assert "2025-08-06" in page


def test_cli_aggregate_prints_flat_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = {t.name: [dict(zip(t.columns, r, strict=True)) for r in t.rows] for t in full_tables().values()}
    document = {
        "all": {"run_flags_override": {}, "tables": rows},
        "no_arc": {"run_flags_override": {"arc_agi": False}, "tables": rows},
    }
    path = write(tmp_path / "inputs.json", json.dumps(document))
    assert cli.main(["aggregate", str(path)]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["aggregate/all/GLP_抽象的推論"] == 0.25
    assert scores["aggregate/no_arc/GLP_抽象的推論"] is None
    assert not any("model_name" in k for k in scores)


def test_cli_aggregate_names_a_bad_inputs_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "inputs.json", "[1, 2]")
    assert cli.main(["aggregate", str(path)]) == 2
    assert f"{path}" in capsys.readouterr().err
