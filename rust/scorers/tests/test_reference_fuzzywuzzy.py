"""char_f1 / token_sort_ratio against the reference fuzzywuzzy 0.18.0 + python-Levenshtein.

Random and adversarial pairs (fixed seed): Japanese, full-width, emoji, combining marks,
mixed scripts, whitespace runs, empty strings, U+0080..U+00FF, strings longer than 64
and 128 code points. Results must be exactly equal.
"""

from __future__ import annotations

import random
import unicodedata

import pytest
from _shared import require_module

import nejumi_scorers as ns

SEED = 20250916
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


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
