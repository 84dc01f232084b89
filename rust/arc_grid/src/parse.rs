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
use crate::{Failure, Grid, Reason, UpstreamError};

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
    candidate_rows(candidate_of(text)?)
}

/// [`backscan_candidate`], with upstream's verdict when there is none.
pub fn candidate_of(text: &str) -> Result<&str, Failure> {
    backscan_candidate(text).ok_or(Failure::Incorrect(Reason::NoCandidate))
}

/// The rest of [`backscan`] once the candidate is found: `json.loads` and the
/// list-of-lists check.
pub fn candidate_rows(candidate: &str) -> Result<Vec<Vec<Value>>, Failure> {
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

/// Fast path for the common answer, a rectangular list of non-empty lists of plain JSON
/// integers of at most 18 digits: the int8 grid upstream would build, without building
/// JSON values. `None` for anything else (floats, strings, ragged or empty rows, nesting,
/// syntax errors, ...) — callers then take the general path, which decides.
pub fn fast_int_grid(candidate: &str) -> Option<Grid> {
    let b = candidate.as_bytes();
    let mut i = 0usize;
    let ws = |i: &mut usize| {
        while matches!(b.get(*i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            *i += 1;
        }
    };
    let expect = |i: &mut usize, c: u8| -> Option<()> { (b.get(*i) == Some(&c)).then(|| *i += 1) };
    expect(&mut i, b'[')?;
    let mut cells = Vec::new();
    let mut width = 0usize;
    let mut height = 0usize;
    loop {
        ws(&mut i);
        expect(&mut i, b'[')?;
        let row_start = cells.len();
        loop {
            ws(&mut i);
            let negative = b.get(i) == Some(&b'-');
            if negative {
                i += 1;
            }
            let first = *b.get(i)?;
            if !first.is_ascii_digit() {
                return None;
            }
            let mut v = i64::from(first - b'0');
            i += 1;
            let mut digits = 1;
            if first != b'0' {
                while let Some(&d @ b'0'..=b'9') = b.get(i) {
                    // Checked before the digit is added: 18 digits always fit an i64.
                    digits += 1;
                    if digits > 18 {
                        return None;
                    }
                    v = v * 10 + i64::from(d - b'0');
                    i += 1;
                }
            }
            cells.push(crate::grid::wrap_i8(if negative { -v } else { v }));
            ws(&mut i);
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b']') => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
        let row_len = cells.len() - row_start;
        if height == 0 {
            width = row_len;
        } else if row_len != width {
            return None;
        }
        height += 1;
        ws(&mut i);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b']') => {
                i += 1;
                break;
            }
            _ => return None,
        }
    }
    ws(&mut i);
    if i != b.len() {
        return None;
    }
    Grid::from_parts(height, width, cells)
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

    #[test]
    fn candidates() {
        assert_eq!(backscan_candidate("x [[1], [2]] y"), Some("[[1], [2]]"));
        assert_eq!(
            backscan_candidate("[[1]] then {\"a\": 1}"),
            Some("{\"a\": 1}")
        );
        // the other bracket type is ignored while walking back
        assert_eq!(backscan_candidate("{\"g\": [[1]]}"), Some("{\"g\": [[1]]}"));
        assert_eq!(backscan_candidate("[1, \"]\"]"), None);
        // brackets inside strings count: `["["]` yields `["]`
        assert_eq!(backscan_candidate("[\"[\"]"), Some("[\"]"));
        assert_eq!(backscan_candidate("no brackets"), None);
        assert_eq!(backscan_candidate("]"), None);
        assert_eq!(backscan_candidate(""), None);
        assert_eq!(backscan_candidate("日本[[1]]語"), Some("[[1]]"));
        // the last bracket may be a lone one in trailing prose
        assert_eq!(backscan_candidate("[[1]] 注: 推測を含む]"), None);
        assert_eq!(
            backscan_candidate("[[1]]\n以上 [注: 推測]"),
            Some("[注: 推測]")
        );
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
        assert_eq!(reason(""), Some(Reason::NoCandidate));
        // an unclosed outer list: the last row alone is extracted
        assert_eq!(reason("[[1, 2], [3, 4]"), Some(Reason::NotListOfLists));
        assert_eq!(reason("[[1, 2"), Some(Reason::NoCandidate));
        assert_eq!(
            reason("[[1]]\n{\"confidence\": 0.9}"),
            Some(Reason::NotListOfLists)
        );
        assert_eq!(reason("[]"), Some(Reason::NotListOfLists));
        assert_eq!(reason("[1, 2]"), Some(Reason::NotListOfLists));
        assert_eq!(reason("[[1], 2]"), Some(Reason::NotListOfLists));
        assert_eq!(reason("[[1], [2],]"), Some(Reason::JsonDecode));
        assert_eq!(reason("[[1], [x]]"), Some(Reason::JsonDecode));
        assert_eq!(
            backscan(&format!("[[{}]]", "7".repeat(4301))),
            Err(Failure::Upstream(UpstreamError::JsonIntDigits))
        );
        assert_eq!(
            backscan(&format!("{}{}", "[".repeat(2000), "]".repeat(2000))),
            Err(Failure::Upstream(UpstreamError::JsonRecursion))
        );
    }

    /// Found by `fast_path_agrees_on_grids`: a 19-digit cell overflowed the i64 before
    /// the digit limit sent it to the general path (a panic in debug builds).
    #[test]
    fn nineteen_digit_cell_takes_the_general_path() {
        for text in ["[[9230000000000000000]]", "[[-9999999999999999999, 1]]"] {
            assert_eq!(fast_int_grid(text), None);
        }
        let general = crate::grid::cast_rows(&backscan("[[123456789012345678]]").unwrap());
        assert_eq!(fast_int_grid("[[123456789012345678]]"), general.ok());
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

        #[test]
        fn fast_path_agrees_with_general_path(s in "[\\[\\], \n\t0-9.eE\\-\"a]{0,60}") {
            if let Some(fast) = fast_int_grid(&s) {
                let general = crate::grid::cast_rows(&backscan(&s).unwrap()).unwrap();
                prop_assert_eq!(fast, general);
            }
        }

        #[test]
        fn fast_path_agrees_on_grids(
            rows in proptest::collection::vec(
                proptest::collection::vec("-?(0|[1-9][0-9]{0,19})(\\.[0-9])?", 0..4), 1..4),
            sep in "[ ,\n]{0,2}",
        ) {
            let text = format!(
                "[{}]",
                rows.iter().map(|r| format!("[{}]", r.join(&format!(",{sep}")))).collect::<Vec<_>>().join(&format!(",{sep}"))
            );
            let fast = fast_int_grid(&text);
            if let Some(fast) = &fast {
                let general = crate::grid::cast_rows(&backscan(&text).unwrap()).unwrap();
                prop_assert_eq!(fast, &general);
            }
            // The fast path must take the common case: a rectangle of plain small ints
            // (separators that are only commas make invalid JSON, which it rejects).
            let rectangle = rows.iter().all(|r| !r.is_empty() && r.len() == rows[0].len());
            let small_ints = rows
                .iter()
                .flatten()
                .all(|c| !c.contains('.') && c.trim_start_matches('-').len() <= 18);
            if rectangle && small_ints && !sep.contains(',') {
                prop_assert!(fast.is_some(), "fast path declined {text:?}");
            }
        }
    }
}
