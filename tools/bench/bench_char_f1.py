"""char_f1: nejumi_scorers vs fuzzywuzzy 0.18.0 (the official scorer) and rapidfuzz.

The inputs are jaster-like (prediction, gold) pairs, already normalised as the harness
passes them to `char_f1`: short Japanese answers (jemhopqa / jsquad / niilc / aio) with the
usual deviations (a trailing "です。", an explanation line, a one-character edit, a wrong
answer), longer Japanese sentences (alt-e-to-j) and English sentences (alt-j-to-e).

nejumi must equal `fuzzywuzzy.fuzz.token_sort_ratio(pred, gold) / 100` on every pair
(checked before timing). rapidfuzz is timed only: its `utils.default_process` keeps
U+0080..U+00FF and its Unicode tables differ from CPython's, so a few scores may differ.
"""

from __future__ import annotations

import random

from timing import Comparison, best_times_interleaved

import nejumi_scorers as ns


def _words(text: str) -> list[str]:
    return text.split()


_ANSWERS = _words(
    "東京都 大阪府 京都 北海道 沖縄県 富士山 琵琶湖 信濃川 徳川家康 織田信長 豊臣秀吉 坂本龍馬 聖徳太子 紫式部 "
    "夏目漱石 芥川龍之介 宮沢賢治 長嶋茂雄 王貞治 イチロー 大谷翔平 光合成 シベリア気団 熱帯モンスーン気団 "
    "寒帯ジェット気流 偏西風 司法試験 デカルト ニュートン アインシュタイン 香取神宮 伊勢神宮 出雲大社 明治維新 "
    "大化の改新 関ヶ原の戦い 鎌倉幕府 室町幕府 江戸幕府 ファイナルファンタジーXIII ドラゴンクエスト スーパーマリオ "
    "ポケットモンスター 新幹線 東海道本線 日本銀行 国際連合 世界保健機関 1868年 1945年 794年 三億円 "
    "12月25日 約3776メートル 5人 第二次世界大戦 太平洋戦争 yes no 株式会社 名古屋城 姫路城 清水寺"
)

_JA_PHRASES = _words(
    "私は 昨日 東京で 友人と 会いました 。 この 研究では 新しい 手法を 提案する 。 政府は 来年度の 予算案を "
    "閣議決定した 。 大雨の 影響で 電車が 遅れています 。 日本の 人口は 減少傾向に ある 。 彼女は 図書館で 本を "
    "読んでいた 。 その 会社は 新製品を 発表しました 。 気温が 急に 下がり 、 雪が 降り始めた 。 子供たちは "
    "公園で サッカーを している 。 経済の 回復には 時間が かかる と 見られている 。 科学者たちは 新しい 化合物を "
    "発見した 。"
)

_EN_WORDS = _words(
    "the government announced a new budget plan for next year and "
    "the researchers proposed novel method to improve accuracy of "
    "machine translation while heavy rain delayed trains in Tokyo "
    "on Monday morning she was reading book at library children "
    "are playing soccer park economy will take time recover "
    "scientists discovered compound company released product "
    "population Japan is decreasing temperature dropped suddenly "
    "snow began fall"
)

_PRED_PREFIXES = ("", "", "", "答えは", "質問の答えは", "回答: ")
_PRED_SUFFIXES = ("", "", "", "です。", "だと思います", "\n根拠: 本文の記述より。", "。")
_EDIT_CHARS = "あいうえおのはがをにでと、。・ーアイウ日本人大学一二三abcxyz0123 "


def _edit(rng: random.Random, s: str, edits: int) -> str:
    chars = list(s)
    for _ in range(edits):
        pos = rng.randint(0, len(chars))
        op = rng.random()
        if op < 0.35 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op < 0.7:
            chars.insert(pos, rng.choice(_EDIT_CHARS))
        elif chars:
            chars[min(pos, len(chars) - 1)] = rng.choice(_EDIT_CHARS)
    return "".join(chars)


def _short_pair(rng: random.Random) -> tuple[str, str]:
    gold = rng.choice(_ANSWERS)
    r = rng.random()
    if r < 0.25:
        core = gold
    elif r < 0.5:
        core = _edit(rng, gold, rng.randint(1, 2))
    elif r < 0.75:
        core = rng.choice(_ANSWERS)
    else:
        core = gold + rng.choice(("", "の", "と", "、")) + rng.choice(_ANSWERS)
    return rng.choice(_PRED_PREFIXES) + core + rng.choice(_PRED_SUFFIXES), gold


def _sentence_pair(rng: random.Random, words: list[str], sep: str, lo: int, hi: int) -> tuple[str, str]:
    gold_words = [rng.choice(words) for _ in range(rng.randint(lo, hi))]
    pred_words = list(gold_words)
    for _ in range(rng.randint(0, max(1, len(pred_words) // 4))):
        op = rng.random()
        pos = rng.randrange(len(pred_words))
        if op < 0.3:
            del pred_words[pos]
        elif op < 0.6:
            pred_words.insert(pos, rng.choice(words))
        elif op < 0.8:
            pred_words[pos] = rng.choice(words)
        else:
            j = rng.randrange(len(pred_words))
            pred_words[pos], pred_words[j] = pred_words[j], pred_words[pos]
    gold = sep.join(gold_words)
    pred = sep.join(pred_words)
    if sep == " ":
        gold = gold[:1].upper() + gold[1:] + "."
        pred = pred[:1].upper() + pred[1:] + rng.choice((".", "", " ."))
    return pred, gold


def make_pairs(n: int, seed: int) -> list[tuple[str, str]]:
    """n (pred, gold) pairs: 60% short answers, 25% Japanese, 15% English sentences."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        r = rng.random()
        if r < 0.6:
            pairs.append(_short_pair(rng))
        elif r < 0.85:
            pairs.append(_sentence_pair(rng, _JA_PHRASES, "", 6, 40))
        else:
            pairs.append(_sentence_pair(rng, _EN_WORDS, " ", 6, 30))
    return pairs


def run(n: int, seed: int) -> list[Comparison]:
    from fuzzywuzzy import StringMatcher  # noqa: F401  (fails without python-Levenshtein)
    from fuzzywuzzy import fuzz as fw_fuzz
    from rapidfuzz import fuzz as rf_fuzz
    from rapidfuzz import process as rf_process
    from rapidfuzz import utils as rf_utils

    pairs = make_pairs(n, seed)
    preds = [p for p, _ in pairs]
    golds = [g for _, g in pairs]
    fw_ratio = fw_fuzz.token_sort_ratio
    rf_ratio = rf_fuzz.token_sort_ratio
    default_process = rf_utils.default_process
    nejumi_one = ns.char_f1
    nejumi_batch = ns.char_f1_batch

    def fuzzywuzzy_loop() -> list[float]:
        return [fw_ratio(p, g) / 100.0 for p, g in pairs]

    def nejumi_loop() -> list[float]:
        return [nejumi_one(p, g) for p, g in pairs]

    def nejumi_batch_call() -> list[float]:
        return nejumi_batch(preds, golds)

    def rapidfuzz_loop() -> list[float]:
        return [rf_ratio(p, g, processor=default_process) / 100.0 for p, g in pairs]

    def rapidfuzz_cpdist(workers: int = 1):
        return rf_process.cpdist(preds, golds, scorer=rf_ratio, processor=default_process, workers=workers)

    want = fuzzywuzzy_loop()
    got_loop = nejumi_loop()
    got_batch = nejumi_batch_call()
    bad = [i for i, (w, a, b) in enumerate(zip(want, got_loop, got_batch, strict=True)) if not (w == a == b)]
    if bad:
        i = bad[0]
        raise AssertionError(
            f"char_f1 differs from fuzzywuzzy on {len(bad)}/{n} pairs; first {pairs[i]!r}: "
            f"fuzzywuzzy {want[i]} char_f1 {got_loop[i]} char_f1_batch {got_batch[i]}"
        )
    rf_scores = rapidfuzz_cpdist()
    rf_same = sum(1 for w, r in zip(want, rf_scores, strict=True) if round(float(r)) == round(100 * w))
    print(
        f"char_f1: {n} pairs, nejumi == fuzzywuzzy on all; rapidfuzz (default_process, "
        f"rounded) agrees on {rf_same}/{n} (timed only)"
    )

    # Single-threaded on both sides (the times are CPU time).
    fw_s, loop_s, batch_s, rf_loop_s, rf_cpdist_s = best_times_interleaved(
        [fuzzywuzzy_loop, nejumi_loop, nejumi_batch_call, rapidfuzz_loop, rapidfuzz_cpdist]
    )
    return [
        Comparison("char_f1 (per-item loop)", n, loop_s, "fuzzywuzzy token_sort_ratio loop", fw_s),
        Comparison("char_f1_batch", n, batch_s, "fuzzywuzzy token_sort_ratio loop", fw_s),
        Comparison("char_f1_batch", n, batch_s, "rapidfuzz token_sort_ratio loop", rf_loop_s),
        Comparison("char_f1_batch", n, batch_s, "rapidfuzz cpdist (workers=1)", rf_cpdist_s),
    ]
