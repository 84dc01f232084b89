"""BFCL single-turn parity: ``nejumi_scorers.bfcl_check`` against the upstream golden set
(shared/golden/bfcl.*) and against the Python port in ``bfcl_reference.py``.

* every single-turn golden item: same valid flag and same ``error_type``;
* the per-category ``accuracy`` keys of ``bfcl.expected.json``;
* Rust == reference on the golden items and on seeded random mutations of their outputs,
  Java / JavaScript included (the reference parses them with the same ``tree_sitter`` 0.21
  grammars as upstream, pinned in requirements.lock);
* the prepared API (``bfcl_prepare`` / ``BfclItem.check`` / ``bfcl_check_prepared_batch``)
  == ``bfcl_check`` on every golden item and on the mutations.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from functools import lru_cache

import bfcl_reference as ref
import pytest
from _shared import property_seeds, require_shared_dir
from golden_data import bfcl_single_turn_rows

import nejumi_scorers as ns

CATEGORIES = ref.SINGLE_TURN_CATEGORIES
N_MUTATIONS = 4000


@lru_cache(maxsize=1)
def load_golden() -> list[dict]:
    """Single-turn golden items with their inputs: dicts with category, id, output,
    functions, possible_answer (None for relevance categories), valid, error_type."""
    shared = require_shared_dir("golden/bfcl.items.jsonl", "golden/bfcl.predictions.jsonl", "data/bfcl/bfcl")
    return bfcl_single_turn_rows(shared)


def rust_check(row: dict, output: str | None = None):
    pa = row["possible_answer"]
    return ns.bfcl_check(
        row["category"],
        row["output"] if output is None else output,
        json.dumps(row["functions"]),
        None if pa is None else json.dumps(pa),
    )


_PREPARED: dict[tuple[str, str], ns.BfclItem] = {}


def prepared(row: dict) -> ns.BfclItem:
    """The row's ``BfclItem``, prepared once."""
    key = (row["category"], row["id"])
    if key not in _PREPARED:
        pa = row["possible_answer"]
        _PREPARED[key] = ns.bfcl_prepare(
            row["category"], json.dumps(row["functions"]), None if pa is None else json.dumps(pa)
        )
    return _PREPARED[key]


def outcome(check, *args):
    """``(valid, error_type)``, or ``("raises", message)`` for a ValueError."""
    try:
        return tuple(check(*args))
    except ValueError as exc:
        return ("raises", str(exc))


def reference_check(row: dict, output: str | None = None):
    """``(valid, error_type)``, ``("raises", type)`` if upstream raises, or None when
    the reference cannot run (Java/JS without tree_sitter)."""
    try:
        return ref.check(
            row["category"], row["output"] if output is None else output, row["functions"], row["possible_answer"]
        )
    except ref.TreeSitterUnavailable:
        return None
    except Exception as exc:
        return ("raises", type(exc).__name__)


def test_golden_items_match():
    rows = load_golden()
    per_category = defaultdict(int)
    mismatches = []
    for row in rows:
        got = rust_check(row)
        want = (row["valid"], row["error_type"])
        if tuple(got) != want:
            mismatches.append((row["id"], row["output"], got, want))
        else:
            per_category[row["category"]] += 1
    assert not mismatches, mismatches
    assert set(per_category) == set(CATEGORIES)
    print("golden items matched per category:", dict(per_category))


def test_golden_accuracy_keys():
    shared = require_shared_dir("golden/bfcl.expected.json")
    expected = json.loads((shared / "golden" / "bfcl.expected.json").read_text(encoding="utf-8"))
    correct, total = defaultdict(int), defaultdict(int)
    for row in load_golden():
        valid, _ = rust_check(row)
        correct[row["category"]] += int(valid)
        total[row["category"]] += 1
    for category in CATEGORIES:
        key = f"bfcl/{category}/0shot/accuracy"
        assert correct[category] / total[category] == pytest.approx(expected[key], abs=1e-12), key


def test_reference_matches_golden():
    for row in load_golden():
        got = reference_check(row)
        if got is None:
            continue
        assert tuple(got) == (row["valid"], row["error_type"]), (row["id"], got)


def test_batch_matches_single():
    rows = load_golden()
    for category in CATEGORIES:
        sub = [r for r in rows if r["category"] == category]
        batch = ns.bfcl_check_batch(
            category,
            [r["output"] for r in sub],
            [json.dumps(r["functions"]) for r in sub],
            [None if r["possible_answer"] is None else json.dumps(r["possible_answer"]) for r in sub],
        )
        assert [tuple(b) for b in batch] == [tuple(rust_check(r)) for r in sub]


def test_large_batch_matches_single_and_names_first_bad_item():
    # A large batch keeps the order of the verdicts and names the first failing item.
    sub = [r for r in load_golden() if r["category"] == "simple"]
    rows = [sub[i % len(sub)] for i in range(5000)]
    outputs = [r["output"] for r in rows]
    functions = [json.dumps(r["functions"]) for r in rows]
    answers = [json.dumps(r["possible_answer"]) for r in rows]
    batch = ns.bfcl_check_batch("simple", outputs, functions, answers)
    assert [tuple(b) for b in batch] == [tuple(rust_check(r)) for r in rows]
    functions[4000] = "not json"
    functions[3000] = "not json"
    with pytest.raises(ValueError, match=r"^item 3000: "):
        ns.bfcl_check_batch("simple", outputs, functions, answers)


# Replacement snippets: values, calls and syntax that exercise the decoder's edges.
SNIPPETS = [
    "1", "-5", "1e3", "0x1F", "1_000", "01", "1.", ".5", "2j", "-2.5", "True", "False", "None",
    "'x'", '"y"', "'a b'", "u'z'", "b'q'", "r'\\n'", "f'{x}'", "'é'", "(1,)", "()", "(1, 'a')",
    "[]", "[1, 2]", "['a', 'b']", "[[1], [2]]", "{}", "{'a': 1}", "{'k': ['v']}", "{1: 2, 1.0: 3}",
    "x", "a.b", "x[0]", "x[1:2]", "f(1)", "g(k=1)", "1+2", "2*3", "'a'*2", "[1]*2", "7//2", "7/2",
    "2**10", "-x", "not 1", "~1", "+3", "--1", "lambda: 1", "...", "x if y else z", "a or b",
    "1 < 2", "{1, 2}", "[x for x in y]", "(yield)", "await x", "*a", "**k", "(a := 1)",
    "new int[]{1, 2}", "new ArrayList<>(Arrays.asList(1, 2))", "true", "false", "3.5f", "10L",
]  # fmt: skip
CHARS = [*"[](){}'\",.=:-+_ \n\t`\\#0123456789eExjJabf", "、", "é", "ｆ", "</think>", "```"]


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        pos = rng.randint(0, len(text))
        if op == 0 and text:
            text = text[:pos] + text[pos + 1 :]
        elif op == 1:
            text = text[:pos] + rng.choice(CHARS) + text[pos:]
        elif op == 2 and text:
            text = text[:pos] + rng.choice(CHARS) + text[pos + 1 :]
        elif op == 3:
            # Replace the value after a random '=' with a snippet.
            eqs = [i for i, c in enumerate(text) if c == "="]
            if eqs:
                i = rng.choice(eqs) + 1
                j = i
                while j < len(text) and text[j] not in ",)":
                    j += 1
                text = text[:i] + rng.choice(SNIPPETS) + text[j:]
        elif op == 4:
            text = text.replace(", ", ", " + rng.choice(["", "k=1, ", "x, "]), 1)
        elif op == 5:
            text = rng.choice(["", "<think>\n", "```python\n", "[", " "]) + text + rng.choice(["", "]", "\n```", ";"])
        else:
            text = text.strip("[]")
    return text


def test_reference_has_tree_sitter():
    # Without it the Java / JavaScript cross-check below would silently shrink.
    assert ref.HAVE_TREE_SITTER, "tree_sitter 0.21 with its Java/JavaScript grammars is not importable"


@pytest.mark.parametrize("seed", property_seeds(20240607))
def test_rust_matches_reference_on_mutations(seed):
    rows = load_golden()
    rng = random.Random(seed)
    compared = 0
    compared_by_language: dict[str, int] = defaultdict(int)
    mismatches = []
    for _ in range(N_MUTATIONS):
        row = rng.choice(rows)
        output = mutate(row["output"], rng)
        want = reference_check(row, output)
        if want is None:
            continue
        got = outcome(rust_check, row, output)
        prepared_got = outcome(prepared(row).check, output)
        if prepared_got != got:
            mismatches.append((row["id"], output, "prepared", prepared_got, got))
        compared += 1
        compared_by_language[ns_language(row["category"])] += 1
        ok = got[0] == "raises" if want[0] == "raises" else got == tuple(want)
        if not ok:
            mismatches.append((row["id"], output, got, want))
    assert compared > N_MUTATIONS // 2
    languages = ("Python", "Java", "JavaScript")
    assert min(compared_by_language.get(lang, 0) for lang in languages) > 100, compared_by_language
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:5]}"


def ns_language(category: str) -> str:
    return "JavaScript" if "javascript" in category else "Java" if "java" in category else "Python"


def test_prepared_matches_check_on_golden():
    rows = load_golden()
    items = [prepared(r) for r in rows]
    outputs = [r["output"] for r in rows]
    want = [tuple(rust_check(r)) for r in rows]
    assert [tuple(item.check(out)) for item, out in zip(items, outputs, strict=True)] == want
    assert [tuple(v) for v in ns.bfcl_check_prepared_batch(items, outputs)] == want
    assert {item.category for item in items} == set(CATEGORIES)


@pytest.mark.parametrize("seed", property_seeds(7))
def test_prepared_matches_check_on_mutations(seed):
    rows = load_golden()
    rng = random.Random(seed)
    items, outputs, want = [], [], []
    for _ in range(N_MUTATIONS):
        row = rng.choice(rows)
        output = mutate(row["output"], rng)
        got = outcome(rust_check, row, output)
        assert outcome(prepared(row).check, output) == got, (row["id"], output)
        if got[0] != "raises":
            items.append(prepared(row))
            outputs.append(output)
            want.append(got)
    assert [tuple(v) for v in ns.bfcl_check_prepared_batch(items, outputs)] == want


def test_prepared_errors():
    with pytest.raises(ValueError):
        ns.bfcl_prepare("multi_turn_base", "[]")
    with pytest.raises(ValueError):
        ns.bfcl_prepare("simple", "[]", None)
    with pytest.raises(ValueError):
        ns.bfcl_prepare("simple", "not json", "[]")
    item = ns.bfcl_prepare("irrelevance", "not read")
    assert item.category == "irrelevance"
    assert tuple(item.check("no call")) == (True, None)
    with pytest.raises(TypeError):
        item.check(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        item.check("a", "b")  # type: ignore[call-arg]
    assert item.check(raw_output="x") == item.check("x")
    with pytest.raises(TypeError):
        ns.BfclItem.check("not an item", "x")  # type: ignore[arg-type]
    with pytest.raises(UnicodeEncodeError):
        item.check("\ud800")
    assert ns.BfclItem.check(item, "no call") == item.check("no call")
    with pytest.raises(ValueError, match="same length"):
        ns.bfcl_check_prepared_batch([item], [])
    with pytest.raises(TypeError):
        ns.bfcl_check_prepared_batch(["not an item"], ["x"])


def test_decode_ast_json():
    out = json.loads(ns.bfcl_decode_ast("[f(a=1, b='x', c=(1,)), m.g(d=None)]", "Python"))
    assert out == [{"f": {"a": 1, "b": "x", "c": {"$tuple": [1]}}}, {"m.g": {"d": None}}]
    with pytest.raises(ValueError):
        ns.bfcl_decode_ast("not a call", "Python")
    with pytest.raises(ValueError):
        ns.bfcl_check("multi_turn_base", "", "[]", None)


def _has_tag(value) -> bool:
    """Whether a ``bfcl_decode_ast`` value holds something JSON cannot carry (a tuple, ...)."""
    if isinstance(value, dict):
        return any(k.startswith("$") or k == "**" or _has_tag(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_tag(v) for v in value)
    return isinstance(value, float) and math.isnan(value)


def as_tool_calls(row: dict) -> list[tuple[str, str]] | None:
    """The row's output as the ``(name, arguments_json)`` tool calls a function-calling
    model would have returned, or None when it does not decode to JSON-expressible calls."""
    lang = ns_language(row["category"]) if "relevance" not in row["category"] else "Python"
    try:
        decoded = json.loads(ns.bfcl_decode_ast(row["output"], lang))
    except ValueError:
        return None
    if decoded is None or _has_tag(decoded):
        return None
    return [(name, json.dumps(args)) for call in decoded for name, args in call.items()]


def test_golden_items_as_tool_calls():
    """Golden items re-expressed as structured tool calls keep their golden verdicts:
    with the names as given (``underscore_to_dot=False``), and with ``.`` in the names
    written ``_`` as FC tools spell them (``underscore_to_dot=True``)."""
    checked = 0
    for row in load_golden():
        calls = as_tool_calls(row)
        if calls is None:
            continue
        want = (row["valid"], row["error_type"])
        item = prepared(row)
        assert item.check_tool_calls(calls, underscore_to_dot=False) == want, (row["id"], calls)
        if want[1] != "simple_function_checker:wrong_func_name":
            fc_calls = [(name.replace(".", "_"), args) for name, args in calls]
            assert item.check_tool_calls(fc_calls) == want, (row["id"], fc_calls)
        checked += 1
    assert checked > len(load_golden()) // 2


def test_tool_call_decoding():
    row = next(r for r in load_golden() if r["category"] == "simple" and r["valid"])
    item = prepared(row)
    calls = as_tool_calls(row)
    assert calls is not None
    (name, args) = calls[0]
    assert item.check_tool_calls([(name, args)], underscore_to_dot=False) == (True, None)
    # A missing closing brace is retried with "}" appended, as UnifiedOSSFCHandler does.
    assert item.check_tool_calls([(name, args[:-1])], underscore_to_dot=False) == (True, None)
    assert item.check_tool_calls([(name, "{not json")]) == (False, "ast_decoder:decoder_failed")
    assert item.check_tool_calls([(name, "[1, 2]")]) == (False, "ast_decoder:decoder_wrong_output_format")
    assert item.check_tool_calls([]) == (False, "simple_function_checker:wrong_count")
    assert item.check_tool_calls([(name, args)] * 2, underscore_to_dot=False) == (
        False,
        "simple_function_checker:wrong_count",
    )
    irrelevance = ns.bfcl_prepare("irrelevance", "")
    assert irrelevance.check_tool_calls([]) == (True, None)
    assert irrelevance.check_tool_calls([("f", "{}")]) == (False, "irrelevance_error:decoder_success")
    assert irrelevance.check_tool_calls([("f", "{oops")]) == (True, None)
    relevance = ns.bfcl_prepare("live_relevance", "")
    assert relevance.check_tool_calls([("f", '{"a": 1}')]) == (True, None)
    assert relevance.check_tool_calls([]) == (False, "relevance_error:decoder_failed")
    with pytest.raises(ValueError, match="length 2"):
        item.check_tool_calls([("f",)])  # type: ignore[list-item]
