"""The roll-up at the end of a real run, and its tables in the offline W&B run files.

jaster runs on the quick-start data through the real gRPC service; stand-ins for
MT-bench, JBBQ, Toxicity and JTruthfulQA ask the model once and return a leaderboard
table under the official name, as the real benchmarks will. The aggregate takes each
table by that name, so they plug in without changes. W&B runs offline; the test reads
the `.wandb` run file back (records, history, table files) and checks what was logged.
"""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from support.services import scripted_service, write_grpc_config

from nejumi.benchmark import Context, FlatScores, ScoredRow
from nejumi.benchmarks import REGISTRY, BenchmarkEntry
from nejumi.compat import Compatibility
from nejumi.config import Config, load_config
from nejumi.runner import evaluate
from nejumi.settings import benchmark_generation, benchmark_policy
from nejumi.tables import Table
from nejumi_proto.v1 import types_pb2

MTBENCH = {
    "coding": 0.2,
    "humanities": 0.7,
    "math": 0.4,
    "reasoning": 0.5,
    "roleplay": 0.6,
    "stem": 0.9,
    "writing": 0.8,
}
# Each stand-in's leaderboard tables under their official names: column -> value (model_name comes first).
STAND_INS: dict[str, dict[str, dict[str, float]]] = {
    "mtbench": {"mtbench_leaderboard_table": {"AVG_mtbench": 0.6, **MTBENCH}},
    "jbbq": {"jbbq_2shot_leaderboard_table": {"acc": 0.5, "avg_abs_bias_score": 0.2}},
    "toxicity": {"toxicity_leaderboard_table": {"公平性": 0.5, "社会規範": 0.6, "禁止行為": 0.7, "違反カテゴリ": 0.8}},
    "jtruthfulqa": {"jtruthfulqa_leaderboard_table": {"overall_score": 0.45}},
}


class StandIn:
    """A benchmark that asks the model once and reports a fixed official leaderboard table."""

    scorers = ()
    judges = ()
    datasets: ClassVar[dict[str, object]] = {}

    def __init__(self, name: str, cfg: Config) -> None:
        self.name = name
        self.generation = benchmark_generation(cfg, name)
        self.policy = benchmark_policy(cfg, name)

    def check(self, folders: Mapping[str, Path]) -> None:
        return None

    def plan(self) -> list[types_pb2.Sample]:
        message = types_pb2.ChatMessage(role="user", content=f"{self.name}の質問")
        return [types_pb2.Sample(benchmark=self.name, task="t", id="0", subset="test", messages=[message])]

    async def solve(self, ctx: Context) -> str:
        return (await ctx.generate(ctx.sample.messages)).text

    def summarize(self, rows: Sequence[ScoredRow]) -> FlatScores:
        return {}

    def tables(self, rows: Sequence[ScoredRow], model_name: str) -> list[Table]:
        return [
            Table(name, ["model_name", *values], [[model_name, *values.values()]])
            for name, values in STAND_INS[self.name].items()
        ]


def stand_in(name: str) -> BenchmarkEntry:
    def from_config(cfg: Config, compat: Compatibility, say: Callable[[str], None]) -> StandIn:
        return StandIn(name, cfg)

    return BenchmarkEntry(name, from_config)


REGISTRY_WITH_STAND_INS = {**REGISTRY, **{name: stand_in(name) for name in STAND_INS}}
SCRIPT = {"rules": [{"match": "白い犬が芝生", "reply": "entailment"}], "default": "0"}
MODEL = {
    "pretrained_model_name_or_path": "scripted-model",
    "size_category": "Small (<10B)",
    "size": 0.5,
    "release_date": "8/6/2025",
}


def read_records(path: Path) -> list[Any]:
    """The records of a `.wandb` file: W&B's LevelDB-log framing around `wandb_internal_pb2.Record`s.

    A 7-byte file header (":W&B", magic 0xBEE1, version 0), then 32 KiB blocks of chunks,
    each `crc32 (4) | length (2) | type (1)` + payload; types 1 full, 2 first, 3 middle, 4 last.
    """
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B" and data[4:6] == b"\xe1\xbe"
    block, position, pending, records = 32768, 7, b"", []
    while position + 7 <= len(data):
        if block - position % block < 7:
            position += block - position % block
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        if kind == 0:
            break
        payload = data[position + 7 : position + 7 + length]
        position += 7 + length
        pending = payload if kind in (1, 2) else pending + payload
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
    return records


def logged_tables(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Every table the offline run logged: name -> its table file ({"columns", "data"})."""
    (run_file,) = run_dir.glob("wandb/offline-run-*/run-*.wandb")
    paths: dict[str, str] = {}
    for record in read_records(run_file):
        if record.WhichOneof("record_type") != "history":
            continue
        for item in record.history.item:
            keys = list(item.nested_key) or [item.key]
            if len(keys) == 2 and keys[1] == "path":
                paths[keys[0]] = json.loads(item.value_json)
    files = run_file.parent / "files"
    return {name: json.loads((files / path).read_text(encoding="utf-8")) for name, path in paths.items()}


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp_path = tmp_path_factory.mktemp("aggregate_run")
    with scripted_service(tmp_path / "service", SCRIPT) as service:
        config = write_grpc_config(
            tmp_path / "model.yaml",
            service.target,
            model=MODEL,
            run={"jaster": True, "aggregate": True, **{name: True for name in STAND_INS}},
        )
        run_dir = tmp_path / "run"
        result = asyncio.run(
            evaluate(load_config(config), run_dir, show_progress=False, registry=REGISTRY_WITH_STAND_INS)
        )
    return result


def test_the_run_ends_with_the_leaderboard_over_what_ran(finished: Any) -> None:
    scores = finished.scores
    assert scores["aggregate/GLP_表現"] == pytest.approx((0.6 + 0.8 + 0.7) / 3)
    assert scores["aggregate/ALT_毒性"] == pytest.approx(0.65)
    assert scores["aggregate/ALT_バイアス"] == pytest.approx(0.8)
    assert scores["aggregate/TOTAL_SCORE"] is not None
    # ARC-AGI and BFCL did not run: their categories are NaN, never 0.
    assert scores["aggregate/GLP_抽象的推論"] is None
    assert scores["aggregate/GLP_関数呼び出し"] is None
    # jaster's quick-start tasks feed 意味解析 (jnli) and 情報検索 (jsquad).
    assert scores["aggregate/GLP_意味解析"] == pytest.approx(
        (scores["jaster/jnli/0shot/exact_match"] + scores["jaster/jnli/2shot/exact_match"]) / 2
    )
    results = json.loads((finished.run_dir / "results.json").read_text(encoding="utf-8"))
    assert results["scores"]["aggregate/TOTAL_SCORE"] == scores["aggregate/TOTAL_SCORE"]


def test_report_shows_the_leaderboard_with_radars_and_what_did_not_run(finished: Any) -> None:
    page = (finished.run_dir / "report.html").read_text(encoding="utf-8")
    assert "<h2>Leaderboard</h2>" in page
    assert page.count('<img src="data:image/png;base64,') == 2
    assert "not run: arc_agi" in page  # its category stays NaN; "(not in nejumi yet)" while unregistered
    assert "<script" not in page and "<link" not in page


def test_offline_wandb_run_holds_the_official_leaderboard_tables(finished: Any) -> None:
    tables = logged_tables(finished.run_dir)
    expected = {t.name: t for t in finished.tables}
    for name in ("leaderboard_table", "glp_radar_table", "alt_radar_table", "glp_hierarchy_table"):
        assert tables[name]["columns"] == expected[name].columns
    leaderboard = dict(zip(tables["leaderboard_table"]["columns"], tables["leaderboard_table"]["data"][0], strict=True))
    assert leaderboard["model_name"] == "scripted-model"
    assert leaderboard["model_size_category"] == "Small (<10B)"
    assert leaderboard["model_release_date"].startswith("2025-08-06")
    assert leaderboard["TOTAL_SCORE"] == pytest.approx(finished.scores["aggregate/TOTAL_SCORE"])
    assert [row[0] for row in tables["glp_radar_table"]["data"]] == [
        "応用的言語性能",
        "推論能力",
        "知識・質問応答",
        "基礎的言語性能",
        "アプリケーション開発",
    ]
    assert tables["subcategory_table_expression"]["columns"] == [
        "AVG",
        "roleplay_mtbench",
        "writing_mtbench",
        "humanities_mtbench",
        "model_name",
    ]
    # The benchmarks' own tables are logged beside them, under their official names.
    assert "jaster_0shot_leaderboard_table" in tables and "mtbench_leaderboard_table" in tables
