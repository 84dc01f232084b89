"""nejumi_scorers against CPython itself (stdlib only).

The upstream harness runs on CPython 3.11, whose ``str`` methods, ``re`` and
``unicodedata`` (Unicode 14.0.0) define the expected behaviour. These tests compare the
Rust port with the running interpreter over every code point and over random strings;
they are skipped where the interpreter has another Unicode version.
"""

from __future__ import annotations

import random
import re
import sys
import unicodedata

import pytest
from _shared import needs_same_unicode, property_seeds

import nejumi_scorers as ns

SEED = 1234567

ALL_CHARS = [chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]

JA_PREFIXES = ("応答:", "回答:", "答え:")


def reference_formatter(s: str, task: str) -> str:
    """Spec §5.2 text_formatter, written from the spec."""
    if task in ("jamp", "janli", "jnli", "jsem", "jsick"):
        return s.strip().lower()
    if task in ("jcommonsenseqa", "commonsensemoralja", "mawps"):
        return s.strip()
    if task in ("jemhopqa", "jsquad", "niilc") or task.startswith("jmmlu_"):
        for p in JA_PREFIXES:
            s = s.replace(p, "")
        s = s.strip()
        return s.lower() if task in ("jemhopqa", "jsquad", "niilc") else s.upper()
    if task.startswith("mmlu_en_"):
        for p in ("ANSWER:", "RESPONSE:"):
            s = s.replace(p, "")
        return s.strip().upper()
    return s


def reference_normalize(raw: str, task: str) -> str:
    y = reference_formatter(raw, task).split("\n\n")[0].strip()
    y = y.strip("'").strip('"').strip()
    return unicodedata.normalize("NFKC", y)


def python_float_ok(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


TASKS = [
    "jnli",
    "jsquad",
    "jmmlu",
    "jmmlu_SymbolChoice",
    "jmmlu_IncorrectChoice",
    "mawps",
    "mgsm",
    "aio",
    "mmlu_en_x",
    "commonsensemoralja",
]


@needs_same_unicode
@pytest.mark.parametrize("task", ["jnli", "jmmlu_SymbolChoice", "aio"])
def test_every_code_point_normalizes_like_python(task):
    # jnli: strip + lower + NFKC; jmmlu_SymbolChoice: upper; aio: strip + NFKC only
    samples = [f" {c}" for c in ALL_CHARS]
    got = ns.normalize_prediction_batch(samples, task)
    bad = [(s, g) for s, g in zip(samples, got, strict=True) if g != reference_normalize(s, task)]
    assert not bad, f"{len(bad)} mismatches, first: {bad[:5]!r}"


@needs_same_unicode
def test_final_sigma_context_like_python():
    """str.lower() final-sigma rule: cased / case-ignorable look-behind and look-ahead."""
    for pattern in ("{}Σ", "Α{}Σ", "ΑΣ{}", "ΑΣ{}Α"):
        samples = [pattern.format(c) for c in ALL_CHARS]
        got = ns.normalize_prediction_batch(samples, "jnli")
        bad = [(s, g) for s, g in zip(samples, got, strict=True) if g != reference_normalize(s, "jnli")]
        assert not bad, f"{pattern}: {len(bad)} mismatches, first: {bad[:5]!r}"


@needs_same_unicode
def test_every_code_point_word_class_like_python_re():
    r"""char_f1("a" + c + "b", "b a") is 1.0 exactly when c is \W (and not U+0080..U+00FF)."""
    word = re.compile(r"(?ui)\W")
    preds = ["a" + c + "b" for c in ALL_CHARS]
    got = ns.char_f1_batch(preds, ["b a"] * len(preds))
    bad = []
    for c, g in zip(ALL_CHARS, got, strict=True):
        expect_split = bool(word.fullmatch(c)) and not 0x80 <= ord(c) <= 0xFF
        if (g == 1.0) != expect_split:
            bad.append((hex(ord(c)), g))
    assert not bad, f"{len(bad)} mismatches, first: {bad[:10]}"


@needs_same_unicode
def test_every_code_point_float_like_python():
    # c + "1" + c parses iff c is strippable whitespace or a decimal digit
    samples = [c + "1" + c for c in ALL_CHARS]
    got = ns.exact_match_figure_batch(samples, samples)
    bad = [s for s, g in zip(samples, got, strict=True) if (g == 1.0) != python_float_ok(s)]
    assert not bad, f"{len(bad)} mismatches, first: {bad[:10]!r}"


@needs_same_unicode
@pytest.mark.parametrize("seed", property_seeds(SEED))
def test_random_predictions_normalize_like_python(seed):
    rng = random.Random(seed)
    alphabet = [
        *" \t\n\r\x0b\x0c\x1c\x85\xa0\u3000\u2028'\"\"'\n\nabcABCΣσİßﬁ１２ＡＢ＄＆＃＠$&#@,",
        *"回答応え:日本語😀👍🏽\u0301\u3099ｶﾞ㍿①ǅ",
        *JA_PREFIXES,
        *("ANSWER:", "RESPONSE:", "\n\n"),
    ]
    for _ in range(20000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        task = rng.choice(TASKS)
        assert ns.normalize_prediction(raw, task) == reference_normalize(raw, task), (raw, task)
        assert ns.text_formatter(raw, task) == reference_formatter(raw, task), (raw, task)


@pytest.mark.parametrize("seed", property_seeds(SEED))
def test_random_numbers_parse_like_python(seed):
    rng = random.Random(seed)
    alphabet = [
        *"0123456789._+-eEinfatyINFATY \t\n\x0b\x0c\r\x1c\x7f\u3000\x85１٣²一,",
        *("inf", "nan", "infinity", "1_0", "e5", "__"),
    ]
    for _ in range(30000):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        b = rng.choice([a, a.strip(), "1", "0", "nan", "inf", "-0", "1e1", "10"])
        ok = python_float_ok(a)
        assert (ns.control_check("mgsm", a) == 1.0) == ok, repr(a)
        try:
            want = 1.0 if float(a) == float(b) else 0.0
        except ValueError:
            want = 0.0
        assert ns.exact_match_figure(a, b) == want, (a, b)


@pytest.mark.parametrize("seed", property_seeds(SEED))
def test_float_values_round_like_python(seed):
    rng = random.Random(seed)
    for _ in range(20000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 30)))
        point = rng.randint(0, len(digits))
        s = digits[:point] + "." + digits[point:]
        if rng.random() < 0.5:
            s += f"e{rng.randint(-330, 310)}"
        other = repr(float(s))
        assert ns.exact_match_figure(s, other) == 1.0, (s, other)
        assert ns.exact_match_figure(s, repr(float(s) * (1 + 2**-52))) == (
            1.0 if float(s) == float(s) * (1 + 2**-52) else 0.0
        ), s


def test_errors_are_value_errors():
    with pytest.raises(ValueError, match="no-such-task"):
        ns.control_check("no-such-task", "A")
    with pytest.raises(ValueError, match="same length"):
        ns.char_f1_batch(["a"], [])
    with pytest.raises(ValueError, match="same length"):
        ns.exact_match_figure_batch([], ["1"])
    with pytest.raises(ValueError):
        ns.normalize_prediction("\ud800", "jnli")
    with pytest.raises(ValueError):
        ns.normalize_prediction_batch(["ok", "\udfff"], "jnli")
    with pytest.raises(TypeError):
        ns.char_f1(None, "a")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ns.char_f1("a", b"a")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="gold"):
        ns.char_f1("a")  # type: ignore[call-arg]
    assert ns.char_f1(pred="a b", gold="b a") == 1.0
    # A lone surrogate is an error named by argument and position.
    with pytest.raises(ValueError, match=r"gold: .*position 1"):
        ns.char_f1("a", "あ\ud800")
    with pytest.raises(ValueError, match=r"pred: .*position 2"):
        ns.char_f1("😀a\udfff", "x")
    with pytest.raises(ValueError, match=r"golds\[1\]"):
        ns.char_f1_batch(["a", "b"], ["a", "\udfff"])
    assert ns.control_check("jsquad", "x") is None
    assert ns.control_check("jmmlu_IncorrectChoice", "A") == 1.0


def test_api_surface():
    expected = {
        "normalize_prediction",
        "normalize_reference",
        "exact_match",
        "exact_match_figure",
        "char_f1",
        "char_f1_batch",
        "normalize_prediction_batch",
        "exact_match_figure_batch",
        "control_check",
        "robust_consistency",
        "convert_symbol_choice",
        "convert_incorrect_choice",
        "text_formatter",
        "token_sort_ratio",
    }
    assert expected <= set(dir(ns))
    assert ns.UNICODE_VERSION == "14.0.0"
    assert sys.version_info >= (3, 9)
