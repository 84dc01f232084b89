//! CPython 3.11 `int(s)` for a `str` (base 10), as numpy 1.26 calls it for a string cell.
//!
//! `PyLong_FromUnicodeObject`:
//! 1. `_PyUnicode_TransformDecimalAndSpaceToASCII`: code points below 127 are kept,
//!    other `str.isspace()` characters become `' '`, decimal digits (category Nd, e.g.
//!    `'３'`, `'٣'`) become ASCII digits, anything else ends the string as invalid;
//! 2. `PyLong_FromString(s, base=10)`: optional ASCII whitespace (`' '`, `\t\n\v\f\r`
//!    only — so `'\x1c3'` fails), an optional sign, digits with single `_` between
//!    digits, optional whitespace, end. A NUL anywhere fails (C string). More than
//!    4300 digits (leading zeros count) is a `ValueError` too.
//!
//! Unicode tables: CPython 3.11.7 `unicodedata` (Unicode 14.0.0).

/// Result of a successful `int(s)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PyInt {
    /// Fits a C `long`.
    Small(i64),
    /// Outside the i64 range (numpy then raises `OverflowError`).
    Big,
}

/// Code points of the digit zero of every Nd block; each block is 10 consecutive digits.
static DECIMAL_ZEROS: &[u32] = &[
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// `str.isspace()` for one character (CPython 3.11, Unicode 14.0.0).
pub fn is_space(c: char) -> bool {
    matches!(
        c as u32,
        0x09..=0x0D
            | 0x1C..=0x20
            | 0x85
            | 0xA0
            | 0x1680
            | 0x2000..=0x200A
            | 0x2028
            | 0x2029
            | 0x202F
            | 0x205F
            | 0x3000
    )
}

/// `unicodedata.decimal(c, None)`.
pub fn decimal_value(c: char) -> Option<u8> {
    let cp = c as u32;
    let i = DECIMAL_ZEROS.partition_point(|&z| z <= cp);
    let zero = *DECIMAL_ZEROS.get(i.checked_sub(1)?)?;
    u8::try_from(cp - zero).ok().filter(|&d| d <= 9)
}

/// `int(s)`; `None` where CPython raises `ValueError`.
pub fn parse_py_int(s: &str) -> Option<PyInt> {
    // Step 1. A NUL needs no check of its own: it is neither whitespace, sign nor digit.
    let ascii: String = s
        .chars()
        .map(|c| match c {
            '\0'..='\u{7e}' => Some(c),
            _ if is_space(c) => Some(' '),
            _ => decimal_value(c).map(|d| char::from(b'0' + d)),
        })
        .collect::<Option<_>>()?;
    // Step 2, on what remains once the C whitespace around it is stripped.
    let literal = ascii.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'));
    let unsigned = literal.strip_prefix(['+', '-']).unwrap_or(literal);
    let digits = unsigned.bytes().filter(u8::is_ascii_digit).count();
    let well_formed = unsigned.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && !unsigned.starts_with('_')
        && !unsigned.ends_with('_')
        && !unsigned.contains("__");
    if !well_formed || digits == 0 || digits > crate::json::MAX_INT_DIGITS {
        return None;
    }
    // Now only a sign and digits: i64's parser fails on overflow alone.
    let plain: String = literal.chars().filter(|&c| c != '_').collect();
    Some(plain.parse().map_or(PyInt::Big, PyInt::Small))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepted() {
        for (s, v) in [
            ("3", 3),
            (" 3 ", 3),
            ("+3", 3),
            ("-0", 0),
            ("007", 7),
            ("1_0", 10),
            ("３", 3),
            ("٣", 3),
            ("\u{2000}3", 3),
            ("３\u{3000}", 3),
            ("\u{85}-1_2\t", -12),
            ("𝟗", 9),
            ("257", 257),
            ("-9223372036854775808", i64::MIN),
            ("9223372036854775807", i64::MAX),
        ] {
            assert_eq!(parse_py_int(s), Some(PyInt::Small(v)), "{s:?}");
        }
        let zeros = format!("{}3", "0".repeat(4299));
        assert_eq!(parse_py_int(&zeros), Some(PyInt::Small(3)));
    }

    #[test]
    fn big() {
        for s in [
            "9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999",
            &"9".repeat(4300),
        ] {
            assert_eq!(parse_py_int(s), Some(PyInt::Big), "{s:?}");
        }
    }

    #[test]
    fn rejected() {
        for s in [
            "", " ", "3.0", "1e3", "0x10", "_1", "1_", "1__0", "+_1", "--1", "+ 1", "- 1",
            "\u{1c}3", "3\u{1f}", "3\0", "\u{7f}3", "True", "three", "3a", "1 2", "\u{fffd}", "½",
            "²",
        ] {
            assert_eq!(parse_py_int(s), None, "{s:?}");
        }
        assert_eq!(parse_py_int(&format!("{}3", "0".repeat(4300))), None);
    }

    #[test]
    fn decimal_table() {
        for (c, d) in [
            ('0', Some(0)),
            ('9', Some(9)),
            ('/', None),
            (':', None),
            ('\u{1D7CE}', Some(0)),
            ('\u{1D7FF}', Some(9)),
            ('\u{1FBF9}', Some(9)),
            ('\u{1FBFA}', None),
            ('\u{0}', None),
            ('\u{FF19}', Some(9)),
            ('\u{FF1A}', None),
        ] {
            assert_eq!(decimal_value(c), d, "{c:?}");
        }
    }

    proptest! {
        #[test]
        fn matches_rust_for_plain_ints(v in any::<i64>()) {
            prop_assert_eq!(parse_py_int(&v.to_string()), Some(PyInt::Small(v)));
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse_py_int(&s);
        }
    }
}
