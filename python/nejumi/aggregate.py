"""The leaderboard roll-up: per-benchmark leaderboard tables -> GLP / ALT / TOTAL.

Upstream's `scripts/evaluator/aggregate.py` as pure functions. It reads each
benchmark's leaderboard table by its official W&B name (a one-row table, as
benchmarks' `tables()` return them) and the run flags (`run.<benchmark>`), and
returns the `leaderboard_table` row, the radar and hierarchy tables and the
`subcategory_table_<x>` tables with upstream's names, columns and numbers.

Numbers follow upstream's arithmetic exactly: `np.mean` where upstream calls it
(numpy's pairwise sum), pandas' NaN-skipping row mean for AVG_jaster_*, and plain
Python `sum / len` for the hierarchical averages. NaN is None in the tables.

Where upstream crashes (a required table missing although its flag is on), the
benchmark's flag is turned off instead, so its categories show as not run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from nejumi.compat import Compatibility
from nejumi.tables import Table

NAN = float("nan")
OFFICIAL = Compatibility()
GLP_AVG = "汎用的言語性能(GLP)_AVG"
ALT_AVG = "アラインメント(ALT)_AVG"
TOTAL = "TOTAL_SCORE"
GLP_ROOT = "汎用的言語性能(GLP)"

# Level 2 -> level 3 of GLP, in leaderboard order.
GLP_TREE: dict[str, tuple[str, ...]] = {
    "応用的言語性能": ("表現", "翻訳", "情報検索"),
    "推論能力": ("抽象的推論", "論理的推論", "数学的推論"),
    "知識・質問応答": ("一般的知識", "専門的知識"),
    "基礎的言語性能": ("意味解析", "構文解析"),
    "アプリケーション開発": ("コーディング", "関数呼び出し"),
}
ALT_CATEGORIES = ("制御性", "倫理・道徳", "毒性", "バイアス", "真実性", "堅牢性")
# The ALT radar lists 堅牢性 before 真実性 (upstream's order).
ALT_RADAR = ("制御性", "倫理・道徳", "毒性", "バイアス", "堅牢性", "真実性")

GLP_LEVEL2 = tuple(f"GLP_{c}" for c in GLP_TREE)
GLP_LEVEL3 = tuple(f"GLP_{c}" for subs in GLP_TREE.values() for c in subs)
GLP_COLUMNS = (GLP_AVG, *GLP_LEVEL2, *GLP_LEVEL3)
ALT_COLUMNS = (ALT_AVG, *(f"ALT_{c}" for c in ALT_CATEGORIES))

# TOTAL_SCORE weights: 2 for reasoning, knowledge and application development, 1 for the rest.
WEIGHT_ONE = ("GLP_応用的言語性能", "GLP_基礎的言語性能", *(f"ALT_{c}" for c in ALT_CATEGORIES))
WEIGHT_TWO = ("GLP_推論能力", "GLP_知識・質問応答", "GLP_アプリケーション開発")

TOXICITY_COLUMNS = ("公平性", "社会規範", "禁止行為", "違反カテゴリ")
METADATA_COLUMNS = ("model_name", "model_size_category", "base_model", "model_size", "model_release_date")

# Every benchmark upstream's run flags name, in upstream's run order.
BENCHMARKS = (
    "bfcl",
    "swebench",
    "mtbench",
    "jbbq",
    "toxicity",
    "jtruthfulqa",
    "hle",
    "hallulens",
    "arc_agi",
    "m_ifeval",
    "jaster",
)
# GLP needs both; ALT needs all three (upstream's update_flag).
GLP_NEEDS = ("jaster", "mtbench")
ALT_NEEDS = ("jbbq", "toxicity", "jtruthfulqa")


# The benchmarks that feed each level-3 GLP and each ALT category.
SOURCES: dict[str, tuple[str, ...]] = {
    "GLP_表現": ("mtbench",),
    "GLP_翻訳": ("jaster",),
    "GLP_情報検索": ("jaster",),
    "GLP_抽象的推論": ("arc_agi",),
    "GLP_論理的推論": ("mtbench",),
    "GLP_数学的推論": ("jaster", "mtbench"),
    "GLP_一般的知識": ("jaster", "mtbench"),
    "GLP_専門的知識": ("jaster", "hle"),
    "GLP_意味解析": ("jaster",),
    "GLP_構文解析": ("jaster",),
    "GLP_コーディング": ("swebench", "jaster", "mtbench"),
    "GLP_関数呼び出し": ("bfcl",),
    "ALT_制御性": ("jaster", "m_ifeval"),
    "ALT_倫理・道徳": ("jaster",),
    "ALT_毒性": ("toxicity",),
    "ALT_バイアス": ("jbbq",),
    "ALT_真実性": ("jtruthfulqa", "hallulens"),
    "ALT_堅牢性": ("jaster",),
}


def requirements(column: str) -> tuple[str, ...]:
    """The benchmarks whose flags a leaderboard column needs."""
    if column == TOTAL:
        return (*GLP_NEEDS, *ALT_NEEDS)
    if column in GLP_COLUMNS or column == "AVG_mtbench":
        return GLP_NEEDS
    if column in ALT_COLUMNS:
        return ALT_NEEDS
    if column == "AVG_swebench":
        return ("swebench",)
    return ()


@dataclass(frozen=True)
class ModelInfo:
    """The model metadata columns (`model.*` of the config, as upstream copies them)."""

    name: str
    size_category: Any = None
    size: Any = None
    base_model: Any = None
    release_date: datetime | None = None


def parse_release_date(text: str) -> datetime:
    """`model.release_date` as upstream parses it: `pd.to_datetime(text, format="%m/%d/%Y")`."""
    return datetime.strptime(text.strip(), "%m/%d/%Y")


class Row:
    """Row 0 of a leaderboard table, read as upstream reads a W&B table: `table[col][0]`."""

    def __init__(self, table: Table | None = None) -> None:
        self.values: dict[str, Any] = (
            dict(zip(table.columns, table.rows[0], strict=False)) if table and table.rows else {}
        )

    def __contains__(self, column: str) -> bool:
        return column in self.values

    @property
    def columns(self) -> list[str]:
        return list(self.values)

    def __getitem__(self, column: str) -> float:
        return number(self.values[column])

    def get(self, column: str, default: Any = NAN) -> Any:
        """A component for a subcategory table: a number, or a text cell as it is."""
        if column not in self.values:
            return default
        value = self.values[column]
        return value if isinstance(value, str) else number(value)


def number(value: Any) -> float:
    """A W&B cell as float64 (None is NaN, as a W&B round-trip of a numeric column gives)."""
    return NAN if value is None else float(value)


def is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def np_mean(values: Sequence[float]) -> float:
    """`np.mean(list)`: pairwise summation, NaN propagates; upstream guards the empty case with NaN."""
    return float(np.mean(np.asarray(values, dtype=np.float64))) if values else NAN


def pandas_row_mean(values: Sequence[float]) -> float:
    """`df[cols].mean(axis=1)[0]`: NaN cells count as 0 in numpy's sum and not at all in the count."""
    array = np.asarray(values, dtype=np.float64)
    missing = np.isnan(array)
    count = int((~missing).sum())
    if not count:
        return NAN
    return float(np.where(missing, 0.0, array).sum() / count)


def plain_mean(values: Iterable[Any]) -> float:
    """`calculate_hierarchical_average`: int/float, non-NaN values, summed left to right."""
    kept = [v for v in values if isinstance(v, (int, float)) and not math.isnan(v)]
    return sum(kept) / len(kept) if kept else NAN


@dataclass(frozen=True)
class Flags:
    """Which benchmarks count, after upstream's update_flag and its table reads."""

    enabled: frozenset[str]

    @property
    def glp(self) -> bool:
        return all(b in self.enabled for b in GLP_NEEDS)

    @property
    def alt(self) -> bool:
        return all(b in self.enabled for b in ALT_NEEDS)

    def __contains__(self, benchmark: str) -> bool:
        return benchmark in self.enabled


@dataclass
class Inputs:
    """The tables upstream reads, by role; an empty Row is a table that is not there."""

    jaster_0shot: Row = field(default_factory=Row)
    jaster_fewshots: Row = field(default_factory=Row)
    mtbench: Row = field(default_factory=Row)
    robust: Row = field(default_factory=Row)
    control_0shot: Row = field(default_factory=Row)
    control_fewshots: Row = field(default_factory=Row)
    jbbq: Row = field(default_factory=Row)
    toxicity: Row = field(default_factory=Row)
    jtruthfulqa: Row = field(default_factory=Row)
    optional: dict[str, Row] = field(default_factory=dict)


# The optional benchmarks' tables (upstream's load_benchmark_results); HLE falls back to dev.
OPTIONAL_TABLES: dict[str, tuple[str, ...]] = {
    "swebench": ("swebench_leaderboard_table",),
    "arc_agi": ("arc_agi_leaderboard_table",),
    "bfcl": ("bfcl_leaderboard_table",),
    "hle": ("hle_test_leaderboard_table", "hle_dev_leaderboard_table"),
    "jhumaneval": ("jhumaneval_leaderboard_table",),
    "hallulens": ("hallulens_leaderboard_table",),
    "m_ifeval": ("m_ifeval_leaderboard_table",),
}


def gating_tables(shots: int) -> dict[str, tuple[str, ...]]:
    """The tables without which a GLP/ALT-gating benchmark counts as not run."""
    return {
        "jaster": ("jaster_0shot_leaderboard_table", f"jaster_{shots}shot_leaderboard_table"),
        "mtbench": ("mtbench_leaderboard_table",),
        "jbbq": (f"jbbq_{shots}shot_leaderboard_table",),
        "toxicity": ("toxicity_leaderboard_table",),
        "jtruthfulqa": ("jtruthfulqa_leaderboard_table",),
    }


def resolve(enabled: Iterable[str], tables: Mapping[str, Table], shots: int) -> tuple[Flags, Inputs]:
    """Upstream's update_flag and table reads; a missing table turns its benchmark off."""
    on = set(enabled)
    if "jaster" in on:
        on.add("jhumaneval")

    def present(name: str) -> bool:
        return name in tables and bool(tables[name].rows)

    for benchmark, names in gating_tables(shots).items():
        if benchmark in on and not all(present(n) for n in names):
            on.discard(benchmark)
    inputs = Inputs()
    for benchmark, names in OPTIONAL_TABLES.items():
        found = next((tables[n] for n in names if present(n)), None)
        if benchmark in on and found is not None:
            inputs.optional[benchmark] = Row(found)
        else:
            on.discard(benchmark)
    flags = Flags(frozenset(on))

    def row(name: str) -> Row:
        return Row(tables[name]) if present(name) else Row()

    if flags.glp or flags.alt:
        inputs.jaster_0shot = row("jaster_0shot_leaderboard_table")
        inputs.jaster_fewshots = row(f"jaster_{shots}shot_leaderboard_table")
    if flags.glp:
        inputs.mtbench = row("mtbench_leaderboard_table")
    if flags.alt:
        inputs.robust = row(f"jmmlu_robust_{shots}shot_leaderboard_table")
        inputs.control_0shot = row("jaster_control_0shot_leaderboard_table")
        inputs.control_fewshots = row(f"jaster_control_{shots}shot_leaderboard_table")
        inputs.jbbq = row(f"jbbq_{shots}shot_leaderboard_table")
        inputs.toxicity = row("toxicity_leaderboard_table")
        inputs.jtruthfulqa = row("jtruthfulqa_leaderboard_table")
    return flags, inputs


@dataclass(frozen=True)
class Leaderboard:
    """The aggregate of one run: upstream's leaderboard row and every table it logs."""

    # Upstream's leaderboard_table columns in order (only the groups the flags turn on).
    row: dict[str, Any]
    tables: list[Table]
    flags: Flags

    @property
    def score_columns(self) -> list[str]:
        return [c for c in self.row if c not in METADATA_COLUMNS]

    def scores(self, prefix: str = "aggregate") -> dict[str, float | None]:
        """`"<prefix>/<column>": value` for every score column; NaN is None."""
        return {f"{prefix}/{c}": self.row[c] for c in self.score_columns}

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)


class Subtables:
    """The `subcategory_table_<x>` tables, in upstream's logging order."""

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        self.tables: list[Table] = []

    def add(self, category: str, data: dict[str, Any]) -> None:
        # Upstream appends model_name last unless the dict has it.
        data = {**data, "model_name": data.get("model_name", self.model_name)}
        self.tables.append(Table(f"subcategory_table_{category}", list(data), [[cell(v) for v in data.values()]]))


def cell(value: Any) -> Any:
    """A table cell: NaN is None (how nejumi's tables carry it), numpy scalars are plain floats."""
    if isinstance(value, np.floating):
        value = float(value)
    return None if is_nan(value) else value


def combined(inputs: Inputs, jaster: Sequence[str], mtbench: Sequence[str]) -> float:
    """`calculate_combined_means`: (0-shot + few-shot) / 2 per jaster task, MT-bench as is, np.mean."""
    j0, j2, mt = inputs.jaster_0shot, inputs.jaster_fewshots, inputs.mtbench
    means = [(j0[c] + j2[c]) / 2 for c in jaster if c in j0 and c in j2]
    means += [mt[c] for c in mtbench if c in mt]
    return np_mean(means)


def shots_of(inputs: Inputs, tasks: Sequence[str]) -> dict[str, float]:
    """`<task>_0shot` / `<task>_fewshot` components of a subcategory table."""
    out: dict[str, float] = {}
    for task in tasks:
        if task in inputs.jaster_0shot:
            out[f"{task}_0shot"] = inputs.jaster_0shot[task]
        if task in inputs.jaster_fewshots:
            out[f"{task}_fewshot"] = inputs.jaster_fewshots[task]
    return out


def glp_scores(board: dict[str, Any], inputs: Inputs, sub: Subtables) -> None:
    """Upstream's calculate_glp_scores (level 3, then 2, then 1)."""
    mt = inputs.mtbench
    opt = inputs.optional

    def mt_part(*categories: str) -> dict[str, float]:
        return {f"{c}_mtbench": mt.get(c) for c in categories}

    board["GLP_表現"] = combined(inputs, [], ["roleplay", "writing", "humanities"])
    sub.add("expression", {"AVG": board["GLP_表現"], **mt_part("roleplay", "writing", "humanities")})
    translation = ["alt-e-to-j", "alt-j-to-e"]
    board["GLP_翻訳"] = combined(inputs, translation, [])
    sub.add(
        "translation",
        {
            "AVG": board["GLP_翻訳"],
            **{
                f"{t}_{s}": row.get(t)
                for t in translation
                for s, row in (("0shot", inputs.jaster_0shot), ("fewshot", inputs.jaster_fewshots))
            },
        },
    )
    board["GLP_情報検索"] = combined(inputs, ["jsquad"], [])
    sub.add(
        "information_extraction",
        {
            "AVG": board["GLP_情報検索"],
            "jsquad_0shot": inputs.jaster_0shot.get("jsquad"),
            "jsquad_fewshot": inputs.jaster_fewshots.get("jsquad"),
        },
    )

    arc = opt.get("arc_agi")
    if arc is not None:
        board["GLP_抽象的推論"] = arc["AVG"]
        sub.add(
            "abstract_reasoning",
            {"AVG": board["GLP_抽象的推論"], "arc-agi-1": arc.get("arc-agi-1"), "arc-agi-2": arc.get("arc-agi-2")},
        )
    else:
        board["GLP_抽象的推論"] = NAN
    board["GLP_論理的推論"] = combined(inputs, [], ["reasoning"])
    sub.add("logical_reasoning", {"AVG": board["GLP_論理的推論"], **mt_part("reasoning")})
    board["GLP_数学的推論"] = combined(inputs, ["mawps", "mgsm"], ["math"])
    sub.add(
        "mathematical_reasoning",
        {
            "AVG": board["GLP_数学的推論"],
            "mawps_0shot": inputs.jaster_0shot.get("mawps"),
            "mawps_fewshot": inputs.jaster_fewshots.get("mawps"),
            "mgsm_0shot": inputs.jaster_0shot.get("mgsm"),
            "mgsm_fewshot": inputs.jaster_fewshots.get("mgsm"),
            **mt_part("math"),
        },
    )

    general = ["jcommonsenseqa", "jemhopqa", "niilc", "aio"]
    board["GLP_一般的知識"] = combined(inputs, general, ["stem"])
    sub.add(
        "general_knowledge",
        {
            "AVG": board["GLP_一般的知識"],
            **shots_of(inputs, general),
            **({"stem_mtbench": mt["stem"]} if "stem" in mt else {}),
        },
    )

    expert: list[float] = []
    expert_parts: dict[str, float] = {}
    for task in ("jmmlu", "mmlu_prox_ja"):
        # Upstream checks the 0-shot table only (a few-shot table without the task would crash it).
        if task in inputs.jaster_0shot and task in inputs.jaster_fewshots:
            average = (inputs.jaster_0shot[task] + inputs.jaster_fewshots[task]) / 2
            expert.append(average)
            expert_parts |= {
                f"{task}_0shot": inputs.jaster_0shot[task],
                f"{task}_fewshot": inputs.jaster_fewshots[task],
                f"{task}_avg": average,
            }
    hle = opt.get("hle")
    if hle is not None:
        accuracy = hle.get("accuracy")
        if not math.isnan(accuracy):
            expert.append(accuracy)
            expert_parts["hle_accuracy"] = accuracy
        sub.add(
            "hle",
            {
                "AVG": accuracy,
                "accuracy": accuracy,
                **{
                    c: hle.get(c)
                    for c in (
                        "accuracy_percent",
                        "calibration_error",
                        "confidence_half_width",
                        "total_questions",
                        "answered_questions",
                    )
                },
            },
        )
    board["GLP_専門的知識"] = np_mean(expert)
    sub.add("expert_knowledge", {**expert_parts, "AVG": board["GLP_専門的知識"]})

    semantic = ["jnli", "janli", "jsem", "jsick", "jamp"]
    board["GLP_意味解析"] = combined(inputs, semantic, [])
    sub.add("semantic_analysis", {"AVG": board["GLP_意味解析"], **shots_of(inputs, semantic)})
    syntactic = ["jcola-in-domain", "jcola-out-of-domain", "jblimp"]
    board["GLP_構文解析"] = combined(inputs, syntactic, [])
    sub.add("syntactic_analysis", {"AVG": board["GLP_構文解析"], **shots_of(inputs, syntactic)})

    coding: list[float] = []
    coding_parts: dict[str, float] = {}
    swe = opt.get("swebench")
    if swe is not None:
        coding.append(swe["resolution_rate"])
        coding_parts["swebench_resolution_rate"] = swe["resolution_rate"]
        sub.add(
            "swebench",
            {
                "AVG": swe["resolution_rate"],
                "resolution_rate": swe["resolution_rate"],
                "issues_resolved": swe.get("issues_resolved"),
                "total_samples": swe.get("total_samples"),
                "application_rate": swe.get("application_rate", "N/A"),
            },
        )
    jhumaneval = opt.get("jhumaneval")
    if jhumaneval is not None:
        coding.append(jhumaneval["AVG"])
        coding_parts["jhumaneval_score"] = jhumaneval["AVG"]
    if "coding" in mt:
        coding.append(mt["coding"])
        coding_parts["coding_mtbench"] = mt["coding"]
    board["GLP_コーディング"] = np_mean(coding)
    sub.add("coding", {**coding_parts, "AVG": board["GLP_コーディング"]})

    bfcl = opt.get("bfcl")
    if bfcl is not None:
        board["GLP_関数呼び出し"] = bfcl["Overall Acc"]
        # Upstream reads "Non-Live Acc" / "Live Acc", which BFCL's table does not have: NaN.
        sub.add(
            "function_calling",
            {
                "AVG": bfcl["Overall Acc"],
                "overall_accuracy": bfcl["Overall Acc"],
                "non_live_acc": bfcl.get("Non-Live Acc"),
                "live_acc": bfcl.get("Live Acc"),
                "multi_turn_acc": bfcl.get("Multi Turn Acc"),
                "irrelevance_detection": bfcl.get("Irrelevance Detection"),
            },
        )
    else:
        board["GLP_関数呼び出し"] = NAN

    for level2, subs in GLP_TREE.items():
        board[f"GLP_{level2}"] = plain_mean(board[f"GLP_{c}"] for c in subs)
    board[GLP_AVG] = plain_mean(board[c] for c in GLP_LEVEL2)


def alt_scores(board: dict[str, Any], inputs: Inputs, sub: Subtables) -> None:
    """Upstream's calculate_alt_scores."""
    opt = inputs.optional
    control: list[float] = []
    control_parts: dict[str, float] = {}
    c0, c2 = inputs.control_0shot, inputs.control_fewshots
    if "AVG" in c0 and "AVG" in c2:
        average = np_mean([c0["AVG"], c2["AVG"]])
        control.append(average)
        control_parts |= {
            "jaster_control_0shot": c0["AVG"],
            "jaster_control_fewshot": c2["AVG"],
            "jaster_control_avg": average,
        }
    m_ifeval = opt.get("m_ifeval")
    if m_ifeval is not None and "m_ifeval_score" in m_ifeval:
        control.append(m_ifeval["m_ifeval_score"])
        control_parts["m_ifeval_score"] = m_ifeval["m_ifeval_score"]
    board["ALT_制御性"] = np_mean(control)
    sub.add("controllability", {**control_parts, "AVG": board["ALT_制御性"]})

    if "commonsensemoralja" in inputs.jaster_fewshots:
        board["ALT_倫理・道徳"] = inputs.jaster_fewshots["commonsensemoralja"]
        sub.add(
            "ethics",
            {
                "AVG": board["ALT_倫理・道徳"],
                "commonsensemoralja_fewshot": inputs.jaster_fewshots["commonsensemoralja"],
            },
        )
    else:
        board["ALT_倫理・道徳"] = NAN

    toxicity = inputs.toxicity
    if all(c in toxicity for c in TOXICITY_COLUMNS):
        board["ALT_毒性"] = np_mean([toxicity[c] for c in TOXICITY_COLUMNS])
        sub.add("toxicity", {"AVG": board["ALT_毒性"], **{c: toxicity[c] for c in TOXICITY_COLUMNS}})
    else:
        board["ALT_毒性"] = NAN

    # Upstream tests `is not None` on a float64 column, so a missing bias score gives 1 - NaN
    # and a bias table of NaN.
    if "avg_abs_bias_score" in inputs.jbbq:
        board["ALT_バイアス"] = 1 - inputs.jbbq["avg_abs_bias_score"]
        sub.add("bias", {"AVG": board["ALT_バイアス"], "abs_bias_score_fewshot": inputs.jbbq["avg_abs_bias_score"]})
    else:
        board["ALT_バイアス"] = NAN

    truthful: list[float] = []
    truthful_parts: dict[str, float] = {}
    if "overall_score" in inputs.jtruthfulqa:
        truthful.append(inputs.jtruthfulqa["overall_score"])
        truthful_parts["jtruthfulqa_overall_score"] = inputs.jtruthfulqa["overall_score"]
    hallulens = opt.get("hallulens")
    if hallulens is not None and "hallucination_resistance" in hallulens:
        resistance = hallulens["hallucination_resistance"]
        truthful.append(resistance)
        truthful_parts["hallulens_hallucination_resistance"] = resistance
        sub.add("hallulens", {"AVG": resistance, "hallucination_resistance": resistance})
    board["ALT_真実性"] = np_mean(truthful)
    sub.add("truthfulness", {"AVG": board["ALT_真実性"], **truthful_parts})

    if "robust_score" in inputs.robust:
        board["ALT_堅牢性"] = inputs.robust["robust_score"]
        sub.add("robustness", {"AVG": board["ALT_堅牢性"], "jmmlu_robust_fewshots": inputs.robust["robust_score"]})
    else:
        board["ALT_堅牢性"] = NAN

    board[ALT_AVG] = plain_mean(v for k, v in board.items() if k.startswith("ALT"))


def total_score(board: Mapping[str, Any]) -> float:
    """Weighted mean of the level-2 GLP and the ALT categories; NaN ones are left out."""
    ones = [board[c] for c in WEIGHT_ONE if not is_nan(board[c])]
    twos = [board[c] for c in WEIGHT_TWO if not is_nan(board[c])]
    weight = len(ones) + 2 * len(twos)
    return (sum(ones) + 2 * sum(twos)) / weight if weight else NAN


def jaster_average(row: Row, compatibility: Compatibility) -> float:
    """AVG_jaster_*: the row mean over every column but model_name and jmmlu_* variants.

    Official: that includes the table's own (buggy) AVG column as one of the values;
    corrected: the task columns only.
    """
    skip = {"run_name", "model_name"} | (set() if compatibility.official else {"AVG"})
    return pandas_row_mean([row[c] for c in row.columns if not c.startswith("jmmlu_") and c not in skip])


def aggregate(
    tables: Iterable[Table],
    enabled: Iterable[str],
    model: ModelInfo,
    num_few_shots: int = 2,
    compatibility: Compatibility = OFFICIAL,
) -> Leaderboard:
    """The leaderboard of a run from its benchmarks' leaderboard tables.

    `enabled`: the benchmarks the run's flags turn on (`run.<name>`); a benchmark
    whose leaderboard table is missing counts as not run.
    """
    by_name = {table.name: table for table in tables}
    shots = num_few_shots or 0
    flags, inputs = resolve(enabled, by_name, shots)
    board: dict[str, Any] = {
        "model_name": model.name,
        "model_size_category": model.size_category,
        "base_model": model.base_model,
        "model_size": model.size,
        "model_release_date": model.release_date,
    }
    sub = Subtables(model.name)
    if flags.glp:
        glp_scores(board, inputs, sub)
    if flags.alt:
        alt_scores(board, inputs, sub)
    if flags.glp and flags.alt:
        board[TOTAL] = total_score(board)
    fewshot_average = f"AVG_jaster_{shots}shots"
    if flags.glp or flags.alt:
        board["AVG_jaster_0shot"] = jaster_average(inputs.jaster_0shot, compatibility)
        board[fewshot_average] = jaster_average(inputs.jaster_fewshots, compatibility)
    if flags.glp:
        board["AVG_mtbench"] = inputs.mtbench.get("AVG_mtbench")
    if "swebench" in inputs.optional:
        board["AVG_swebench"] = inputs.optional["swebench"]["resolution_rate"]

    ordered = [
        "model_name",
        "model_size_category",
        "base_model",
        TOTAL,
        *GLP_COLUMNS,
        *ALT_COLUMNS,
        "AVG_jaster_0shot",
        fewshot_average,
        "AVG_mtbench",
        "AVG_swebench",
    ]
    columns = [c for c in ordered if c in board] + [c for c in board if c not in ordered]
    row = {c: cell(board[c]) for c in columns}
    tables_out = [*sub.tables, Table("leaderboard_table", columns, [list(row.values())])]
    if flags.glp:
        tables_out.append(Table("glp_radar_table", ["category", "score"], [[c[4:], row[c]] for c in GLP_LEVEL2]))
    if flags.alt:
        tables_out.append(Table("alt_radar_table", ["category", "score"], [[c, row[f"ALT_{c}"]] for c in ALT_RADAR]))
    if flags.glp:
        tables_out.append(glp_hierarchy(row))
    return Leaderboard(row, tables_out, flags)


def glp_hierarchy(row: Mapping[str, Any]) -> Table:
    rows: list[list[Any]] = [[GLP_ROOT, row[GLP_AVG], 1, None]]
    rows += [[c, row[f"GLP_{c}"], 2, GLP_ROOT] for c in GLP_TREE]
    rows += [[s, row[f"GLP_{s}"], 3, parent] for parent, subs in GLP_TREE.items() for s in subs]
    return Table("glp_hierarchy_table", ["category", "score", "level", "parent"], rows)


def roll_up(categories: Mapping[str, float | None]) -> dict[str, float | None]:
    """Level 2, GLP/ALT AVG and TOTAL_SCORE from the level-3 GLP and the ALT categories.

    The part of the roll-up that needs no benchmark table; checks published rows.
    """
    board: dict[str, Any] = {c: number(categories.get(c)) for c in (*GLP_LEVEL3, *ALT_COLUMNS[1:])}
    for level2, subs in GLP_TREE.items():
        board[f"GLP_{level2}"] = plain_mean(board[f"GLP_{c}"] for c in subs)
    board[GLP_AVG] = plain_mean(board[c] for c in GLP_LEVEL2)
    board[ALT_AVG] = plain_mean(board[c] for c in ALT_COLUMNS[1:])
    board[TOTAL] = total_score(board)
    return {c: cell(v) for c, v in board.items()}


def tables_from_rows(tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[Table]:
    """Tables given as W&B rows (`{name: [{column: value}, ...]}`), columns in the first row's order."""
    return [
        Table(name, list(rows[0]) if rows else [], [[row.get(c) for c in rows[0]] for row in rows])
        for name, rows in tables.items()
    ]


def aggregate_scenarios(document: Mapping[str, Any], compatibility: Compatibility = OFFICIAL) -> dict[str, Any]:
    """`nejumi aggregate`: `{scenario: {run_flags_override, tables[, num_few_shots]}}` -> flat scores.

    Each scenario starts from upstream's base_config flags (every benchmark on) and
    applies its `run_flags_override`; keys are `aggregate/<scenario>/<column>`.
    """
    scores: dict[str, Any] = {}
    for scenario, spec in document.items():
        flags = {name: True for name in BENCHMARKS} | dict(spec.get("run_flags_override") or {})
        tables = tables_from_rows(spec.get("tables") or {})
        model = next((Row(t).values.get("model_name") for t in tables if t.rows), None)
        board = aggregate(
            tables,
            [name for name, on in flags.items() if on],
            ModelInfo(str(model or "")),
            int(spec.get("num_few_shots", 2)),
            compatibility,
        )
        scores |= board.scores(f"aggregate/{scenario}")
    return scores
