"""Parity of nejumi_scorers with the upstream golden set (shared/golden/jaster.*).

For every item with metric exact_match / char_f1 / exact_match_figure / control:
``normalize_prediction(raw, task) == upstream_output`` and the metric equals the golden
value exactly. Robustness rows (task ``jmmlu_robust``) go through the symbol/incorrect
converters and ``robust_consistency``. The stale jhumaneval char_f1 (upstream bug) is
checked too.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from functools import cache, lru_cache
from pathlib import Path

import pytest
from _shared import require_shared_dir
from golden_data import read_jsonl

import nejumi_scorers as ns

SCORED_METRICS = {"exact_match", "char_f1", "exact_match_figure", "control"}


@lru_cache(maxsize=1)
def _golden():
    shared = require_shared_dir("golden/jaster.items.jsonl", "golden/jaster.predictions.jsonl", "data/jaster/test")
    items = read_jsonl(shared / "golden" / "jaster.items.jsonl")
    preds = {}
    for p in read_jsonl(shared / "golden" / "jaster.predictions.jsonl"):
        key = (p["task"], int(p["shots"]), str(p["id"]))
        assert key not in preds, f"duplicate prediction {key}"
        preds[key] = p["output"] if p["output"] is not None else ""
    return shared, items, preds


@cache
def _samples(shared: Path, task: str) -> list:
    with (shared / "data" / "jaster" / "test" / f"{task}.json").open(encoding="utf-8") as fh:
        return json.load(fh)["samples"]


def _gold(shared: Path, task: str, idx: str) -> str:
    return ns.normalize_reference(_samples(shared, task)[int(idx)]["output"])


def _score(metric: str, task: str, pred: str, gold: str):
    if metric == "exact_match":
        return ns.exact_match(pred, gold)
    if metric == "char_f1":
        return ns.char_f1(pred, gold)
    if metric == "exact_match_figure":
        return ns.exact_match_figure(pred, gold)
    if metric == "control":
        return ns.control_check(task, pred)
    raise AssertionError(metric)


def _same(actual, expected) -> bool:
    if expected is None:
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    return actual is not None and float(actual) == float(expected)


def test_scored_items_match_exactly():
    shared, items, preds = _golden()
    checked = 0
    failures = []
    for it in items:
        if it["metric"] not in SCORED_METRICS:
            continue
        task, shots, idx = it["task"], int(it["shots"]), str(it["id"])
        raw = preds[(task, shots, idx)]
        pred = ns.normalize_prediction(raw, task)
        if pred != it["upstream_output"]:
            failures.append((task, shots, idx, it["metric"], "output", pred, it["upstream_output"]))
            continue
        got = _score(it["metric"], task, pred, _gold(shared, task, idx))
        if not _same(got, it["value"]):
            failures.append((task, shots, idx, it["metric"], "value", got, it["value"]))
        checked += 1
    assert not failures, f"{len(failures)} mismatches, first: {failures[:10]}"
    # 880 exact_match + 240 char_f1 + 160 exact_match_figure + 1040 control on the current set
    assert checked >= 2000, checked
    print(f"golden parity: {checked} scored items matched exactly")


def test_batch_functions_agree_with_golden():
    shared, items, preds = _golden()
    by_task = defaultdict(list)
    for it in items:
        if it["metric"] in {"char_f1", "exact_match_figure"}:
            by_task[(it["task"], it["metric"])].append(it)
    assert by_task
    for (task, metric), rows in by_task.items():
        raws = [preds[(task, int(r["shots"]), str(r["id"]))] for r in rows]
        outs = ns.normalize_prediction_batch(raws, task)
        assert outs == [r["upstream_output"] for r in rows]
        golds = [_gold(shared, task, str(r["id"])) for r in rows]
        fn = ns.char_f1_batch if metric == "char_f1" else ns.exact_match_figure_batch
        assert fn(outs, golds) == [float(r["value"]) for r in rows], (task, metric)


def test_robustness_rows_match_exactly():
    _, items, preds = _golden()
    rows = [it for it in items if it["task"] == "jmmlu_robust" and it["metric"] == "consistency"]
    assert rows, "no jmmlu_robust rows in the golden set"
    for it in rows:
        shots, idx = int(it["shots"]), str(it["id"])
        normal = ns.normalize_prediction(preds[("jmmlu", shots, idx)], "jmmlu")
        symbol = ns.normalize_prediction(preds[("jmmlu_SymbolChoice", shots, idx)], "jmmlu_SymbolChoice")
        incorrect = ns.normalize_prediction(preds[("jmmlu_IncorrectChoice", shots, idx)], "jmmlu_IncorrectChoice")
        up = it["upstream_output"]
        assert normal == up["normal"], (idx, normal, up)
        assert ns.convert_symbol_choice(symbol) == up["SymbolChoice"], (idx, symbol, up)
        assert ns.convert_incorrect_choice(incorrect) == up["IncorrectChoice"], (idx, incorrect, up)
        assert ns.robust_consistency(normal, symbol, incorrect) == float(it["value"]), (idx, up)
    print(f"golden parity: {len(rows)} robustness rows matched exactly")


def test_per_task_means_match_expected():
    """Means of our item scores reproduce jaster.expected.json (pandas-mean tolerance)."""
    shared, items, preds = _golden()
    expected_path = shared / "golden" / "jaster.expected.json"
    if not expected_path.is_file():
        pytest.skip(f"{expected_path} missing")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    sums = defaultdict(list)
    for it in items:
        if it["metric"] not in SCORED_METRICS:
            continue
        task, shots, idx = it["task"], int(it["shots"]), str(it["id"])
        pred = ns.normalize_prediction(preds[(task, shots, idx)], task)
        got = _score(it["metric"], task, pred, _gold(shared, task, idx))
        if got is not None:
            sums[f"jaster/{task}/{shots}shot/{it['metric']}"].append(got)
    compared = 0
    for key, vals in sums.items():
        if key in expected and expected[key] is not None:
            assert math.isclose(sum(vals) / len(vals), expected[key], rel_tol=0, abs_tol=1e-12), key
            compared += 1
    assert compared >= 50, compared


def test_stale_jhumaneval_char_f1():
    """Upstream scores jhumaneval with char_f1([code], [expected]) (stale metrics_func)."""
    shared = require_shared_dir("golden/jaster_jhumaneval.items.jsonl", "data/jaster/test")
    rows = read_jsonl(shared / "golden" / "jaster_jhumaneval.items.jsonl")
    for r in rows:
        expected = _gold(shared, "jhumaneval", str(r["id"]))
        got = ns.char_f1(str([r["extracted_code"]]), str([expected]))
        assert got == float(r["value"]), (r["id"], r["metric"], got, r["value"])
