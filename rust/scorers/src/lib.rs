//! Nejumi Leaderboard 4 jaster scorers, bit-compatible with the upstream Python harness.
//!
//! The logic lives in plain Rust modules; [`python`] is a thin pyo3 layer that exposes
//! them as the `nejumi_scorers` extension module.

#![cfg_attr(test, allow(clippy::panic, clippy::unwrap_used, clippy::expect_used))]

pub mod bfcl;
pub mod control;
pub mod fuzz;
pub mod nfkc;
pub mod normalize;
pub mod pyfloat;
pub mod pystr;
pub mod robust;
#[rustfmt::skip]
pub mod unicode_tables;

mod python;
mod python_arc;
mod python_bfcl;

pub use control::{control_check, ControlRule, UnknownTask};
pub use fuzz::{char_f1, token_sort_ratio};
pub use normalize::{normalize_prediction, normalize_reference, text_formatter};
pub use pyfloat::parse_py_float;
pub use robust::{convert_incorrect_choice, convert_symbol_choice, robust_consistency};

/// Upstream `exact_match` (sklearn `accuracy_score` on one pair).
pub fn exact_match(pred: &str, gold: &str) -> f64 {
    if pred == gold {
        1.0
    } else {
        0.0
    }
}

/// Upstream `exact_match_figure`: `float(pred) == float(gold)`, any `ValueError` → 0.0.
pub fn exact_match_figure(pred: &str, gold: &str) -> f64 {
    match (parse_py_float(pred), parse_py_float(gold)) {
        (Some(a), Some(b)) if a == b => 1.0,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_match_values() {
        assert_eq!(exact_match("A", "A"), 1.0);
        assert_eq!(exact_match("A", "a"), 0.0);
        assert_eq!(exact_match("", ""), 1.0);
    }

    #[test]
    fn exact_match_figure_values() {
        assert_eq!(exact_match_figure("12", "12"), 1.0);
        assert_eq!(exact_match_figure("12.0", "12"), 1.0);
        assert_eq!(exact_match_figure("１２", "12"), 1.0);
        assert_eq!(exact_match_figure("1_2", "12"), 1.0);
        assert_eq!(exact_match_figure("-0", "0"), 1.0);
        assert_eq!(exact_match_figure("nan", "nan"), 0.0);
        assert_eq!(exact_match_figure("inf", "infinity"), 1.0);
        assert_eq!(exact_match_figure("12個", "12"), 0.0);
        assert_eq!(exact_match_figure("1,000", "1000"), 0.0);
        assert_eq!(exact_match_figure("12", "x"), 0.0);
        assert_eq!(exact_match_figure("", ""), 0.0);
        assert_eq!(exact_match_figure("0.1", "0.10000000000000001"), 1.0);
    }
}
