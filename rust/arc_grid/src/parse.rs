//! Upstream `backscan_json_parser` (from arc-agi-benchmarking, as vendored in Nejumi's
//! `scripts/evaluator/arc_agi.py`).
//!
//! 1. Find the last `]` or `}` in the text.
//! 2. Walk back counting only that bracket type (`[`/`]` or `{`/`}`) until it balances.
//!    Brackets inside JSON strings count too, and the other bracket type is ignored.
//! 3. `json.loads` the substring; `JSONDecodeError` means no prediction.
//! 4. Keep it only if it is a non-empty list whose elements are all lists.
//!
//! Python walks code points and this walks UTF-8 bytes; the brackets are ASCII and never
//! occur inside a multi-byte sequence, so both find the same substring.

use crate::json::{self, JsonError, Value};
use crate::{Failure, Reason, UpstreamError};

/// The substring step 2 hands to `json.loads`, or `None` (no closing bracket, or it
/// never balances).
pub fn backscan_candidate(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let last = bytes.iter().rposition(|&b| b == b']' || b == b'}')?;
    let close = *bytes.get(last)?;
    let open = if close == b']' { b'[' } else { b'{' };
    let mut depth = 1usize;
    for (i, &b) in bytes.get(..last)?.iter().enumerate().rev() {
        if b == close {
            depth += 1;
        } else if b == open {
            depth -= 1;
            if depth == 0 {
                return text.get(i..=last);
            }
        }
    }
    None
}

/// `backscan_json_parser(text)`: the rows of the extracted list of lists.
///
/// `Err(Failure::Incorrect(_))` is upstream's `None` (the attempt is wrong);
/// `Err(Failure::Upstream(_))` is an exception upstream does not catch.
pub fn backscan(text: &str) -> Result<Vec<Vec<Value>>, Failure> {
    let candidate = backscan_candidate(text).ok_or(Failure::Incorrect(Reason::NoCandidate))?;
    let value = json::loads(candidate).map_err(|e| match e {
        JsonError::Decode { .. } => Failure::Incorrect(Reason::JsonDecode),
        JsonError::IntTooManyDigits => Failure::Upstream(UpstreamError::JsonIntDigits),
        JsonError::TooDeep => Failure::Upstream(UpstreamError::JsonRecursion),
    })?;
    let Value::List(items) = value else {
        return Err(Failure::Incorrect(Reason::NotListOfLists));
    };
    if items.is_empty() {
        return Err(Failure::Incorrect(Reason::NotListOfLists));
    }
    items
        .into_iter()
        .map(|row| match row {
            Value::List(cells) => Ok(cells),
            _ => Err(Failure::Incorrect(Reason::NotListOfLists)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reason(text: &str) -> Option<Reason> {
        match backscan(text) {
            Err(Failure::Incorrect(r)) => Some(r),
            _ => None,
        }
    }

    /// (text, the substring handed to `json.loads`).
    #[rustfmt::skip]
    const CANDIDATES: &[(&str, Option<&str>)] = &[
        ("x [[1], [2]] y", Some("[[1], [2]]")),
        ("[[1]] then {\"a\": 1}", Some("{\"a\": 1}")),
        // The other bracket type is ignored while walking back ...
        ("{\"g\": [[1]]}", Some("{\"g\": [[1]]}")),
        ("[1, \"]\"]", None),
        // ... and brackets inside strings count: `["["]` yields `["]`.
        ("[\"[\"]", Some("[\"]")),
        ("no brackets", None),
        ("]", None),
        ("", None),
        ("日本[[1]]語", Some("[[1]]")),
        // The last bracket may be a lone one in trailing prose.
        ("[[1]] 注: 推測を含む]", None),
        ("[[1]]\n以上 [注: 推測]", Some("[注: 推測]")),
    ];

    #[test]
    fn candidates() {
        for &(text, candidate) in CANDIDATES {
            assert_eq!(backscan_candidate(text), candidate, "{text:?}");
        }
    }

    #[test]
    fn verdicts() {
        assert_eq!(
            backscan("answer:\n[[1, 2],\n [3, 4]]\n"),
            Ok(vec![
                vec![Value::Int(1), Value::Int(2)],
                vec![Value::Int(3), Value::Int(4)]
            ])
        );
        assert_eq!(backscan("[[]]"), Ok(vec![vec![]]));
        // An unclosed outer list: the last row alone is extracted.
        #[rustfmt::skip]
        let wrong = [
            ("", Reason::NoCandidate),
            ("[[1, 2], [3, 4]", Reason::NotListOfLists),
            ("[[1, 2", Reason::NoCandidate),
            ("[[1]]\n{\"confidence\": 0.9}", Reason::NotListOfLists),
            ("[]", Reason::NotListOfLists),
            ("[1, 2]", Reason::NotListOfLists),
            ("[[1], 2]", Reason::NotListOfLists),
            ("[[1], [2],]", Reason::JsonDecode),
            ("[[1], [x]]", Reason::JsonDecode),
        ];
        for (text, r) in wrong {
            assert_eq!(reason(text), Some(r), "{text:?}");
        }
        assert_eq!(
            backscan(&format!("[[{}]]", "7".repeat(4301))),
            Err(Failure::Upstream(UpstreamError::JsonIntDigits))
        );
        assert_eq!(
            backscan(&format!("{}{}", "[".repeat(2000), "]".repeat(2000))),
            Err(Failure::Upstream(UpstreamError::JsonRecursion))
        );
    }

    /// Found by a property test of a former all-integer fast path, which overflowed its
    /// `i64` on a 19-digit cell (a panic in debug builds): such a cell is an ordinary
    /// JSON int, wrapped or beyond C `long`.
    #[test]
    fn nineteen_digit_cells() {
        let grid = |text: &str| crate::parse_grid(text).map(|g| g.to_rows());
        assert_eq!(
            grid("[[9230000000000000000]]"),
            Err(Failure::Upstream(UpstreamError::Int8Overflow))
        );
        assert_eq!(
            grid("[[-9999999999999999999, 1]]"),
            Err(Failure::Upstream(UpstreamError::Int8Overflow))
        );
        assert_eq!(grid("[[1234567890123456789]]"), Ok(vec![vec![21]]));
    }

    /// Upstream's walk as Python runs it, on code points.
    fn upstream_candidate(text: &str) -> Option<String> {
        let chars: Vec<char> = text.chars().collect();
        let last = chars.iter().rposition(|&c| c == ']' || c == '}')?;
        let (open, close) = if chars[last] == ']' {
            ('[', ']')
        } else {
            ('{', '}')
        };
        let mut depth = 0i64;
        for i in (0..=last).rev() {
            if chars[i] == close {
                depth += 1;
            } else if chars[i] == open {
                depth -= 1;
            }
            if depth == 0 {
                return Some(chars[i..=last].iter().collect());
            }
        }
        None
    }

    /// The candidate is upstream's, and `backscan` reports no candidate exactly then.
    fn check_candidate(s: &str) -> Result<(), TestCaseError> {
        let candidate = backscan_candidate(s);
        prop_assert_eq!(candidate.map(str::to_owned), upstream_candidate(s));
        prop_assert_eq!(
            candidate.is_none(),
            backscan(s) == Err(Failure::Incorrect(Reason::NoCandidate))
        );
        Ok(())
    }

    proptest! {
        #[test]
        fn candidate_is_upstreams_on_text(s in "\\PC{0,300}") {
            check_candidate(&s)?;
        }

        #[test]
        fn candidate_is_upstreams_on_bracket_soup(s in "[\\[\\]{}\"\\\\,: 0-9a-z\u{3042}]{0,300}") {
            check_candidate(&s)?;
        }

        /// Rectangles of ints of up to 20 digits (19 once overflowed an `i64`) cast as
        /// numpy does: the first cell beyond C `long` overflows, the others wrap to int8.
        #[test]
        fn integer_grids_cast_like_numpy(rows in (1..4usize, 1..4usize).prop_flat_map(|(h, w)| {
            let cell = "-?(0|[1-9][0-9]{0,19})";
            proptest::collection::vec(proptest::collection::vec(cell, w), h)
        })) {
            let row = |r: &Vec<String>| format!("[{}]", r.join(", "));
            let text = format!("[{}]", rows.iter().map(row).collect::<Vec<_>>().join(", "));
            let cells: Vec<Vec<i128>> =
                rows.iter().map(|r| r.iter().map(|c| c.parse().unwrap()).collect()).collect();
            let expected = if cells.iter().flatten().any(|&c| i64::try_from(c).is_err()) {
                Err(Failure::Upstream(UpstreamError::Int8Overflow))
            } else {
                Ok(cells.iter().map(|r| r.iter().map(|&c| c as i8).collect()).collect())
            };
            prop_assert_eq!(crate::parse_grid(&text).map(|g| g.to_rows()), expected);
        }
    }
}
