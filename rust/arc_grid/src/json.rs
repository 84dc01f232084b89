//! CPython 3.11 `json.loads(s)` with default arguments (the C scanner), far enough to
//! decide what `backscan_json_parser` sees.
//!
//! Accepted exactly as CPython accepts it:
//! * whitespace between tokens is `' '`, `'\t'`, `'\n'`, `'\r'` only;
//! * numbers `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?` (ASCII digits only), a
//!   fraction or exponent makes a float (`1e400` → `inf`), otherwise an int of any size;
//! * `NaN`, `Infinity`, `-Infinity`, `true`, `false`, `null`;
//! * strings (strict mode): raw control characters `< 0x20` are errors, escapes
//!   `\" \\ \/ \b \f \n \r \t \uXXXX`, a high + low surrogate escape pair joins;
//! * objects need string keys, no trailing commas anywhere, a leading BOM is an error.
//!
//! Two failures are **not** `json.JSONDecodeError`, so upstream's `except
//! json.JSONDecodeError` does not catch them and the whole ARC evaluation aborts:
//! an integer literal with more than 4300 digits (`ValueError` from CPython's
//! int-conversion limit) and nesting deeper than the interpreter's recursion limit
//! (`RecursionError`). They are reported as [`JsonError::IntTooManyDigits`] and
//! [`JsonError::TooDeep`].
//!
//! Lone surrogates (from `\uD800` escapes) cannot live in a Rust `String`; they become
//! U+FFFD. Both are non-digits, so no ARC verdict changes.

/// Deepest `[`/`{` nesting `json.loads` survives inside upstream's evaluation loop.
///
/// CPython 3.11 shares one recursion budget (1000) between Python frames and the C
/// scanner's nesting, so the exact limit depends on the caller's stack depth (994 from a
/// module-level call, 973 twenty frames down). 970 is the estimate for
/// `evaluate() → backscan_json_parser() → json.loads()` under weave; beyond it upstream
/// crashes, which no grader output can reproduce anyway.
pub const MAX_DEPTH: usize = 970;

/// CPython's default `sys.get_int_max_str_digits()`.
pub const MAX_INT_DIGITS: usize = 4300;

/// A decoded Python JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `None`
    Null,
    /// `True` / `False`
    Bool(bool),
    /// An `int` that fits a C `long` (i64).
    Int(i64),
    /// An `int` outside the i64 range; holds the literal.
    BigInt(String),
    /// A `float` (may be `nan` or `±inf`).
    Float(f64),
    /// A `str` (lone surrogates replaced by U+FFFD).
    Str(String),
    /// A `list`
    List(Vec<Value>),
    /// A `dict`, as key/value pairs in document order (duplicates kept).
    Object(Vec<(String, Value)>),
}

/// Why `json.loads` raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonError {
    /// `json.JSONDecodeError` at this byte offset (caught by upstream).
    Decode {
        /// Byte offset of the error.
        pos: usize,
        /// CPython's message.
        msg: &'static str,
    },
    /// `ValueError`: an int literal over [`MAX_INT_DIGITS`] digits (not caught upstream).
    IntTooManyDigits,
    /// `RecursionError`: nesting deeper than [`MAX_DEPTH`] (not caught upstream).
    TooDeep,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonError::Decode { pos, msg } => write!(f, "JSONDecodeError: {msg} (byte {pos})"),
            JsonError::IntTooManyDigits => write!(
                f,
                "ValueError: Exceeds the limit ({MAX_INT_DIGITS} digits) for integer string conversion"
            ),
            JsonError::TooDeep => write!(f, "RecursionError: maximum recursion depth exceeded"),
        }
    }
}

impl std::error::Error for JsonError {}

/// `json.loads(s)`.
pub fn loads(s: &str) -> Result<Value, JsonError> {
    if s.starts_with('\u{feff}') {
        return Err(decode_err(
            0,
            "Unexpected UTF-8 BOM (decode using utf-8-sig)",
        ));
    }
    let mut p = Parser {
        src: s,
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    let v = p.value()?;
    p.skip_ws();
    if p.pos != s.len() {
        return Err(decode_err(p.pos, "Extra data"));
    }
    Ok(v)
}

fn decode_err(pos: usize, msg: &'static str) -> JsonError {
    JsonError::Decode { pos, msg }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.peek_at(self.pos)
    }

    #[inline]
    fn peek_at(&self, i: usize) -> Option<u8> {
        self.src.as_bytes().get(i).copied()
    }

    /// Where the run of ASCII digits that starts at `i` ends.
    fn digits_end(&self, i: usize) -> usize {
        i + self
            .bytes_from(i)
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    }

    /// The bytes from `i` on (none past the end).
    fn bytes_from(&self, i: usize) -> &[u8] {
        self.src.as_bytes().get(i..).unwrap_or_default()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Value, JsonError> {
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                self.string().map(Value::Str)
            }
            Some(open @ (b'[' | b'{')) => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(JsonError::TooDeep);
                }
                self.pos += 1;
                let v = if open == b'[' {
                    self.items(b']', Self::value).map(Value::List)
                } else {
                    self.items(b'}', Self::pair).map(Value::Object)
                };
                self.depth -= 1;
                v
            }
            _ => match self.keyword() {
                Some(v) => Ok(v),
                None => self.number(),
            },
        }
    }

    /// `null`, `true`, `false`, `NaN`, `Infinity` or `-Infinity` at the cursor. Kept out of
    /// [`Self::value`] so the recursive frame stays small enough for [`MAX_DEPTH`] in debug builds.
    fn keyword(&mut self) -> Option<Value> {
        // The keywords start with distinct bytes, so the order of the checks is free.
        const KEYWORDS: [(&str, Value); 6] = [
            ("null", Value::Null),
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("NaN", Value::Float(f64::NAN)),
            ("Infinity", Value::Float(f64::INFINITY)),
            ("-Infinity", Value::Float(f64::NEG_INFINITY)),
        ];
        let (word, v) = KEYWORDS
            .into_iter()
            .find(|(word, _)| self.bytes_from(self.pos).starts_with(word.as_bytes()))?;
        self.pos += word.len();
        Some(v)
    }

    /// After `[` or `{`: the comma-separated items up to `close`, CPython
    /// `_parse_array_unicode` / `_parse_object_unicode`.
    fn items<T>(
        &mut self,
        close: u8,
        item: fn(&mut Self) -> Result<T, JsonError>,
    ) -> Result<Vec<T>, JsonError> {
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            self.skip_ws();
            match self.peek() {
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                _ => return Err(decode_err(self.pos, "Expecting ',' delimiter")),
            }
        }
    }

    /// One `"key": value` of an object.
    fn pair(&mut self) -> Result<(String, Value), JsonError> {
        if self.peek() != Some(b'"') {
            return Err(decode_err(
                self.pos,
                "Expecting property name enclosed in double quotes",
            ));
        }
        self.pos += 1;
        let key = self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(decode_err(self.pos, "Expecting ':' delimiter"));
        }
        self.pos += 1;
        self.skip_ws();
        Ok((key, self.value()?))
    }

    /// After the opening quote: CPython `scanstring_unicode(strict=True)`.
    fn string(&mut self) -> Result<String, JsonError> {
        let start = self.pos.saturating_sub(1);
        let mut out = String::new();
        loop {
            // Copy the run up to the next quote, backslash or control character. These are
            // ASCII, so the run ends on a UTF-8 boundary.
            let rest = self.src.get(self.pos..).unwrap_or_default();
            let special = |c| matches!(c, '"' | '\\' | '\0'..='\u{1f}');
            let run = rest.find(special).unwrap_or(rest.len());
            out.push_str(rest.get(..run).unwrap_or_default());
            self.pos += run;
            match self.peek() {
                None => return Err(decode_err(start, "Unterminated string starting at")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(decode_err(self.pos, "Invalid control character at")),
            }
        }
    }

    /// After a backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let Some(c) = self.peek() else {
            return Err(decode_err(self.pos, "Unterminated string starting at"));
        };
        self.pos += 1;
        let ch = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                let mut cp = hi;
                if (0xD800..0xDC00).contains(&hi) && self.bytes_from(self.pos).starts_with(b"\\u") {
                    // CPython decodes the next \uXXXX eagerly; bad hex there is an error.
                    let save = self.pos;
                    self.pos += 2;
                    let lo = self.hex4()?;
                    if (0xDC00..0xE000).contains(&lo) {
                        cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    } else {
                        self.pos = save;
                    }
                }
                char::from_u32(cp).unwrap_or('\u{fffd}')
            }
            _ => return Err(decode_err(self.pos - 1, "Invalid \\escape")),
        };
        out.push(ch);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let hex = self.src.get(self.pos..self.pos + 4);
        let hex = hex.filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        let v = hex.and_then(|h| u32::from_str_radix(h, 16).ok());
        let v = v.ok_or(decode_err(self.pos, "Invalid \\uXXXX escape"))?;
        self.pos += 4;
        Ok(v)
    }

    /// CPython `_match_number_unicode`.
    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        let int_start = start + usize::from(self.peek() == Some(b'-'));
        let int_end = match self.peek_at(int_start) {
            Some(b'1'..=b'9') => self.digits_end(int_start + 1),
            Some(b'0') => int_start + 1,
            _ => return Err(decode_err(start, "Expecting value")),
        };
        // A fraction or an exponent needs at least one digit, else it is not part of the number.
        let mut end = int_end;
        if self.peek_at(end) == Some(b'.') && self.digits_end(end + 1) > end + 1 {
            end = self.digits_end(end + 1);
        }
        if matches!(self.peek_at(end), Some(b'e' | b'E')) {
            let exp_start =
                end + 1 + usize::from(matches!(self.peek_at(end + 1), Some(b'-' | b'+')));
            if self.digits_end(exp_start) > exp_start {
                end = self.digits_end(exp_start);
            }
        }
        self.pos = end;
        let lit = self.src.get(start..end).unwrap_or("");
        if end > int_end {
            // Rust's parse is correctly rounded like CPython's dtoa; overflow gives ±inf.
            return Ok(Value::Float(lit.parse::<f64>().unwrap_or(f64::NAN)));
        }
        if int_end - int_start > MAX_INT_DIGITS {
            return Err(JsonError::IntTooManyDigits);
        }
        Ok(match lit.parse::<i64>() {
            Ok(v) => Value::Int(v),
            Err(_) => Value::BigInt(lit.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> Value {
        loads(s).unwrap()
    }

    use Value::List;

    fn is_decode_err(s: &str) -> bool {
        matches!(loads(s), Err(JsonError::Decode { .. }))
    }

    /// (JSON text, `Debug` of what `json.loads` returns).
    #[rustfmt::skip]
    const VALUES: &[(&str, &str)] = &[
        ("[]", "List([])"),
        (" {} ", "Object([])"),
        ("[1, -0, 2.5, -3e2, true, false, null]",
            "List([Int(1), Int(0), Float(2.5), Float(-300.0), Bool(true), Bool(false), Null])"),
        (r#"{"a": [1], "a": {"b": "c"}}"#,
            r#"Object([("a", List([Int(1)])), ("a", Object([("b", Str("c"))]))])"#),
        ("[1E5, 1e400, -1e400, 1e-400]", "List([Float(100000.0), Float(inf), Float(-inf), Float(0.0)])"),
        ("[9223372036854775807, -9223372036854775808]", "List([Int(9223372036854775807), Int(-9223372036854775808)])"),
        ("[9223372036854775808]", r#"List([BigInt("9223372036854775808")])"#),
        ("\t\r\n[ 1 ]\n", "List([Int(1)])"),
        ("[NaN, Infinity, -Infinity]", "List([Float(NaN), Float(inf), Float(-inf)])"),
        (r#"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\ud83d\ude00", "日本"]"#,
            r#"List([Str("a\"b\\c/d\u{8}\u{c}\n\r\t"), Str("é😀"), Str("日本")])"#),
        // Lone surrogates (accepted by Python) become U+FFFD.
        (r#"["\ud800", "\udc00x", "\ud800\u0041"]"#, "List([Str(\"\u{fffd}\"), Str(\"\u{fffd}x\"), Str(\"\u{fffd}A\")])"),
        ("[\"\u{7f}\u{85}\u{2028}\"]", "List([Str(\"\\u{7f}\\u{85}\\u{2028}\")])"),
        ("[-0.0, 0e0, 1.5E+3]", "List([Float(-0.0), Float(0.0), Float(1500.0)])"),
    ];

    #[test]
    fn values() {
        for &(text, expected) in VALUES {
            assert_eq!(format!("{:?}", ok(text)), expected, "{text:?}");
        }
    }

    #[test]
    fn decode_errors() {
        #[rustfmt::skip]
        let rejected = [
            "[-NaN]", "[nan]", "[infinity]", "[True]", "[None]", "[\"a\tb\"]", "[\"a\nb\"]",
            r#"["\x"]"#, r#"["\u12"]"#, r#"["\u12G4"]"#, r#"["\ud800\uZZZZ"]"#, r#"["abc]"#,
            r#"["abc\"#, "['a']", "[01]", "[1.]", "[.5]", "[-]", "[+1]", "[1e]", "[1e+]", "[0x1]",
            "[1_0]", "[１]", "[- 1]", "[1,]", "[,1]", "[1 2]", r#"{"a":1,}"#, "{1:2}", r#"{"a" 1}"#,
            "[1]]", "[[1]", "", " ", "[\u{a0}1]", "[\u{c}1]", "\u{feff}[1]", "[1] x",
        ];
        for text in rejected {
            assert!(is_decode_err(text), "{text:?}");
        }
    }

    #[test]
    fn non_decode_errors() {
        let big = format!("[{}]", "1".repeat(MAX_INT_DIGITS));
        assert!(matches!(ok(&big), List(v) if matches!(v[0], Value::BigInt(_))));
        let too_big = format!("[-{}]", "1".repeat(MAX_INT_DIGITS + 1));
        assert_eq!(loads(&too_big), Err(JsonError::IntTooManyDigits));
        // floats have no digit limit
        let long_float = format!("[{}.5]", "1".repeat(MAX_INT_DIGITS + 1));
        assert!(loads(&long_float).is_ok());
        // the error comes where the scan meets it, left to right
        assert!(is_decode_err(&format!("[x, {}]", "1".repeat(5000))));

        let deep = |d: usize| format!("{}{}", "[".repeat(d), "]".repeat(d));
        assert!(loads(&deep(MAX_DEPTH)).is_ok());
        assert_eq!(loads(&deep(MAX_DEPTH + 1)), Err(JsonError::TooDeep));
        assert_eq!(loads(&"[".repeat(100_000)), Err(JsonError::TooDeep));
        assert_eq!(loads(&"{\"a\":".repeat(2000)), Err(JsonError::TooDeep));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = loads(&s);
        }

        #[test]
        fn never_panics_on_json_alphabet(s in "[\\[\\]{}\",:0-9eE.+\\-\\\\u tnrfalsNIy\u{e9}]{0,200}") {
            let _ = loads(&s);
        }

        #[test]
        fn ints_round_trip(v in any::<i64>()) {
            prop_assert_eq!(loads(&format!("[{v}]")), Ok(List(vec![Value::Int(v)])));
        }

        #[test]
        fn floats_round_trip(v in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
            // Rust's `{:?}` always prints a fraction or exponent for floats.
            let text = format!("[{v:?}]");
            prop_assert_eq!(loads(&text), Ok(List(vec![Value::Float(v)])));
        }
    }
}
