"""BFCL single-turn AST checking: nejumi_scorers vs the Python port of upstream.

Inputs: the single-turn golden items (shared/golden/bfcl.*, with their function docs and
possible answers from shared/data/bfcl), cycled and mutated with a seeded RNG (value
swaps, inserted/deleted characters, stripped brackets, <think> prefixes, fences).
Python-syntax categories and Java / JavaScript ones are timed separately: for the latter
both sides spend nearly all their time in the same tree-sitter C parser (Java / JavaScript
need `tree_sitter` 0.21 importable for the reference). The reference is `rust/scorers/tests/bfcl_reference.py`
(upstream's `ast.parse`-based decoder and `ast_checker`), given each item's parsed docs and
possible answer (Python objects, loaded once). nejumi gets the same once per distinct item:
a `BfclItem` from `bfcl_prepare` (timed: `BfclItem.check` per item from Python, and
`bfcl_check_prepared_batch`), and, for comparison, the JSON strings that `bfcl_check`
parses on every call. All must give the reference's verdicts (checked before timing; also
`bfcl_check_batch`); each time is the best of 3 rounds, the
sides alternating within a round. Needs the shared data:
`$NEJUMI_SHARED_DIR` or `<repo>/../shared`.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

import bfcl_reference as ref
from golden_data import bfcl_single_turn_rows, find_shared_dir
from timing import Comparison, best_times_interleaved

import nejumi_scorers as ns

CATEGORIES = ref.SINGLE_TURN_CATEGORIES
SNIPPETS = [
    "1", "-5", "1e3", "0x1F", "True", "None", "'x'", "(1,)", "[1, 2]", "{'a': 1}", "x", "a.b",
    "f(1)", "g(k=1)", "1+2", "not 1", "'a'*2", "x[0]", "new int[]{1, 2}", "true", "3.5f",
]  # fmt: skip


def _rows(shared: Path) -> list[dict]:
    """The single-turn golden rows the reference can check (Java / JavaScript need tree-sitter)."""
    return [
        row
        for row in bfcl_single_turn_rows(shared)
        if row["category"] not in ("java", "javascript") or ref.HAVE_TREE_SITTER
    ]


def _mutate(text: str, rng: random.Random) -> str:
    op = rng.randrange(6)
    if op == 0:
        return text
    if op == 1:
        eqs = [i for i, c in enumerate(text) if c == "="]
        if eqs:
            i = rng.choice(eqs) + 1
            j = i
            while j < len(text) and text[j] not in ",)":
                j += 1
            return text[:i] + rng.choice(SNIPPETS) + text[j:]
        return text
    pos = rng.randint(0, len(text))
    if op == 2:
        return text[:pos] + rng.choice("[](),'=- \n") + text[pos:]
    if op == 3:
        return text[:pos] + text[pos + 1 :]
    if op == 4:
        return "<think>\nplan\n</think>\n\n" + text
    return "```\n" + text.strip("[]") + "\n```"


def _reference(row: dict, output: str):
    try:
        return tuple(ref.check(row["category"], output, row["functions"], row["possible_answer"]))
    except Exception as exc:
        return ("raises", type(exc).__name__)


def run(n: int, seed: int) -> list[Comparison]:
    shared = find_shared_dir()
    if shared is None or not (shared / "golden" / "bfcl.items.jsonl").is_file():
        print(f"bfcl: skipped (no shared data at {shared}; set NEJUMI_SHARED_DIR)")
        return []
    rows = _rows(shared)
    if not ref.HAVE_TREE_SITTER:
        print("bfcl: tree_sitter not importable; java/javascript items left out of the timed set")
    # Per distinct item, once: JSON for bfcl_check, a BfclItem for the prepared API. The
    # reference already holds the parsed docs / answers (json.loads done once as well).
    for row in rows:
        pa = row["possible_answer"]
        row["functions_json"] = json.dumps(row["functions"])
        row["answer_json"] = None if pa is None else json.dumps(pa)
        row["prepared"] = ns.bfcl_prepare(row["category"], row["functions_json"], row["answer_json"])
    rng = random.Random(seed)
    items = []
    for i in range(n):
        row = rows[i % len(rows)]
        items.append((row, _mutate(row["output"], rng)))

    expected = [_reference(row, out) for row, out in items]
    usable = [k for k, e in enumerate(expected) if e[0] != "raises"]
    items = [items[k] for k in usable]
    expected = [expected[k] for k in usable]
    prepared = [row["prepared"] for row, _ in items]
    outputs = [out for _, out in items]

    def verify(name: str, got: list) -> None:
        bad = [(outputs[k], got[k], expected[k]) for k in range(len(items)) if tuple(got[k]) != expected[k]]
        if bad:
            raise AssertionError(f"bfcl: {name}: {len(bad)} verdicts differ from the reference, first: {bad[:3]}")

    verify("BfclItem.check", [item.check(out) for item, out in zip(prepared, outputs, strict=True)])
    verify("bfcl_check_prepared_batch", ns.bfcl_check_prepared_batch(prepared, outputs))
    verify("bfcl_check", [ns.bfcl_check(r["category"], out, r["functions_json"], r["answer_json"]) for r, out in items])

    by_category: dict[str, list[int]] = defaultdict(list)
    for k, (row, _) in enumerate(items):
        by_category[row["category"]].append(k)
    batches = [
        (
            category,
            [outputs[k] for k in ks],
            [items[k][0]["functions_json"] for k in ks],
            [items[k][0]["answer_json"] for k in ks],
        )
        for category, ks in by_category.items()
    ]
    got: list = [None] * len(items)
    for (category, outs, fs, pas), ks in zip(batches, by_category.values(), strict=True):
        for k, v in zip(ks, ns.bfcl_check_batch(category, outs, fs, pas), strict=True):
            got[k] = v
    verify("bfcl_check_batch", got)

    def language_of(k: int) -> str:
        category = items[k][0]["category"]
        return "java/javascript" if "java" in category else "python"

    comparisons = []
    for group in ("python", "java/javascript"):
        ks = [k for k in range(len(items)) if language_of(k) == group]
        if not ks:
            continue
        g_items = [items[k] for k in ks]
        g_prepared = [prepared[k] for k in ks]
        g_outputs = [outputs[k] for k in ks]

        def reference(g_items=g_items):
            check = ref.check
            for row, out in g_items:
                check(row["category"], out, row["functions"], row["possible_answer"])

        def prepared_single(g_prepared=g_prepared, g_outputs=g_outputs):
            for item, out in zip(g_prepared, g_outputs, strict=True):
                item.check(out)

        def prepared_batch(g_prepared=g_prepared, g_outputs=g_outputs):
            ns.bfcl_check_prepared_batch(g_prepared, g_outputs)

        def json_single(g_items=g_items):
            check = ns.bfcl_check
            for row, out in g_items:
                check(row["category"], out, row["functions_json"], row["answer_json"])

        ref_s, single_s, batch_s, json_s = best_times_interleaved(
            [reference, prepared_single, prepared_batch, json_single]
        )
        name = f"bfcl_reference.check ({group})"
        m = len(ks)
        comparisons += [
            Comparison(f"BfclItem.check ({group})", m, single_s, name, ref_s),
            Comparison(f"bfcl_check_prepared_batch ({group})", m, batch_s, name, ref_s),
            Comparison(f"bfcl_check JSON/call ({group})", m, json_s, name, ref_s),
        ]
    return comparisons
