//! CPython 3.11 `float(str)`.
//!
//! Follows `PyFloat_FromString`:
//! 1. `_PyUnicode_TransformDecimalAndSpaceToASCII`: code points < 127 are kept, other
//!    whitespace (`str.isspace`) becomes `' '`, decimal digits (category Nd, e.g. `'１'`,
//!    `'٣'`) become ASCII digits, anything else makes the string invalid.
//! 2. `_Py_string_to_number_with_underscores`: `_` only between two ASCII digits.
//! 3. `float_from_string_inner`: strip ASCII whitespace (`\t\n\v\f\r` and space only —
//!    not `\x1c`..`\x1f`), then the whole rest must be one `_Py_dg_strtod` literal
//!    `[+-]?(digits[.digits*]|.digits)([eE][+-]?digits)?` or `[+-]?(inf|infinity|nan)`
//!    (case-insensitive). A NUL anywhere is invalid.
//!
//! The numeric value comes from Rust's correctly rounded `str::parse::<f64>`, which agrees
//! with CPython's correctly rounded `dtoa`.

/// `float(s)`; `None` where CPython raises `ValueError`.
pub fn parse_py_float(s: &str) -> Option<f64> {
    let ascii = transform_to_ascii(s)?;
    let cleaned = remove_underscores(&ascii)?;
    let body = strip_ascii_space(&cleaned);
    if body.is_empty() {
        return None;
    }
    parse_literal(body)
}

fn transform_to_ascii(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let cp = c as u32;
        if cp == 0 {
            // C string semantics: an embedded NUL always makes the parse fail.
            return None;
        }
        if cp < 127 {
            out.push(u8::try_from(cp).ok()?);
        } else if crate::pystr::is_space(c) {
            out.push(b' ');
        } else {
            out.push(b'0' + crate::pystr::decimal_value(c)?);
        }
    }
    Some(out)
}

fn remove_underscores(s: &[u8]) -> Option<Vec<u8>> {
    if !s.contains(&b'_') {
        return Some(s.to_vec());
    }
    let mut out = Vec::with_capacity(s.len());
    let mut prev = 0u8;
    for &b in s {
        if b == b'_' {
            if !prev.is_ascii_digit() {
                return None;
            }
        } else {
            if prev == b'_' && !b.is_ascii_digit() {
                return None;
            }
            out.push(b);
        }
        prev = b;
    }
    if prev == b'_' {
        return None;
    }
    Some(out)
}

fn is_py_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C)
}

fn strip_ascii_space(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| !is_py_ascii_space(b))
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| !is_py_ascii_space(b))
        .map_or(start, |p| p + 1);
    s.get(start..end).unwrap_or(&[])
}

fn count_digits(s: &[u8]) -> usize {
    s.iter().take_while(|b| b.is_ascii_digit()).count()
}

fn parse_literal(body: &[u8]) -> Option<f64> {
    let (negative, rest) = match body.first() {
        Some(b'-') => (true, body.get(1..)?),
        Some(b'+') => (false, body.get(1..)?),
        _ => (false, body),
    };
    if is_valid_decimal(rest) {
        let text = std::str::from_utf8(body).ok()?;
        return text.parse::<f64>().ok();
    }
    let lower = rest.to_ascii_lowercase();
    let magnitude = match lower.as_slice() {
        b"inf" | b"infinity" => f64::INFINITY,
        b"nan" => f64::NAN,
        _ => return None,
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// `digits[.digits*]|.digits` then an optional complete exponent, nothing else.
fn is_valid_decimal(s: &[u8]) -> bool {
    let int_digits = count_digits(s);
    let mut pos = int_digits;
    let mut frac_digits = 0;
    if s.get(pos) == Some(&b'.') {
        frac_digits = count_digits(s.get(pos + 1..).unwrap_or(&[]));
        pos += 1 + frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(s.get(pos), Some(b'e' | b'E')) {
        pos += 1;
        if matches!(s.get(pos), Some(b'+' | b'-')) {
            pos += 1;
        }
        let exp_digits = count_digits(s.get(pos..).unwrap_or(&[]));
        if exp_digits == 0 {
            return false;
        }
        pos += exp_digits;
    }
    pos == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_what_python_accepts() {
        #[rustfmt::skip]
        let cases = [
            ("4", 4.0),
            ("  252\n", 252.0),
            ("1e3", 1000.0),
            ("1_000", 1000.0),
            ("1_0e1_0", 1e11),
            (" +.5e-3 ", 0.0005),
            ("5.", 5.0),
            (".5", 0.5),
            ("-0", 0.0),
            ("１２", 12.0),
            ("١٢", 12.0),
            ("１_２", 12.0),
            ("\u{3000}7\u{3000}", 7.0),
            ("1\u{85}", 1.0),
            ("infINITY", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("1e99999999999999999999", f64::INFINITY),
            ("1e-99999999999999999999", 0.0),
            ("0.1", 0.1),
            ("2.2250738585072011e-308", 2.225_073_858_507_201e-308),
        ];
        for (s, expected) in cases {
            assert_eq!(parse_py_float(s), Some(expected), "{s:?}");
        }
        assert!(parse_py_float("nan").is_some_and(f64::is_nan));
        assert!(parse_py_float("-NaN").is_some_and(f64::is_nan));
    }

    #[test]
    fn rejects_what_python_rejects() {
        #[rustfmt::skip]
        let rejected = [
            "", " ", "_1", "1__0", "1_", "1_.5", "1._5", "n_an", "infinit", ".", "e5", "1e",
            "1e+", "1,000", "12個", "1\0", "0x10", "1e_5", "1_e5", "\u{7f}1", "\u{1c}1",
            "1\u{3000}2", "²", "一", "+", "-", "+-1", "1.2.3", "nan(1)", "in f", "１個", "$1",
            "1 e5", "٣.٣x",
        ];
        for s in rejected {
            assert_eq!(parse_py_float(s), None, "{s:?} must be rejected");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse_py_float(&s);
        }

        #[test]
        fn never_panics_on_numberish(s in "[ _+\\-.eE0-9１٣inftyaINFTYA\u{3000}\u{85}\u{1c}]{0,16}") {
            let _ = parse_py_float(&s);
        }

        #[test]
        fn roundtrips_rust_display(v in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO) {
            let text = format!("{v:e}");
            prop_assert_eq!(parse_py_float(&text), Some(v));
            prop_assert_eq!(parse_py_float(&format!(" {v} ")), Some(v));
        }
    }
}
