"""Jaster scorers bit-compatible with the Nejumi Leaderboard 4 (wandb/llm-leaderboard) harness.

All string semantics follow CPython 3.11 (Unicode 14.0.0). Strings containing lone
surrogates raise ValueError.
"""

from collections.abc import Sequence
from typing import final

__all__ = [
    "UNICODE_VERSION",
    "BfclItem",
    "__version__",
    "arc_attempt_correct",
    "arc_attempt_correct_batch",
    "arc_attempt_verdict",
    "arc_format_grid",
    "arc_format_prompt",
    "arc_parse_grid",
    "arc_pass_at_k",
    "arc_version_score",
    "bfcl_check",
    "bfcl_check_batch",
    "bfcl_check_prepared_batch",
    "bfcl_decode_ast",
    "bfcl_prepare",
    "char_f1",
    "char_f1_batch",
    "control_check",
    "convert_incorrect_choice",
    "convert_symbol_choice",
    "exact_match",
    "exact_match_figure",
    "exact_match_figure_batch",
    "normalize_prediction",
    "normalize_prediction_batch",
    "normalize_reference",
    "robust_consistency",
    "text_formatter",
    "token_sort_ratio",
]

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

# --- ARC-AGI (rust/arc_grid) -------------------------------------------------------------
# Upstream scripts/evaluator/arc_agi.py under CPython 3.11 + numpy 1.26.4. Outputs on which
# upstream itself raises (OverflowError from the int8 cast, json ValueError/RecursionError)
# count as wrong; arc_attempt_verdict names them.

def arc_parse_grid(text: str) -> list[list[int]] | None:
    """``backscan_json_parser(text)`` after upstream's shape checks (non-empty rows, all the
    same length, 2-D) and ``np.array(..., np.int8)`` as numpy 1.26 does it (257 -> 1,
    1.7 -> 1, "3" -> 3, True -> 1), or None. Values are not range-checked (-1, 10 survive)."""

def arc_attempt_correct(text: str, expected: Sequence[Sequence[int]]) -> bool:
    """Upstream ``correct`` for one attempt: parsed grid in 0..=9, same shape, equal cells.
    ``expected`` must be a non-empty rectangular grid (else ValueError)."""

def arc_attempt_verdict(text: str, expected: Sequence[Sequence[int]]) -> str:
    """``"correct"``; or why not: ``no_candidate``, ``json_decode_error``,
    ``not_list_of_lists``, ``empty_row``, ``ragged``, ``cast_error``, ``not_2d``,
    ``out_of_range``, ``shape_mismatch``, ``cell_mismatch``; or
    ``upstream_error:OverflowError|ValueError|RecursionError`` where upstream raises."""

def arc_attempt_correct_batch(texts: Sequence[str], expecteds: Sequence[Sequence[Sequence[int]]]) -> list[bool]:
    """``arc_attempt_correct`` element-wise; releases the GIL. Length mismatch -> ValueError."""

def arc_pass_at_k(attempts: Sequence[bool]) -> float:
    """1.0 if any attempt is correct else 0.0 (upstream ``max``). Empty -> ValueError."""

def arc_version_score(tasks: dict[str, Sequence[Sequence[bool]]]) -> float:
    """Version score from ``{task_id: [attempt flags per test example]}``: pass@k per
    example, pandas group mean per task, numpy mean over tasks in task-id order (NaN if empty).
    The leaderboard AVG is ``(arc-agi-1 + arc-agi-2) / 2``."""

def arc_format_grid(grid: Sequence[Sequence[int]]) -> str:
    """Upstream ``pretty_print_json``: ``json.dumps(grid)`` then ``[[`` -> ``[\\n  [``,
    ``]]`` -> ``]\\n]``, ``], [`` -> ``],\\n  [``, ``, `` -> ``,``."""

def arc_format_prompt(train: Sequence[dict[str, Sequence[Sequence[int]]]], test_input: Sequence[Sequence[int]]) -> str:
    """Upstream user message for training pairs ``[{"input": grid, "output": grid}, ...]``
    and the test input grid."""

# --- BFCL single-turn AST checking (src/bfcl, docs/bfcl.md) ---------------------------

def bfcl_check(
    category: str, raw_output: str, functions_json: str, possible_answer_json: str | None = None
) -> tuple[bool, str | None]:
    """Upstream BFCL v3 verdict ``(valid, error_type)`` for one single-turn item, as scored for
    ``bfcl_model_id: "Qwen/Qwen3-8B"`` (prompting): text after the last ``</think>``,
    ``default_decode_ast_prompting`` (Python ``ast`` / tree-sitter Java, JavaScript), then
    ``ast_checker`` or the (ir)relevance rule. ``category``: simple, multiple, java,
    javascript, irrelevance, live_simple, live_multiple, live_irrelevance, live_relevance
    (parallel* also accepted). ``functions_json``: the data file's ``function`` list;
    ``possible_answer_json``: the ``ground_truth`` list (None for (ir)relevance).
    ``error_type`` is None when valid. ValueError for bad JSON, an unknown category, or an
    input on which upstream's checker raises."""

def bfcl_check_batch(
    category: str,
    raw_outputs: Sequence[str],
    functions_json: Sequence[str],
    possible_answers_json: Sequence[str | None],
) -> list[tuple[bool, str | None]]:
    """``bfcl_check`` element-wise for one category; releases the GIL. Length mismatch or
    any failing item -> ValueError naming the first failing index."""

@final
class BfclItem:
    """One dataset item (category, function docs, possible answer) parsed once by
    ``bfcl_prepare``; immutable, shareable across threads."""

    @property
    def category(self) -> str: ...
    def check(self, raw_output: str) -> tuple[bool, str | None]:
        """The verdict ``bfcl_check`` gives for this item and ``raw_output``; ValueError where
        upstream's checker raises."""
    def check_tool_calls(
        self, calls: Sequence[tuple[str, str]], underscore_to_dot: bool = True
    ) -> tuple[bool, str | None]:
        """The verdict for the structured tool calls of a function-calling model, each
        ``(name, arguments_json)`` as the API returns them (``tool_call.function.name`` and
        ``.arguments``). Decoded as upstream's FC handlers do, ``[{name: json.loads(arguments)}]``
        (arguments that do not parse are retried with a ``}`` appended), then checked like
        ``check``'s calls. Arguments that still do not parse give
        ``ast_decoder:decoder_failed``; arguments that are not a JSON object give
        ``ast_decoder:decoder_wrong_output_format``. ``underscore_to_dot`` is the model
        config's flag (True for every upstream FC config): the doc name ``a.b`` is expected
        as ``a_b``. For (ir)relevance, any call counts as a call; an empty list as none."""

def bfcl_prepare(category: str, functions_json: str, possible_answer_json: str | None = None) -> BfclItem:
    """Parse one item's docs and possible answer once (same arguments and ValueErrors as
    ``bfcl_check``, minus the output; docs and answers are not read for (ir)relevance)."""

def bfcl_check_prepared_batch(items: Sequence[BfclItem], raw_outputs: Sequence[str]) -> list[tuple[bool, str | None]]:
    """``items[i].check(raw_outputs[i])`` for every ``i``; releases the GIL. Length mismatch or
    any failing item -> ValueError naming the item index."""

def bfcl_decode_ast(raw_output: str, language: str) -> str:
    """Decoded calls as JSON (debugging): ``[{name: {param: value}}]``, ``null`` when the
    Java/JS decoder finds no call. Tuples, bytes, complex, non-finite floats and dicts with
    non-string keys are tagged (``{"$tuple": [...]}`` ...); ``**kwargs`` is the key ``"**"``.
    ``language``: Python, Java or JavaScript. ValueError where upstream's decoder raises."""
