//! ARC-AGI answer extraction and grading, bit-compatible with the Nejumi Leaderboard 4
//! harness (`scripts/evaluator/arc_agi.py`, CPython 3.11, numpy 1.26.4).
//!
//! * [`parse`]: `backscan_json_parser` (last `]`/`}`, walk back to balance, `json.loads`,
//!   keep a non-empty list of lists), on top of [`json`], a `json.loads` re-implementation;
//! * [`grid`]: upstream's shape checks and numpy 1.26's `np.array(y_pred, np.int8)`;
//! * [`score`]: pass@k and the pandas means;
//! * [`serialize`]: `pretty_print_json` and the prompt.
//!
//! [`grade`] is the whole per-attempt check. Its [`Verdict`] separates the wrong answers
//! from inputs on which upstream itself raises an uncaught exception
//! ([`UpstreamError`]); graders that need a boolean treat those as wrong.

#![cfg_attr(test, allow(clippy::panic, clippy::unwrap_used, clippy::expect_used))]

pub mod grid;
pub mod json;
pub mod parse;
pub mod pyint;
pub mod score;
pub mod serialize;

pub use grid::{Grid, GridError};
pub use score::{pass_at_k, task_score, version_score};
pub use serialize::{format_prompt, pretty_print_json, pretty_print_tile};

/// Why an attempt is wrong (upstream `correct = False`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// No `]`/`}` in the text, or it never balances.
    NoCandidate,
    /// `json.loads` raised `JSONDecodeError`.
    JsonDecode,
    /// The JSON is not a non-empty list whose elements are all lists.
    NotListOfLists,
    /// A row is empty.
    EmptyRow,
    /// Rows differ in length.
    Ragged,
    /// `np.array(y_pred, np.int8)` raised `ValueError` or `TypeError`.
    CastError,
    /// The int8 array has more than two dimensions.
    NotTwoDimensional,
    /// A value is outside `0..=9` after the int8 cast.
    OutOfRange,
    /// The shape differs from the expected grid.
    ShapeMismatch,
    /// Same shape, some cell differs.
    CellMismatch,
}

/// An exception upstream does not catch: its ARC evaluation aborts, so no verdict exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpstreamError {
    /// `json.loads` raised `ValueError` (int literal over 4300 digits).
    JsonIntDigits,
    /// `json.loads` raised `RecursionError` (nesting deeper than [`json::MAX_DEPTH`]).
    JsonRecursion,
    /// `np.array(y_pred, np.int8)` raised `OverflowError` (a value beyond C `long`,
    /// `±inf`, or a float with `|trunc(x)| ≥ 2**63`).
    Int8Overflow,
}

/// Anything short of a 2-D int8 grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    /// Upstream marks the attempt wrong.
    Incorrect(Reason),
    /// Upstream raises.
    Upstream(UpstreamError),
}

/// Upstream's per-attempt result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// `correct = True`.
    Correct,
    /// `correct = False`.
    Incorrect(Reason),
    /// Upstream raises an uncaught exception on this output.
    Upstream(UpstreamError),
}

impl From<Failure> for Verdict {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Incorrect(r) => Verdict::Incorrect(r),
            Failure::Upstream(e) => Verdict::Upstream(e),
        }
    }
}

impl Reason {
    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Reason::NoCandidate => "no_candidate",
            Reason::JsonDecode => "json_decode_error",
            Reason::NotListOfLists => "not_list_of_lists",
            Reason::EmptyRow => "empty_row",
            Reason::Ragged => "ragged",
            Reason::CastError => "cast_error",
            Reason::NotTwoDimensional => "not_2d",
            Reason::OutOfRange => "out_of_range",
            Reason::ShapeMismatch => "shape_mismatch",
            Reason::CellMismatch => "cell_mismatch",
        }
    }
}

impl UpstreamError {
    /// Stable code, prefixed `upstream_error:` and naming the Python exception.
    pub fn code(self) -> &'static str {
        match self {
            UpstreamError::JsonIntDigits => "upstream_error:ValueError",
            UpstreamError::JsonRecursion => "upstream_error:RecursionError",
            UpstreamError::Int8Overflow => "upstream_error:OverflowError",
        }
    }
}

impl Verdict {
    /// Whether upstream counts the attempt as correct (upstream errors count as wrong).
    pub fn is_correct(self) -> bool {
        self == Verdict::Correct
    }

    /// `"correct"`, a [`Reason::code`], or an [`UpstreamError::code`].
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Correct => "correct",
            Verdict::Incorrect(r) => r.code(),
            Verdict::Upstream(e) => e.code(),
        }
    }
}

/// The prediction upstream compares: `backscan_json_parser(text)` after the shape checks
/// and the int8 cast. Values are not range-checked (`-1` and `10` survive).
pub fn parse_grid(text: &str) -> Result<Grid, Failure> {
    grid::cast_rows(&parse::backscan(text)?)
}

/// Upstream's `correct` for one attempt.
pub fn grade(text: &str, expected: &Grid) -> Verdict {
    match parse_grid(text) {
        Ok(pred) => grid::judge(&pred, expected),
        Err(f) => f.into(),
    }
}

/// `grade(text, expected).is_correct()`.
pub fn attempt_correct(text: &str, expected: &Grid) -> bool {
    grade(text, expected).is_correct()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected() -> Grid {
        Grid::new(&[[1i8, 0, 0], [0, 1, 0], [0, 0, 1]]).unwrap()
    }

    #[test]
    fn golden_variants() {
        let e = expected();
        let v = |t: &str| grade(t, &e);
        assert_eq!(v("[[1, 0, 0], [0, 1, 0], [0, 0, 1]]"), Verdict::Correct);
        assert_eq!(
            v("```json\n[\n  [1,0,0],\n  [0,1,0],\n  [0,0,1]\n]\n```"),
            Verdict::Correct
        );
        assert_eq!(
            v("<think>\n[[1, 0, 0], [0, 1, 0], [0, 0, 2]]\n</think>\n[[1,0,0],[0,1,0],[0,0,1]]"),
            Verdict::Correct
        );
        assert_eq!(
            v("<think>\n[[1, 0, 0], [0, 1, 0], [0, 0, 1]]\n</think>\nわかりませんでした。"),
            Verdict::Correct
        );
        assert_eq!(v("[[257, 0, 0], [0, 1, 0], [0, 0, 1]]"), Verdict::Correct);
        assert_eq!(
            v("[[1.7, 0, 0], [0, 1.2, 0], [0, 0.9, 1]]"),
            Verdict::Correct
        );
        assert_eq!(
            v(r#"[["1", "0", "0"], ["0", "1", "0"], ["0", "0", "1"]]"#),
            Verdict::Correct
        );
        assert_eq!(
            v("[[true, false, false], [false, true, false], [false, false, true]]"),
            Verdict::Correct
        );
        assert_eq!(
            v("[[1, 0, 0], [0, 1, 0], [0, 0, -1]]"),
            Verdict::Incorrect(Reason::OutOfRange)
        );
        assert_eq!(v(""), Verdict::Incorrect(Reason::NoCandidate));
        assert_eq!(v("[[]]"), Verdict::Incorrect(Reason::EmptyRow));
        assert_eq!(
            v("[[1, 0, 0], [0, 1, 0], [0, 0, 1]]\n{\"confidence\": 0.9}"),
            Verdict::Incorrect(Reason::NotListOfLists)
        );
        assert_eq!(
            v("[[1, 0, 0], [0, 1, 0], [0, 0, 1]]\n以上 [注: 推測]"),
            Verdict::Incorrect(Reason::JsonDecode)
        );
        assert_eq!(
            v("[[null, 0, 0], [0, 1, 0], [0, 0, 1]]"),
            Verdict::Incorrect(Reason::CastError)
        );
        assert_eq!(v("[1, 0, 0]"), Verdict::Incorrect(Reason::NotListOfLists));
        assert_eq!(
            v("[[[1, 0, 0], [0, 1, 0], [0, 0, 1]]]"),
            Verdict::Incorrect(Reason::NotTwoDimensional)
        );
        assert_eq!(
            v("[[1, 0, 0], [0, 1, 0]]"),
            Verdict::Incorrect(Reason::ShapeMismatch)
        );
        assert_eq!(
            v("[[1, 0, 0], [0, 1, 0], [0, 1, 1]]"),
            Verdict::Incorrect(Reason::CellMismatch)
        );
        assert_eq!(
            v("[[1, 0, 0], [0, 1], [0, 0, 1]]"),
            Verdict::Incorrect(Reason::Ragged)
        );
        assert_eq!(
            v("[[1e999, 0, 0], [0, 1, 0], [0, 0, 1]]"),
            Verdict::Upstream(UpstreamError::Int8Overflow)
        );
        assert_eq!(v("[[1e999, 0, 0]]").code(), "upstream_error:OverflowError");
        assert!(!attempt_correct("[[1e999]]", &e));
    }

    #[test]
    fn parse_grid_keeps_out_of_range_values() {
        assert_eq!(
            parse_grid("x [[-1, 10], [257, 3]] y").map(|g| g.to_rows()),
            Ok(vec![vec![-1, 10], vec![1, 3]])
        );
    }
}
