"""Parity of nejumi_scorers' ARC-AGI functions with the upstream golden set (shared/golden/arc_agi.*).

Every ``attempt_correct`` item (one per prediction line), every per-task ``accuracy`` item
(pass@2) and the three keys of ``arc_agi.expected.json`` are reproduced exactly. The
expected grid is ``test[0].output`` of ``data/arc_agi/<task>/evaluation/<id>.json``.
Also checked: the prompt serialisation against the spec's recipe, and the casts that
do not depend on numpy 1.26 against CPython itself.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections import defaultdict
from functools import cache, lru_cache
from pathlib import Path

import pytest
from _shared import needs_same_unicode, require_shared_dir
from golden_data import read_jsonl

import nejumi_scorers as ns

VERSIONS = ("arc-agi-1", "arc-agi-2")


@lru_cache(maxsize=1)
def _golden():
    shared = require_shared_dir(
        "golden/arc_agi.predictions.jsonl",
        "golden/arc_agi.items.jsonl",
        "golden/arc_agi.expected.json",
        "data/arc_agi/arc-agi-1/evaluation",
        "data/arc_agi/arc-agi-2/evaluation",
    )
    preds = read_jsonl(shared / "golden" / "arc_agi.predictions.jsonl")
    items = read_jsonl(shared / "golden" / "arc_agi.items.jsonl")
    expected = json.loads((shared / "golden" / "arc_agi.expected.json").read_text(encoding="utf-8"))
    return shared, preds, items, expected


@cache
def _task(shared: Path, version: str, task_id: str) -> dict:
    path = shared / "data" / "arc_agi" / version / "evaluation" / f"{task_id}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _attempts():
    """{(version, task_id, attempt): (output, expected grid)}."""
    shared, preds, _, _ = _golden()
    out = {}
    for p in preds:
        assert p["benchmark"] == "arc_agi" and int(p["shots"]) == 0
        key = (p["task"], str(p["id"]), int(p["attempt"]))
        assert key not in out, f"duplicate prediction {key}"
        out[key] = (p["output"] or "", _task(shared, p["task"], str(p["id"]))["test"][0]["output"])
    return out


def test_attempt_correct_items():
    _, _, items, _ = _golden()
    attempts = _attempts()
    rows = [it for it in items if it["metric"] == "attempt_correct"]
    assert len(rows) == len(attempts) == 40
    failures = []
    for it in rows:
        text, grid = attempts[(it["task"], str(it["id"]), int(it["attempt"]))]
        got = ns.arc_attempt_correct(text, grid)
        verdict = ns.arc_attempt_verdict(text, grid)
        assert (verdict == "correct") == got
        assert not verdict.startswith("upstream_error"), (it["id"], verdict)
        if float(got) != float(it["value"]):
            failures.append((it["task"], it["id"], it["attempt"], it.get("variant"), verdict, it["value"]))
    assert not failures, failures
    texts = [attempts[(it["task"], str(it["id"]), int(it["attempt"]))][0] for it in rows]
    grids = [attempts[(it["task"], str(it["id"]), int(it["attempt"]))][1] for it in rows]
    assert ns.arc_attempt_correct_batch(texts, grids) == [bool(it["value"]) for it in rows]


def test_accuracy_items_and_expected_keys():
    _, _, items, expected = _golden()
    attempts = _attempts()
    per_task = defaultdict(list)
    for (version, task_id, _attempt), (text, grid) in sorted(attempts.items()):
        per_task[(version, task_id)].append(ns.arc_attempt_correct(text, grid))
    acc_rows = [it for it in items if it["metric"] == "accuracy"]
    assert len(acc_rows) == len(per_task) == 20
    for it in acc_rows:
        got = ns.arc_pass_at_k(per_task[(it["task"], str(it["id"]))])
        assert got == float(it["value"]), (it["task"], it["id"], got, it["value"])

    scores = {}
    for version in VERSIONS:
        tasks = {tid: [flags] for (v, tid), flags in per_task.items() if v == version}
        scores[version] = ns.arc_version_score(tasks)
        assert scores[version] == expected[f"arc_agi/{version}/0shot/accuracy"], version
    avg = (scores["arc-agi-1"] + scores["arc-agi-2"]) / 2
    assert avg == expected["arc_agi/_all/0shot/AVG"]
    assert len(expected) == 3


def test_parse_grid_on_golden_outputs():
    _, _, items, _ = _golden()
    attempts = _attempts()
    for it in items:
        if it["metric"] != "attempt_correct":
            continue
        text, grid = attempts[(it["task"], str(it["id"]), int(it["attempt"]))]
        parsed = ns.arc_parse_grid(text)
        if it["value"] == 1.0:
            assert parsed == grid, it["variant"]


def test_int8_wraparound_on_golden_grids():
    """The golden ``int8_wraparound_257`` outputs hold no value over 9 (their grids have
    no cell to bump), so check the wrap on every expected grid: v + 256k passes."""
    for _text, grid in _attempts().values():
        for k in (1, -1, 2**40):
            bumped = [[v + 256 * k if (r, c) == (0, 0) else v for c, v in enumerate(row)] for r, row in enumerate(grid)]
            assert ns.arc_attempt_correct(json.dumps(bumped), grid)


def _pretty_print_json(grid) -> str:
    # spec §4.3
    return json.dumps(grid).replace("[[", "[\n  [").replace("]]", "]\n]").replace("], [", "],\n  [").replace(", ", ",")


def test_format_grid_and_prompt_on_all_tasks():
    shared, _, _, _ = _golden()
    head = "--トレーニング例--\n"
    checked = 0
    for version in VERSIONS:
        for path in sorted((shared / "data" / "arc_agi" / version / "evaluation").glob("*.json")):
            task = _task(shared, version, path.stem)
            examples = "".join(
                f"--例 {i}-- \n\n 入力: \n\n"
                + _pretty_print_json(p["input"])
                + "\n\n出力: \n\n"
                + _pretty_print_json(p["output"])
                + "\n\n"
                for i, p in enumerate(task["train"])
            )
            test_input = _pretty_print_json(task["test"][0]["input"])
            prompt = ns.arc_format_prompt(task["train"], task["test"][0]["input"])
            assert prompt.startswith("あなたはパズルを解くコンテストに参加しています。")
            tail = (
                f"{head}{examples}\n--トレーニング例ここまで--\n\n"
                f"--テスト入力--\n{test_input}\n--テスト入力ここまで--\n"
            )
            assert prompt.endswith(tail)
            for grid in (task["test"][0]["input"], task["test"][0]["output"]):
                assert ns.arc_format_grid(grid) == _pretty_print_json(grid)
                assert ns.arc_parse_grid("出力:\n\n" + ns.arc_format_grid(grid)) == grid
            checked += 1
    assert checked == 20


@needs_same_unicode
def test_string_cells_follow_cpython_int():
    """numpy 1.26 casts a str cell with int(s); CPython 3.11 decides which strings pass."""
    chars = [chr(c) for c in range(0x110000) if unicodedata.decimal(chr(c), None) is not None or chr(c).isspace()]
    samples = chars + [f" {c}7" for c in chars] + ["3.0", "", "+3", "-0", "1_0", "1__0", "_1", "0x1", "\x1c3", "3\x00"]
    for s in samples:
        try:
            want = [[(int(s) + 128) % 256 - 128]]
        except ValueError:
            want = None
        assert ns.arc_parse_grid(json.dumps([[s]])) == want, repr(s)


def test_float_and_int_casts():
    assert ns.arc_parse_grid("[[1.7, -1.7, 257.9, -0.0, 257, -129, true, false]]") == [[1, -1, 1, 0, 1, 127, 1, 0]]
    assert ns.arc_parse_grid("[[NaN]]") is None
    for overflow in ("[[1e400]]", "[[Infinity]]", "[[9223372036854775808]]", "[[1e19]]", '[["99999999999999999999"]]'):
        assert ns.arc_parse_grid(overflow) is None
        assert ns.arc_attempt_verdict(overflow, [[0]]) == "upstream_error:OverflowError"
        assert ns.arc_attempt_correct(overflow, [[0]]) is False


def test_bad_arguments():
    with pytest.raises(ValueError):
        ns.arc_attempt_correct("[[1]]", [])
    with pytest.raises(ValueError):
        ns.arc_attempt_correct("[[1]]", [[1], [1, 2]])
    with pytest.raises(ValueError):
        ns.arc_attempt_correct("[[1]]", [[2**70]])
    with pytest.raises(TypeError):
        ns.arc_attempt_correct("[[1]]", "[[1]]")
    with pytest.raises(TypeError):
        ns.arc_attempt_correct(None, [[1]])
    with pytest.raises(ValueError):
        ns.arc_attempt_correct_batch(["[[1]]"], [])
    with pytest.raises(ValueError):
        ns.arc_pass_at_k([])
    assert ns.arc_pass_at_k([False, True]) == 1.0
    assert math.isnan(ns.arc_version_score({}))
    # lone surrogates never reach Rust as such, and never change a verdict
    assert ns.arc_parse_grid("\ud800[[1]]") == [[1]]
    assert ns.arc_parse_grid('[["\ud800"]]') is None
