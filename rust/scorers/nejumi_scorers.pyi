"""Jaster scorers bit-compatible with the Nejumi Leaderboard 4 (wandb/llm-leaderboard) harness.

All string semantics follow CPython 3.11 (Unicode 14.0.0). Strings containing lone
surrogates raise ValueError.
"""

from collections.abc import Sequence

__version__: str
UNICODE_VERSION: str

def text_formatter(raw: str, task: str) -> str:
    """Upstream ``formatter.text_formatter(raw, task)`` (first matching branch; plain
    ``jmmlu`` matches none and is returned unchanged)."""

def normalize_prediction(raw: str, task: str) -> str:
    """Processed prediction: ``text_formatter`` -> ``split("\\n\\n")[0]`` -> ``strip()``
    -> ``strip("'")`` -> ``strip('"')`` -> ``strip()`` -> NFKC."""

def normalize_reference(s: str) -> str:
    """Gold answer: ``unicodedata.normalize("NFKC", s)``."""

def exact_match(pred: str, gold: str) -> float:
    """1.0 if ``pred == gold`` else 0.0."""

def exact_match_figure(pred: str, gold: str) -> float:
    """1.0 if ``float(pred) == float(gold)`` else 0.0 (unparsable -> 0.0; nan != nan)."""

def char_f1(pred: str, gold: str) -> float:
    """``fuzzywuzzy.fuzz.token_sort_ratio(pred, gold) / 100.0`` (python-Levenshtein backend)."""

def token_sort_ratio(a: str, b: str) -> int:
    """``fuzzywuzzy.fuzz.token_sort_ratio(a, b)`` in 0..=100."""

def char_f1_batch(preds: Sequence[str], golds: Sequence[str]) -> list[float]:
    """``char_f1`` element-wise; releases the GIL. Length mismatch -> ValueError."""

def exact_match_figure_batch(preds: Sequence[str], golds: Sequence[str]) -> list[float]:
    """``exact_match_figure`` element-wise; releases the GIL. Length mismatch -> ValueError."""

def normalize_prediction_batch(raws: Sequence[str], task: str) -> list[str]:
    """``normalize_prediction`` for every raw output of one task; releases the GIL."""

def control_check(task: str, pred: str) -> float | None:
    """Jaster Control check on a processed prediction: 1.0 / 0.0, or None for no_check
    tasks (aio, alt-e-to-j, alt-j-to-e, jemhopqa, jhumaneval, jsquad, niilc).
    ``_IncorrectChoice`` / ``_SymbolChoice`` suffixes are removed first. Unknown task ->
    ValueError."""

def convert_symbol_choice(s: str) -> str:
    """``{"$": "A", "&": "B", "#": "C", "@": "D"}.get(s, s)``."""

def convert_incorrect_choice(s: str) -> str:
    """``{"B,C,D": "A", "A,C,D": "B", "A,B,D": "C", "A,B,C": "D"}.get(s, s)``."""

def robust_consistency(normal: str, symbol: str, incorrect: str) -> float:
    """JMMLU robustness score of one item from the three processed predictions:
    3 matching pairs -> 1.0, exactly 1 -> 0.5, otherwise 0.0."""
