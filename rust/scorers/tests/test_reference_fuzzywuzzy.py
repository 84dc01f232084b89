"""char_f1 / token_sort_ratio against the reference fuzzywuzzy 0.18.0 + python-Levenshtein.

Random and adversarial pairs (fixed seed): Japanese, full-width, emoji, combining marks,
mixed scripts, whitespace runs, empty strings, U+0080..U+00FF, strings longer than 64
and 128 code points. Results must be exactly equal. The property test compares 100,000
pairs, one call at a time and as one batch.
"""

from __future__ import annotations

import random
import unicodedata

import pytest
from _shared import needs_same_unicode, property_seeds, require_module

import nejumi_scorers as ns

SEED = 20250916

# fuzzywuzzy runs on this interpreter's `re` and `str.lower`, so it is CPython 3.11's only
# under Unicode 14.0.0.
pytestmark = needs_same_unicode
N_RANDOM = 4000

POOLS = {
    "ascii": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,!?'\"()[]{}:;/\\@#$%&*+=<>|~^`",
    "hira": "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
    "がぎぐげござじずぜぞっゃゅょー",
    "kata": "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"
    "ガギグゲゴヴッャュョ",
    "kanji": "日本東京都大阪府人口年月日時分秒一二三四五六七八九十百千万億兆零円株式会社学校先生答回応",
    "halfwidth": "ｱｲｳｴｵｶﾞｷﾞｸﾞﾟｰ｡､｢｣",
    "fullwidth": "ＡＢＣＤＥＦａｂｃｄｅｆ０１２３４５６７８９！？＄＆＃＠（）［］＿－．，：；／",
    "jpunct": "、。「」『』【】・…〜〈〉《》〒〆々〇",
    "emoji": ["😀", "👍", "👍🏽", "👨‍👩‍👧", "🇯🇵", "❤️", "✨", "🍣", "\u200d", "\ufe0f"],
    "combining": "\u0300\u0301\u0302\u0303\u0308\u0327\u0345\u3099\u309a\u20dd\u0903\u093f\u094d",
    "latin1": "".join(chr(c) for c in range(0x80, 0x100)),
    "space": " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2005\u200a"
    "\u2028\u2029\u202f\u205f\u3000\u200b\ufeff",
    "other": "ΣσςΑΒΓΔΟΔΟΣİıßẞǅǈĳŉΩωÅЖжДд١٢٣٤٥۰۱۲߀०१२३๑๒Ⅻⅻ½¼²³₂①⑳㍿㌔ﬁﬂ℃№™ǰΐ𝟘𝟙𝐀𝑎",
    "cjk_ext": "𠀋𡈽𩸽〇〻㐂䶵鿿",
}


def _pool_chars(name):
    pool = POOLS[name]
    return list(pool) if isinstance(pool, str) else pool


def _random_assigned(rng: random.Random) -> str:
    while True:
        cp = rng.choice([rng.randrange(0x20, 0x3000), rng.randrange(0x3000, 0x30000)])
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if unicodedata.category(chr(cp)) not in ("Cn", "Cs"):
            return chr(cp)


def _random_text(rng: random.Random, max_len: int) -> str:
    names = rng.sample(sorted(POOLS), rng.randint(1, 4))
    n = rng.choice([0, 1, 2, 3, 5, 8, 13, 30, 70, 150, rng.randint(0, max_len)])
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.08:
            out.append(_random_assigned(rng))
        elif r < 0.2:
            out.append(" " * rng.randint(1, 4))
        else:
            out.append(rng.choice(_pool_chars(rng.choice(names))))
    return "".join(out)


def _mutate(rng: random.Random, s: str) -> str:
    chars = list(s)
    for _ in range(rng.randint(0, max(1, len(chars) // 3))):
        op = rng.random()
        pos = rng.randint(0, len(chars))
        if op < 0.4 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op < 0.8:
            chars.insert(pos, rng.choice(_pool_chars(rng.choice(sorted(POOLS)))))
        elif chars:
            chars.reverse()
    return "".join(chars)


ADVERSARIAL = [
    ("", ""),
    ("", "a"),
    ("a", ""),
    ("。", "、"),
    ("   ", "\u3000"),
    ("\xa0\x85", "\xe9"),
    ("café", "cafe"),
    ("東京都", "東京"),
    ("東京 都", "都 東京"),
    ("回答: 東京", "東京"),
    ("ＡＢＣ", "abc"),
    ("ＡＢＣ", "ａｂｃ"),
    ("e\u0301", "é"),
    ("e\u0301", "e"),
    ("👍🏽", "👍"),
    ("ΟΔΟΣ", "οδος"),
    ("ΟΔΟΣ", "οδοσ"),
    ("İstanbul", "istanbul"),
    ("straße", "STRASSE"),
    ("a\u200bb", "ab"),
    ("a_b", "a b"),
    ("Ⅻ ½ ²", "12"),
    ("१२३", "123"),
    ("x" * 64, "x" * 63 + "y"),
    ("ab" * 70, "ba" * 71),
    ("あいうえお" * 30, "かきくけこ" * 29 + "あ"),
    ("a b c d e f g", "g f e d c b a"),
    ("\x1c1\x1f", "1"),
    ("abcd", "axxxxxxxxxxxxxx"),
    ("a", "bcdefgh"),
]


@pytest.fixture(scope="module")
def fuzz():
    module = require_module("fuzzywuzzy.fuzz")
    require_module("Levenshtein")
    backend = getattr(module, "SequenceMatcher", None)
    if getattr(backend, "__module__", "") != "fuzzywuzzy.StringMatcher":
        pytest.fail("fuzzywuzzy is not using the python-Levenshtein backend")
    return module


def _pairs():
    rng = random.Random(SEED)
    pairs = list(ADVERSARIAL)
    for i in range(N_RANDOM):
        a = _random_text(rng, 200)
        b = _mutate(rng, a) if i % 2 else _random_text(rng, 200)
        pairs.append((a, b))
    return pairs


def test_token_sort_ratio_matches_fuzzywuzzy(fuzz):
    mismatches = []
    pairs = _pairs()
    for a, b in pairs:
        want = fuzz.token_sort_ratio(a, b)
        got = ns.token_sort_ratio(a, b)
        if got != want or ns.char_f1(a, b) != want / 100.0:
            mismatches.append((a, b, got, want))
    assert not mismatches, f"{len(mismatches)}/{len(pairs)} mismatches, first: {mismatches[:5]!r}"


def test_char_f1_batch_matches_fuzzywuzzy(fuzz):
    pairs = _pairs()[:1500]
    preds = [a for a, _ in pairs]
    golds = [b for _, b in pairs]
    want = [fuzz.token_sort_ratio(a, b) / 100.0 for a, b in pairs]
    assert ns.char_f1_batch(preds, golds) == want


class _Text(str):
    """A str subclass (CPython stores its text apart from the object)."""


def test_str_subclasses_read_like_str(fuzz):
    pairs = _pairs()[:600]
    want = [fuzz.token_sort_ratio(a, b) / 100.0 for a, b in pairs]
    assert [ns.char_f1(_Text(a), _Text(b)) for a, b in pairs] == want
    assert ns.char_f1_batch([_Text(a) for a, _ in pairs], [b for _, b in pairs]) == want


N_PROPERTY = 100_000

# Pools for the property test, as lists of "characters" (some are clusters).
_JA = list(POOLS["hira"] + POOLS["kata"] + POOLS["kanji"] + POOLS["jpunct"] + POOLS["halfwidth"])
_FULLWIDTH = [chr(c) for c in range(0xFF01, 0xFF5F)] + list("abcXYZ019")
_EMOJI = [
    "😀",
    "👍",
    "👍🏻",
    "👍🏽",
    "👍🏿",
    "👨\u200d👩\u200d👧",
    "👩\u200d💻",
    "🏳\ufe0f\u200d🌈",
    "🇯🇵",
    "❤\ufe0f",
    "✨",
    "🍣",
    "\u200d",
    "\ufe0f",
    "\U0001f3fd",
    "🫠",
    "𠀋",
    "𝐀",
    "𝑎",
]
_COMBINING = [chr(c) for c in range(0x300, 0x370)] + list("\u3099\u309a\u20dd\u0903\u093f\u094d")
_SPACES = list(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2005\u200a\u2028\u2029\u202f\u205f\u3000")
_LATIN1 = [chr(c) for c in range(0x80, 0x100)]
_PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~、。「」『』【】・…〜〈〉《》！？（）")
_ASCII = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_OTHER = list(POOLS["other"])
_ALL = _JA + _FULLWIDTH + _EMOJI + _COMBINING + _SPACES + _LATIN1 + _PUNCT + _ASCII + _OTHER


def _words(rng: random.Random, pool: list[str], n_words: int, word_len: tuple[int, int], spaces: list[str]) -> str:
    out = []
    for i in range(n_words):
        if i:
            out.append("".join(rng.choices(spaces, k=rng.randint(1, 3))))
        out.append("".join(rng.choices(pool, k=rng.randint(*word_len))))
    return "".join(out)


def _property_text(rng: random.Random, kind: str) -> str:
    if kind == "ja":
        return _words(rng, _JA, rng.randint(1, 4), (1, 12), [" ", "\u3000", "、"])
    if kind == "fullwidth":
        return _words(rng, _FULLWIDTH + _JA[:40], rng.randint(1, 4), (1, 8), [" ", "\u3000"])
    if kind == "emoji":
        return _words(rng, _EMOJI + _ASCII + _JA[:30], rng.randint(1, 5), (1, 6), [" ", "\u200d"])
    if kind == "combining":
        base = _ASCII + _JA[:20]
        return "".join(
            rng.choice(base) + "".join(rng.choices(_COMBINING, k=rng.randint(0, 2))) for _ in range(rng.randint(1, 12))
        )
    if kind == "mixed":
        return _words(rng, _ALL, rng.randint(1, 6), (1, 10), _SPACES)
    if kind == "spaces":
        return _words(rng, _ASCII + _JA, rng.randint(1, 5), (1, 6), _SPACES)
    if kind == "empty":
        return rng.choice(["", "", " ", "\u3000", "\x1c\x1f", "\xa0", "。", "😀"])
    if kind == "latin1":
        return _words(rng, _LATIN1 + _ASCII, rng.randint(1, 5), (1, 8), [" ", "\xa0"])
    if kind == "punct":
        return "".join(rng.choices(_PUNCT + _SPACES, k=rng.randint(1, 15)))
    if kind == "long":
        # lengths across the 64- and 128-code-point word boundaries of the bit-parallel LCS
        n = rng.choice([62, 63, 64, 65, 66, 127, 128, 129, 130, 190, 256, rng.randint(64, 400)])
        pool = rng.choice([_ASCII, _JA, _ALL, list("ab"), list("あい う")])
        return "".join(rng.choices(pool, k=n))
    raise AssertionError(kind)


_KINDS = [
    *("ja", "ja", "fullwidth", "emoji", "combining", "mixed", "mixed"),
    *("spaces", "empty", "latin1", "punct", "long", "long"),
]


def _one_edit(rng: random.Random, s: str) -> str:
    chars = list(s)
    op = rng.randrange(3) if chars else 0
    pos = rng.randrange(len(chars) + 1) if op == 0 else rng.randrange(len(chars))
    if op == 0:
        chars.insert(pos, rng.choice(_ALL))
    elif op == 1:
        del chars[pos]
    else:
        chars[pos] = rng.choice(_ALL)
    return "".join(chars)


def _property_pairs(n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        a = _property_text(rng, rng.choice(_KINDS))
        r = i % 10
        if r < 4:
            b = _one_edit(rng, a)  # near-duplicate
        elif r < 5:
            b = a
        elif r < 6:
            b = " ".join(reversed(a.split()))  # same tokens, other order
        else:
            b = _property_text(rng, rng.choice(_KINDS))
        pairs.append((a, b) if rng.random() < 0.5 else (b, a))
    return pairs


@pytest.mark.parametrize("seed", property_seeds(SEED + 1))
def test_property_100k_pairs_match_fuzzywuzzy(fuzz, seed):
    """char_f1 and char_f1_batch equal fuzzywuzzy on 100,000 seeded random and adversarial pairs."""
    pairs = _property_pairs(N_PROPERTY, seed)
    forms = ("both one-byte", "two-byte", "four-byte")
    kinds = {k: 0 for k in ("crosses 64", "crosses 128", "empty side", "latin-1", "zwj", *forms)}
    want = []
    for a, b in pairs:
        want.append(fuzz.token_sort_ratio(a, b) / 100.0)
        longest = max(len(a), len(b))
        kinds["crosses 64"] += longest > 64
        kinds["crosses 128"] += longest > 128
        kinds["empty side"] += not a or not b
        kinds["latin-1"] += any("\x80" <= c <= "\xff" for c in a + b)
        kinds["zwj"] += "\u200d" in a + b
        # Code points up to U+00FF, in the BMP and above it: all three widths are covered.
        widest = max(map(ord, a + b), default=0)
        kinds["both one-byte"] += widest < 0x100
        kinds["two-byte"] += 0x100 <= widest < 0x10000
        kinds["four-byte"] += widest >= 0x10000
    assert all(count >= 1000 for count in kinds.values()), kinds
    char_f1 = ns.char_f1
    mismatches = [(a, b, got, w) for (a, b), w in zip(pairs, want, strict=True) if (got := char_f1(a, b)) != w]
    assert not mismatches, f"{len(mismatches)}/{len(pairs)} char_f1 mismatches, first: {mismatches[:5]!r}"
    batch = ns.char_f1_batch([a for a, _ in pairs], [b for _, b in pairs])
    bad = [(pairs[i], got, w) for i, (got, w) in enumerate(zip(batch, want, strict=True)) if got != w]
    assert not bad, f"{len(bad)}/{len(pairs)} char_f1_batch mismatches, first: {bad[:5]!r}"


def test_rounding_grid_matches_levenshtein_ratio():
    """int(round(100 * Levenshtein.ratio)) for every (lensum, distance), lensum <= 401."""
    lev = require_module("Levenshtein")
    for la in range(1, 201):
        for lb in (la, la + 1):
            for common in range(0, min(la, lb) + 1):
                if common == la == lb:
                    continue
                a = "x" * common + "a" * (la - common)
                b = "x" * common + "b" * (lb - common)
                want = round(100 * lev.ratio(a, b))
                assert ns.token_sort_ratio(a, b) == want, (a, b)
