"""ARC-AGI grading: nejumi_scorers vs a Python re-implementation of the official check.

Inputs are synthetic model outputs for random ARC-sized grids (1x1 .. 30x30, colours 0-9):
prose (Japanese or English), optionally a <think> block with a wrong draft grid, then the
answer grid as `pretty_print_json` or `json.dumps` text, sometimes in a ```json fence or
followed by a note. Most answers are right; the rest carry the usual defects: one wrong
cell, a missing row, floats, numeric strings, 257 (wraps to 1 under numpy 1.26), ragged
rows, null cells, a trailing JSON object, a truncated answer, no grid at all.

`reference_attempt_correct` follows upstream `arc_agi.py` (`backscan_json_parser`, shape
checks, `np.array(y, np.int8)`, range and equality checks). The venv has numpy 2.x, which
raises OverflowError where numpy 1.26.4 wraps out-of-range values to int8; the reference
then retries once with those values wrapped, as 1.26 would have stored them. nejumi must
give the same verdict on every input (checked before timing).
"""

from __future__ import annotations

import json
import math
import random

import numpy as np
from timing import Comparison, best_times_interleaved

import nejumi_scorers as ns

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def _backscan(text: str):
    """Last `]` or `}`, walk back to its balancing opener, json.loads; list of lists or None."""
    end = max(text.rfind("]"), text.rfind("}"))
    if end < 0:
        return None
    closer = text[end]
    opener = "[" if closer == "]" else "{"
    depth = 0
    for i in range(end, -1, -1):
        ch = text[i]
        if ch == closer:
            depth += 1
        elif ch == opener:
            depth -= 1
            if depth == 0:
                try:
                    value = json.loads(text[i : end + 1])
                except json.JSONDecodeError:
                    return None
                if isinstance(value, list) and value and all(isinstance(row, list) for row in value):
                    return value
                return None
    return None


def _wrap_int8(v: int) -> int:
    return (v + 128) % 256 - 128


def _as_numpy_126_stores(value):
    """Leaves that numpy 1.26 wraps (ints within C long, truncated floats, int strings),
    replaced by the int8 value it stores; everything else unchanged, so numpy 2 raises
    the same exception 1.26 raises."""
    if isinstance(value, list):
        return [_as_numpy_126_stores(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return value
        value = int(value)
    elif isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            return value
    if isinstance(value, int) and _I64_MIN <= value <= _I64_MAX:
        return _wrap_int8(value)
    return value


def _int8_array(y) -> np.ndarray:
    try:
        return np.array(y, np.int8)
    except OverflowError:
        return np.array(_as_numpy_126_stores(y), np.int8)


def reference_attempt_correct(text: str, expected: list[list[int]]) -> bool:
    """Upstream's `correct` for one attempt (numpy 1.26.4 semantics). Raises where upstream
    raises (OverflowError from the cast, ValueError/RecursionError from json.loads)."""
    y = _backscan(text)
    if y is None:
        return False
    expected_arr = np.array(expected, np.int8)
    try:
        if any(len(row) == 0 for row in y):
            return False
        if len({len(row) for row in y}) != 1:
            return False
        y_arr = _int8_array(y)
        if np.any(y_arr < 0) or np.any(y_arr > 9):
            return False
        return bool(expected_arr.shape == y_arr.shape and np.all(y_arr == expected_arr))
    except (ValueError, TypeError):
        return False


_PROSE_JA = (
    "パターンを特定しました。",
    "各オブジェクトを右に移動します。",
    "色を反転し、枠線を追加します。",
    "入力の対称性に注目すると、出力は次のとおりです。",
    "トレーニング例から、最大の領域を塗りつぶす変換だと分かります。",
)
_PROSE_EN = (
    "The transformation mirrors the grid horizontally.",
    "Each colored object moves one cell down.",
    "Fill enclosed regions with color 4.",
    "Looking at the examples, the output keeps only the largest shape.",
)
_NOTES = ("", "", "", "\n以上が答えです。", "\nHope this helps!", "\n[注: 推測を含む]", '\n{"confidence": 0.9}')


def _pretty(grid) -> str:
    return json.dumps(grid).replace("[[", "[\n  [").replace("]]", "]\n]").replace("], [", "],\n  [").replace(", ", ",")


def _render(grid, rng: random.Random) -> str:
    return _pretty(grid) if rng.random() < 0.6 else json.dumps(grid)


def _answer(expected: list[list[int]], rng: random.Random) -> str:
    """The grid part of one synthetic output (usually the expected grid, sometimes damaged)."""
    grid = [row[:] for row in expected]
    h, w = len(grid), len(grid[0])
    r = rng.random()
    if r < 0.50:
        return _render(grid, rng)
    if r < 0.68:
        y, x = rng.randrange(h), rng.randrange(w)
        grid[y][x] = (grid[y][x] + rng.randint(1, 9)) % 10
        return _render(grid, rng)
    if r < 0.74:
        return _render(grid[:-1] if h > 1 else [[*row, 0] for row in grid], rng)
    if r < 0.79:
        return json.dumps([[v + 0.7 if rng.random() < 0.3 else v for v in row] for row in grid])
    if r < 0.83:
        return json.dumps([[str(v) for v in row] for row in grid])
    if r < 0.86:
        y, x = rng.randrange(h), rng.randrange(w)
        grid[y][x] += 256
        return json.dumps(grid)
    if r < 0.89:
        grid[rng.randrange(h)].append(0)
        return json.dumps(grid)
    if r < 0.92:
        grid[rng.randrange(h)][rng.randrange(w)] = None
        return json.dumps(grid)
    if r < 0.96:
        text = _render(grid, rng)
        return text[: rng.randrange(1, len(text))]
    return "申し訳ありませんが、解けませんでした。"


def make_cases(n: int, seed: int) -> tuple[list[str], list[list[list[int]]]]:
    """n (model output, expected grid) pairs."""
    rng = random.Random(seed)
    texts, expecteds = [], []
    for _ in range(n):
        h, w = rng.randint(1, 30), rng.randint(1, 30)
        palette = rng.sample(range(10), rng.randint(2, 5))
        expected = [[rng.choice(palette) for _ in range(w)] for _ in range(h)]
        prose = rng.choice(_PROSE_JA if rng.random() < 0.7 else _PROSE_EN)
        parts = []
        if rng.random() < 0.2:
            draft = [[rng.choice(palette) for _ in range(w)] for _ in range(h)]
            parts.append(f"<think>\n{prose}\n候補: {json.dumps(draft)}\n</think>\n")
        parts.append(prose + "\n\n出力:\n\n")
        answer = _answer(expected, rng)
        parts.append(f"```json\n{answer}\n```" if rng.random() < 0.25 else answer)
        parts.append(rng.choice(_NOTES))
        texts.append("".join(parts))
        expecteds.append(expected)
    return texts, expecteds


def run(n: int, seed: int) -> list[Comparison]:
    texts, expecteds = make_cases(n, seed)
    cases = list(zip(texts, expecteds, strict=True))
    one = ns.arc_attempt_correct
    batch = ns.arc_attempt_correct_batch

    def reference_loop() -> list[bool]:
        out = []
        for t, e in cases:
            try:
                out.append(reference_attempt_correct(t, e))
            except (OverflowError, ValueError, RecursionError):  # upstream would abort here
                out.append(False)
        return out

    def nejumi_loop() -> list[bool]:
        return [one(t, e) for t, e in cases]

    def nejumi_batch() -> list[bool]:
        return batch(texts, expecteds)

    want = reference_loop()
    got_one = nejumi_loop()
    got_batch = nejumi_batch()
    bad = [i for i, (w, a, b) in enumerate(zip(want, got_one, got_batch, strict=True)) if not (w == a == b)]
    if bad:
        i = bad[0]
        raise AssertionError(
            f"ARC verdict differs from the reference on {len(bad)}/{n} outputs; first {texts[i][-200:]!r}: "
            f"reference {want[i]} arc_attempt_correct {got_one[i]} batch {got_batch[i]} "
            f"({ns.arc_attempt_verdict(texts[i], expecteds[i])})"
        )
    print(f"arc: {n} outputs, {sum(want)} correct; nejumi == reference (numpy {np.__version__} + 1.26 wrap) on all")

    ref_s, loop_s, batch_s = best_times_interleaved([reference_loop, nejumi_loop, nejumi_batch])
    return [
        Comparison("arc_attempt_correct (per-item loop)", n, loop_s, "backscan+json+numpy loop", ref_s),
        Comparison("arc_attempt_correct_batch", n, batch_s, "backscan+json+numpy loop", ref_s),
    ]
