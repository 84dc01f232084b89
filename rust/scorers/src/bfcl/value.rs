//! Python values as the BFCL checker sees them, with CPython 3.11 `==`, `type()`,
//! `repr()` and dict-key semantics.

use std::cmp::Ordering;

use num_bigint::BigInt;

use super::tables;

/// A Python object produced by the decoder, a type converter or `json.loads`.
#[derive(Debug, Clone)]
pub enum Value {
    None,
    Bool(bool),
    /// `int` that fits in an `i64`.
    Int(i64),
    /// `int` outside the `i64` range (always normalised: never fits in `i64`).
    Big(BigInt),
    Float(f64),
    Complex(f64, f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    /// Insertion-ordered; keys are unique under Python `==`.
    Dict(Vec<(Value, Value)>),
}

/// `type(value)` for the values above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PyType {
    NoneType,
    Bool,
    Int,
    Float,
    Complex,
    Str,
    Bytes,
    List,
    Tuple,
    Dict,
    Set,
}

impl PyType {
    pub fn name(self) -> &'static str {
        match self {
            PyType::NoneType => "NoneType",
            PyType::Bool => "bool",
            PyType::Int => "int",
            PyType::Float => "float",
            PyType::Complex => "complex",
            PyType::Str => "str",
            PyType::Bytes => "bytes",
            PyType::List => "list",
            PyType::Tuple => "tuple",
            PyType::Dict => "dict",
            PyType::Set => "set",
        }
    }
}

impl Value {
    pub fn from_bigint(b: BigInt) -> Value {
        match i64::try_from(&b) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Big(b),
        }
    }

    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    pub fn py_type(&self) -> PyType {
        match self {
            Value::None => PyType::NoneType,
            Value::Bool(_) => PyType::Bool,
            Value::Int(_) | Value::Big(_) => PyType::Int,
            Value::Float(_) => PyType::Float,
            Value::Complex(..) => PyType::Complex,
            Value::Str(_) => PyType::Str,
            Value::Bytes(_) => PyType::Bytes,
            Value::List(_) => PyType::List,
            Value::Tuple(_) => PyType::Tuple,
            Value::Dict(_) => PyType::Dict,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_empty_str(&self) -> bool {
        matches!(self, Value::Str(s) if s.is_empty())
    }

    /// Integer view of bool/int (Python's numeric tower).
    fn as_bigint(&self) -> Option<BigInt> {
        match self {
            Value::Bool(b) => Some(BigInt::from(u8::from(*b))),
            Value::Int(i) => Some(BigInt::from(*i)),
            Value::Big(b) => Some(b.clone()),
            _ => None,
        }
    }

    fn is_intlike(&self) -> bool {
        matches!(self, Value::Bool(_) | Value::Int(_) | Value::Big(_))
    }

    /// `hash(value)` would succeed.
    pub fn hashable(&self) -> bool {
        match self {
            Value::List(_) | Value::Dict(_) => false,
            Value::Tuple(items) => items.iter().all(Value::hashable),
            _ => true,
        }
    }

    /// `len(value)` for sized values.
    pub fn py_len(&self) -> Option<usize> {
        match self {
            Value::Str(s) => Some(s.chars().count()),
            Value::Bytes(b) => Some(b.len()),
            Value::List(v) | Value::Tuple(v) => Some(v.len()),
            Value::Dict(d) => Some(d.len()),
            _ => None,
        }
    }

    /// `key in dict` / `dict[key]` lookup.
    pub fn dict_get<'a>(&'a self, key: &Value) -> Option<&'a Value> {
        match self {
            Value::Dict(d) => d.iter().find(|(k, _)| py_eq(k, key)).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn dict_get_str<'a>(&'a self, key: &str) -> Option<&'a Value> {
        match self {
            Value::Dict(d) => d
                .iter()
                .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Insert into an insertion-ordered dict with Python semantics (an equal key keeps
/// its original key object and position, and takes the new value).
pub fn dict_insert(d: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    if let Some(slot) = d.iter_mut().find(|(k, _)| py_eq(k, &key)) {
        slot.1 = value;
    } else {
        d.push((key, value));
    }
}

fn int_float_eq(i: &Value, f: f64) -> bool {
    if !f.is_finite() || f.fract() != 0.0 {
        return false;
    }
    match (i, float_to_bigint(f)) {
        (_, None) => false,
        (v, Some(fb)) => v.as_bigint().is_some_and(|ib| ib == fb),
    }
}

/// `float(b)`, or `None` where CPython raises `OverflowError`.
pub fn int_to_float(b: &BigInt) -> Option<f64> {
    let f: f64 = b.to_string().parse().unwrap_or(f64::INFINITY);
    f.is_finite().then_some(f)
}

/// Exact integer value of an integral finite float.
pub fn float_to_bigint(f: f64) -> Option<BigInt> {
    if !f.is_finite() || f.fract() != 0.0 {
        return None;
    }
    if f.abs() < 9.0e15 {
        return Some(BigInt::from(f as i64));
    }
    let bits = f.to_bits();
    let sign = if bits >> 63 == 1 { -1 } else { 1 };
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1075;
    let mant = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    let m = BigInt::from(mant) * sign;
    Some(if exp >= 0 {
        m << (exp as usize)
    } else {
        m >> ((-exp) as usize)
    })
}

/// Python `a == b`.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    use Value as V;
    match (a, b) {
        (V::None, V::None) => true,
        (V::Str(x), V::Str(y)) => x == y,
        (V::Bytes(x), V::Bytes(y)) => x == y,
        (V::Int(x), V::Int(y)) => x == y,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Float(x), V::Float(y)) => x == y,
        (V::List(x), V::List(y)) | (V::Tuple(x), V::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (V::Dict(x), V::Dict(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| py_eq(k, k2) && py_eq(v, v2)))
        }
        (V::Complex(r1, i1), V::Complex(r2, i2)) => r1 == r2 && i1 == i2,
        (V::Complex(r, i), other) | (other, V::Complex(r, i)) => {
            *i == 0.0
                && match other {
                    V::Float(f) => f == r,
                    o if o.is_intlike() => int_float_eq(o, *r),
                    _ => false,
                }
        }
        (V::Float(f), o) | (o, V::Float(f)) if o.is_intlike() => int_float_eq(o, *f),
        (x, y) if x.is_intlike() && y.is_intlike() => x.as_bigint() == y.as_bigint(),
        _ => false,
    }
}

/// Python `needle in haystack` for a list.
pub fn py_in(needle: &Value, haystack: &[Value]) -> bool {
    haystack.iter().any(|h| py_eq(needle, h))
}

fn in_ranges(table: &[(u32, u32)], cp: u32) -> bool {
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                Ordering::Less
            } else if lo > cp {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        })
        .is_ok()
}

/// `str.isprintable()` for one character (Unicode 14.0.0).
pub fn is_printable(c: char) -> bool {
    let cp = c as u32;
    if (0x20..0x7f).contains(&cp) {
        return true;
    }
    if cp < 0xa0 {
        return false;
    }
    in_ranges(tables::PRINTABLE, cp)
}

pub fn is_xid_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic() || (!c.is_ascii() && in_ranges(tables::XID_START, c as u32))
}

pub fn is_xid_continue(c: char) -> bool {
    c == '_'
        || c.is_ascii_alphanumeric()
        || (!c.is_ascii() && in_ranges(tables::XID_CONTINUE, c as u32))
}

/// `repr(str)`.
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let cp = c as u32;
                if cp < 0x100 {
                    out.push_str(&format!("\\x{cp:02x}"));
                } else if cp < 0x10000 {
                    out.push_str(&format!("\\u{cp:04x}"));
                } else {
                    out.push_str(&format!("\\U{cp:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

/// `repr(bytes)`.
pub fn repr_bytes(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::from("b");
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote as char);
    out
}

/// `repr(float)` (CPython's shortest round-trip `'r'` format).
pub fn repr_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let (digits, exp) = shortest_digits(f.abs());
    let sign = if f < 0.0 { "-" } else { "" };
    // decimal point position: value = 0.d1d2... * 10^exp  → here exp is the
    // exponent of the first digit (d1.d2... * 10^exp).
    let mut out = String::from(sign);
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let e = exp as usize;
            if digits.len() > e + 1 {
                out.push_str(&digits[..=e]);
                out.push('.');
                out.push_str(&digits[e + 1..]);
            } else {
                out.push_str(&digits);
                out.push_str(&"0".repeat(e + 1 - digits.len()));
                out.push_str(".0");
            }
        } else {
            out.push_str("0.");
            out.push_str(&"0".repeat((-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    }
    out
}

/// Shortest round-trip digits and the decimal exponent of the first digit.
fn shortest_digits(f: f64) -> (String, i32) {
    let s = format!("{f:e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    (digits, exp.parse().unwrap_or(0))
}

/// Float formatting used inside `repr(complex)` (no trailing `.0` for integral values).
fn repr_complex_part(f: f64) -> String {
    let r = repr_float(f);
    match r.strip_suffix(".0") {
        Some(s) if !r.contains('e') => s.to_string(),
        _ => r,
    }
}

/// `repr(complex)`.
pub fn repr_complex(re: f64, im: f64) -> String {
    let imag = repr_complex_part(im);
    if re == 0.0 && re.is_sign_positive() {
        format!("{imag}j")
    } else {
        let real = repr_complex_part(re);
        let sign = if im.is_sign_negative() || im.is_nan() && imag.starts_with('-') {
            ""
        } else {
            "+"
        };
        format!("({real}{sign}{imag}j)")
    }
}

/// `repr(value)`.
pub fn repr(v: &Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(i) => i.to_string(),
        Value::Big(b) => b.to_string(),
        Value::Float(f) => repr_float(*f),
        Value::Complex(r, i) => repr_complex(*r, *i),
        Value::Str(s) => repr_str(s),
        Value::Bytes(b) => repr_bytes(b),
        Value::List(items) => format!("[{}]", join_repr(items)),
        Value::Tuple(items) if items.len() == 1 => format!("({},)", join_repr(items)),
        Value::Tuple(items) => format!("({})", join_repr(items)),
        Value::Dict(d) => {
            let parts: Vec<String> = d
                .iter()
                .map(|(k, v)| format!("{}: {}", repr(k), repr(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

fn join_repr(items: &[Value]) -> String {
    items.iter().map(repr).collect::<Vec<_>>().join(", ")
}

/// JSON rendering for debugging (`bfcl_decode_ast`); non-JSON types are tagged.
pub fn to_debug_json(v: &Value, out: &mut String) {
    let tagged = |tag: &str, out: &mut String| {
        out.push_str(&format!("{{\"${tag}\": "));
        json_str(&repr(v), out);
        out.push('}');
    };
    match v {
        Value::None => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(_) | Value::Big(_) => out.push_str(&repr(v)),
        Value::Float(f) if f.is_finite() => out.push_str(&repr_float(*f)),
        Value::Float(_) => tagged("float", out),
        Value::Complex(..) => tagged("complex", out),
        Value::Bytes(_) => tagged("bytes", out),
        Value::Str(s) => json_str(s, out),
        Value::List(items) => {
            out.push('[');
            join(items, out, to_debug_json);
            out.push(']');
        }
        Value::Tuple(items) => {
            out.push_str("{\"$tuple\": [");
            join(items, out, to_debug_json);
            out.push_str("]}");
        }
        Value::Dict(d) if d.iter().all(|(k, _)| matches!(k, Value::Str(_))) => {
            out.push('{');
            join(d, out, |(k, v), out| {
                to_debug_json(k, out);
                out.push_str(": ");
                to_debug_json(v, out);
            });
            out.push('}');
        }
        Value::Dict(d) => {
            out.push_str("{\"$dict\": [");
            join(d, out, |(k, v), out| {
                out.push('[');
                to_debug_json(k, out);
                out.push_str(", ");
                to_debug_json(v, out);
                out.push(']');
            });
            out.push_str("]}");
        }
    }
}

/// Each item written by `f`, separated by `", "`.
pub fn join<T>(items: &[T], out: &mut String, f: impl Fn(&T, &mut String)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        f(item, out);
    }
}

pub fn json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr() {
        assert_eq!(repr_float(1.0), "1.0");
        assert_eq!(repr_float(0.1), "0.1");
        assert_eq!(repr_float(1e16), "1e+16");
        assert_eq!(repr_float(1e15), "1000000000000000.0");
        assert_eq!(repr_float(0.0001), "0.0001");
        assert_eq!(repr_float(0.00001), "1e-05");
        assert_eq!(repr_float(-2.5e-10), "-2.5e-10");
        assert_eq!(repr_float(123.456), "123.456");
        assert_eq!(repr_float(1.5e300), "1.5e+300");
        assert_eq!(repr_complex(0.0, 1.0), "1j");
        assert_eq!(repr_complex(-0.0, -1.0), "(-0-1j)");
        assert_eq!(repr_complex(1.0, 2.5), "(1+2.5j)");
    }

    #[test]
    fn equality() {
        assert!(py_eq(&Value::Int(1), &Value::Float(1.0)));
        assert!(py_eq(&Value::Bool(true), &Value::Int(1)));
        assert!(!py_eq(&Value::Str("1".into()), &Value::Int(1)));
        assert!(!py_eq(&Value::List(vec![]), &Value::Tuple(vec![])));
        assert!(py_eq(&Value::Complex(2.0, 0.0), &Value::Int(2)));
        assert!(!py_eq(&Value::Float(f64::NAN), &Value::Float(f64::NAN)));
        let big = Value::from_bigint(BigInt::from(1u64 << 62) * 4);
        assert!(py_eq(&big, &Value::Float(2f64.powi(64))));
        assert!(!py_eq(
            &Value::Int((1 << 53) + 1),
            &Value::Float(2f64.powi(53))
        ));
    }

    #[test]
    fn str_repr() {
        assert_eq!(repr_str("a'b"), "\"a'b\"");
        assert_eq!(repr_str("a'b\""), "'a\\'b\"'");
        assert_eq!(repr_str("é\u{7}\u{200b}"), "'é\\x07\\u200b'");
    }
}
