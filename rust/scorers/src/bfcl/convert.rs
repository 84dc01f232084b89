//! Upstream `java_type_converter` / `js_type_converter`
//! (`bfcl/eval_checker/ast_eval/type_convertor/`), regex for regex with CPython `re`
//! semantics (`\d`, `\s`, `\w` as `str` patterns; `$` also before a final newline).

use std::sync::OnceLock;

use num_bigint::BigInt;
use regex::Regex;

use super::value::{dict_insert, Value};
use crate::pyfloat::parse_py_float;
use crate::pystr;

/// An exception the upstream converter or checker raises (the evaluation crashes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash(pub String);

/// Python's `\s` (str.isspace) as a regex class body.
const PY_S: &str = r"\t\n\x0B\x0C\r\x1C-\x1F \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}";

fn py_w_class() -> &'static str {
    static W: OnceLock<String> = OnceLock::new();
    W.get_or_init(|| {
        let mut s = String::from("_");
        for &(lo, hi) in crate::unicode_tables::ALNUM {
            if let (Some(a), Some(b)) = (char::from_u32(lo), char::from_u32(hi)) {
                s.push_str(&format!("\\x{{{:X}}}-\\x{{{:X}}}", a as u32, b as u32));
            }
        }
        s
    })
}

/// Compile a Python pattern: `\s`/`\w` become CPython's classes, `$` (end of
/// pattern only) becomes "end, or before a final newline".
fn py_regex(pat: &str, dotall: bool) -> Regex {
    let mut p = pat
        .replace(r"\s", &format!("[{PY_S}]"))
        .replace(r"\w", &format!("[{}]", py_w_class()));
    if let Some(stripped) = p.strip_suffix('$') {
        p = format!("{stripped}\\n?\\z");
    }
    if dotall {
        p = format!("(?s){p}");
    }
    match Regex::new(&p) {
        Ok(r) => r,
        // The patterns are constants; an impossible-to-match fallback keeps us panic-free.
        Err(_) => Regex::new(r"[^\s\S]").unwrap_or_else(|_| unreachable_regex()),
    }
}

#[allow(clippy::panic)]
fn unreachable_regex() -> Regex {
    panic!("constant regex failed to compile")
}

macro_rules! re {
    ($name:ident, $pat:expr, $dotall:expr) => {
        fn $name() -> &'static Regex {
            static R: OnceLock<Regex> = OnceLock::new();
            R.get_or_init(|| py_regex($pat, $dotall))
        }
    };
}

re!(re_int, r"^-?\d+$", false);
re!(re_java_float, r"^-?\d+(\.\d+)?([eE][+-]?\d+)?[fF]$", false);
re!(re_double, r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$", false);
re!(re_long, r"^-?\d+[lL]$", false);
re!(re_js_float, r"^-?\d+(\.\d+)?$", false);
re!(re_bigint, r"^-?\d+n$", false);
re!(
    re_arraylist_aslist,
    r"new\s+ArrayList<\w*>\(Arrays\.asList\((.+?)\)\)",
    false
);
re!(
    re_arraylist_add,
    r"new\s+ArrayList<\w*>\(\)\s*\{\{\s*(.+?)\s*\}\}",
    true
);
re!(re_add, r"add\((.+?)\)", false);
re!(re_arraylist_empty, r"new\s+ArrayList<\w*>\(\)", false);
re!(re_array, r"new\s+\w+\[\]\s*\{(.*?)\}", false);
re!(
    re_hashmap,
    r"new\s+HashMap<.*?>\s*\(\)\s*\{\s*\{?\s*(.*?)\s*\}?\s*\}",
    true
);
re!(re_put, r#"put\("(.*?)",\s*(.*?)\)"#, false);
re!(re_hashmap_empty, r"new\s+HashMap<.*?>\s*\(\)", false);
re!(
    re_js_2d,
    r"^(?:\[\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\]|\bnew\s+Array\(\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\))",
    false
);
re!(re_inner, r"\[(.*?)\]", false);
re!(re_js_1d, r"^(?:\[(.*?)\]|\bnew\s+Array\((.*?)\))", false);
re!(re_js_dict, r"^\{(.*?)\}", false);

/// Python `str.strip()` / `str.strip(chars)`.
fn strip_chars<'a>(s: &'a str, chars: &str) -> &'a str {
    s.trim_matches(|c| chars.contains(c))
}

/// `s[1:-1]` on code points.
pub(super) fn slice_1_m1(s: &str) -> String {
    let n = s.chars().count();
    if n <= 2 {
        return String::new();
    }
    s.chars().skip(1).take(n - 2).collect()
}

/// `s[:-1]` on code points.
fn drop_last(s: &str) -> &str {
    match s.char_indices().last() {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// CPython `int(s)` (base 10); `None` = `ValueError`.
pub fn parse_py_int(s: &str) -> Option<Value> {
    let t = pystr::strip(s);
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if body.is_empty() {
        return None;
    }
    let mut digits = String::with_capacity(body.len());
    let mut prev_us = true;
    for c in body.chars() {
        if c == '_' {
            if prev_us {
                return None;
            }
            prev_us = true;
            continue;
        }
        digits.push(char::from(b'0' + pystr::decimal_value(c)?));
        prev_us = false;
    }
    if prev_us || digits.len() > 4300 {
        return None;
    }
    let v = BigInt::parse_bytes(digits.as_bytes(), 10)?;
    Some(Value::from_bigint(if neg { -v } else { v }))
}

fn py_int_or_crash(s: &str) -> Result<Value, Crash> {
    parse_py_int(s).ok_or_else(|| Crash(format!("ValueError: invalid literal for int(): {s:?}")))
}

fn py_float_or_crash(s: &str) -> Result<Value, Crash> {
    parse_py_float(s).map(Value::Float).ok_or_else(|| {
        Crash(format!(
            "ValueError: could not convert string to float: {s:?}"
        ))
    })
}

/// `re.sub(r"[xX]$", "", s)` for a one-letter class.
fn sub_suffix(s: &str, letters: &[char]) -> String {
    let (body, nl) = match s.strip_suffix('\n') {
        Some(b) if b.ends_with(letters) => (b, "\n"),
        _ => (s, ""),
    };
    let mut out = body.strip_suffix(letters).unwrap_or(body).to_string();
    out.push_str(nl);
    // `$` also matches at the very end after the newline; nothing to remove there.
    out
}

pub const JAVA_TYPES: &[&str] = &[
    "byte",
    "short",
    "integer",
    "float",
    "double",
    "long",
    "boolean",
    "char",
    "Array",
    "ArrayList",
    "Set",
    "HashMap",
    "Hashtable",
    "Queue",
    "Stack",
    "String",
    "any",
];

pub const JS_TYPES: &[&str] = &[
    "String", "integer", "float", "Bigint", "Boolean", "dict", "array", "any",
];

/// `java_type_converter(value, expected_type, nested_type)`.
pub fn java_type_converter(
    value: &str,
    expected: &str,
    nested: Option<&str>,
) -> Result<Value, Crash> {
    if !JAVA_TYPES.contains(&expected) {
        return Err(Crash(format!("ValueError: Unsupported type: {expected}")));
    }
    Ok(match expected {
        "byte" | "short" | "integer" if re_int().is_match(value) => py_int_or_crash(value)?,
        "float" if re_java_float().is_match(value) => {
            py_float_or_crash(&sub_suffix(value, &['f', 'F']))?
        }
        "double" if re_double().is_match(value) => py_float_or_crash(value)?,
        "long" if re_long().is_match(value) => py_int_or_crash(&sub_suffix(value, &['l', 'L']))?,
        "boolean" if value == "true" => Value::Bool(true),
        "boolean" if value == "false" => Value::Bool(false),
        "Array" => parse_array(value, nested)?,
        "ArrayList" => parse_arraylist(value, nested)?,
        "HashMap" => parse_hashmap(value)?,
        "Set" | "Hashtable" => {
            return Err(Crash(
                "NotImplementedError: Set conversion is not implemented".into(),
            ))
        }
        "Queue" | "Stack" => {
            return Err(Crash(format!(
                "NotImplementedError: {expected} conversion is not implemented"
            )))
        }
        // String, any, char (its pattern `^\'.$\'` can never match), and a value its
        // type's pattern does not match.
        _ => Value::Str(value.to_string()),
    })
}

fn java_element(x: &str, nested: Option<&str>) -> Result<Value, Crash> {
    match nested {
        Some(t) => java_type_converter(x, t, None),
        None => parse_java_value(x),
    }
}

fn parse_arraylist(input: &str, nested: Option<&str>) -> Result<Value, Crash> {
    if let Some(c) = re_arraylist_aslist().captures(input) {
        let elements_str = c.get(1).map_or("", |m| m.as_str());
        let mut out = Vec::new();
        for e in elements_str.split(',') {
            let e = pystr::strip(e);
            out.push(match nested {
                Some("char") | Some("String") => Value::Str(slice_1_m1(e)),
                _ => java_element(e, nested)?,
            });
        }
        return Ok(Value::List(out));
    }
    if let Some(c) = re_arraylist_add().captures(input) {
        let adds = c.get(1).map_or("", |m| m.as_str());
        let mut out = Vec::new();
        for m in re_add().captures_iter(adds) {
            let v = pystr::strip(m.get(1).map_or("", |m| m.as_str()));
            out.push(match nested {
                Some("char") | Some("String") => Value::Str(slice_1_m1(v)),
                _ => java_element(v, nested)?,
            });
        }
        return Ok(Value::List(out));
    }
    if re_arraylist_empty().is_match(input) {
        return Ok(Value::List(vec![]));
    }
    Ok(Value::Str(input.to_string()))
}

fn parse_array(input: &str, nested: Option<&str>) -> Result<Value, Crash> {
    let Some(c) = re_array().captures(input) else {
        return Ok(Value::Str(input.to_string()));
    };
    let elements = c.get(1).map_or("", |m| m.as_str());
    let mut out = Vec::new();
    for x in elements.split(',') {
        let x = pystr::strip(x);
        if x.is_empty() {
            continue;
        }
        out.push(java_element(x, nested)?);
    }
    Ok(Value::List(out))
}

fn parse_hashmap(input: &str) -> Result<Value, Crash> {
    if let Some(c) = re_hashmap().captures(input) {
        let puts = c.get(1).map_or("", |m| m.as_str());
        let mut d = Vec::new();
        if !pystr::strip(puts).is_empty() {
            for m in re_put().captures_iter(puts) {
                let k = m.get(1).map_or("", |m| m.as_str());
                let v = pystr::strip(m.get(2).map_or("", |m| m.as_str()));
                let v = parse_java_value(v)?;
                dict_insert(&mut d, Value::Str(k.to_string()), v);
            }
        }
        return Ok(Value::Dict(d));
    }
    if re_hashmap_empty().is_match(input) {
        return Ok(Value::Dict(vec![]));
    }
    Ok(Value::Str(input.to_string()))
}

/// `parse_java_value(value_str)`.
pub fn parse_java_value(v: &str) -> Result<Value, Crash> {
    if v == "true" {
        return Ok(Value::Bool(true));
    }
    if v == "false" {
        return Ok(Value::Bool(false));
    }
    if v.starts_with('"') && v.ends_with('"') {
        return Ok(Value::Str(slice_1_m1(v)));
    }
    if re_long().is_match(v) {
        return py_int_or_crash(drop_last(v));
    }
    if re_java_float().is_match(v) {
        return py_float_or_crash(&sub_suffix(v, &['f', 'F']));
    }
    if let Some(i) = parse_py_int(v) {
        return Ok(i);
    }
    if let Some(f) = parse_py_float(v) {
        return Ok(Value::Float(f));
    }
    Ok(Value::Str(v.to_string()))
}

/// `s[1:-1]` (a lone quote gives "").
pub(super) fn is_quoted(v: &str) -> bool {
    (v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\''))
}

/// `js_type_converter(value, expected_type, nested_type)`.
pub fn js_type_converter(
    value: &str,
    expected: &str,
    nested: Option<&str>,
) -> Result<Value, Crash> {
    if !JS_TYPES.contains(&expected) {
        return Err(Crash(format!("ValueError: Unsupported type: {expected}")));
    }
    Ok(match expected {
        "String" if is_quoted(value) => Value::Str(slice_1_m1(value)),
        "integer" if re_int().is_match(value) => py_int_or_crash(value)?,
        "float" if re_js_float().is_match(value) => py_float_or_crash(value)?,
        "Bigint" if re_bigint().is_match(value) => py_int_or_crash(drop_last(value))?,
        "Boolean" if value == "true" => Value::Bool(true),
        "Boolean" if value == "false" => Value::Bool(false),
        "dict" => parse_js_dict(value),
        "array" => parse_js_array(value, nested),
        // any, and a value its type's pattern does not match.
        _ => Value::Str(value.to_string()),
    })
}

fn parse_js_array(code: &str, nested: Option<&str>) -> Value {
    let code = pystr::strip(code);
    let fallback = || Value::Str(code.to_string());
    if let Some(m) = re_js_2d().find(code) {
        let mut out = Vec::new();
        for (idx, c) in re_inner().captures_iter(m.as_str()).enumerate() {
            let mut inner = pystr::strip(c.get(1).map_or("", |m| m.as_str()));
            if idx == 0 {
                if let Some(rest) = inner.strip_prefix('[') {
                    inner = rest;
                }
            }
            out.push(Value::List(
                inner
                    .split(',')
                    .map(|e| parse_js_value(pystr::strip(e)))
                    .collect(),
            ));
        }
        return Value::List(out);
    }
    let Some(c) = re_js_1d().captures(code) else {
        return fallback();
    };
    let body = match (c.get(1), c.get(2)) {
        (Some(g), _) | (None, Some(g)) => pystr::strip(g.as_str()),
        (None, None) => "",
    };
    let elements: Vec<&str> = if body.is_empty() {
        vec![]
    } else {
        body.split(',').collect()
    };
    let mut out = Vec::new();
    for e in elements {
        let e = pystr::strip(e);
        match nested {
            Some(t) => {
                let conv = if e.starts_with('\'') || e.starts_with('"') {
                    js_type_converter(e, t, Some("String"))
                } else {
                    js_type_converter(e, t, None)
                };
                match conv {
                    Ok(v) => out.push(v),
                    Err(_) => return fallback(),
                }
            }
            None => out.push(parse_js_value(e)),
        }
    }
    Value::List(out)
}

fn parse_js_dict(code: &str) -> Value {
    let code = pystr::strip(code);
    if code == "{}" {
        return Value::Dict(vec![]);
    }
    let Some(c) = re_js_dict().captures(code) else {
        return Value::Str(code.to_string());
    };
    let content = c.get(1).map_or("", |m| m.as_str());
    let mut d = Vec::new();
    for (key, value) in js_dict_pairs(content) {
        let key = strip_chars(pystr::strip(&key), "'\"").to_string();
        let value = pystr::strip(&value);
        let v = if value.starts_with('[') && value.ends_with(']') {
            parse_js_array(value, None)
        } else if value.starts_with('{') && value.ends_with('}') {
            parse_js_dict(value)
        } else {
            parse_js_value(strip_chars(value, "'\""))
        };
        dict_insert(&mut d, Value::Str(key), v);
    }
    Value::Dict(d)
}

/// `re.findall(r"([^:]+):\s*(.*?)(?:,\s*(?=[^,]+:)|$)", content)`.
fn js_dict_pairs(content: &str) -> Vec<(String, String)> {
    let s: Vec<char> = content.chars().collect();
    let n = s.len();
    let mut out = Vec::new();
    let mut p = 0;
    while p < n {
        // group 1: maximal run of non-':' chars, then ':'.
        let mut k = p;
        while k < n && s[k] != ':' {
            k += 1;
        }
        if k == p || k >= n {
            p += 1;
            continue;
        }
        let key: String = s[p..k].iter().collect();
        let mut w = k + 1;
        while w < n && pystr::is_space(s[w]) {
            w += 1;
        }
        // Lazily extend the value from w.
        let mut q = w;
        let mut found: Option<(usize, usize)> = None; // (value end, match end)
        loop {
            if q < n && s[q] == ',' {
                let mut w2 = q + 1;
                while w2 < n && pystr::is_space(s[w2]) {
                    w2 += 1;
                }
                let first_comma = (q + 1..n).find(|&i| s[i] == ',').unwrap_or(n);
                if (w2 + 1..first_comma).any(|j| s[j] == ':') {
                    found = Some((q, w2));
                    break;
                }
                if w2 < n && s[w2] == ':' && w2 >= q + 2 {
                    found = Some((q, w2 - 1));
                    break;
                }
            }
            if q == n || (q + 1 == n && s[q] == '\n') {
                found = Some((q, q));
                break;
            }
            if q >= n || s[q] == '\n' {
                break;
            }
            q += 1;
        }
        match found {
            Some((vend, mend)) => {
                out.push((key, s[w..vend].iter().collect()));
                p = if mend > p { mend } else { p + 1 };
            }
            None => p += 1,
        }
    }
    out
}

/// `parse_js_value(value_str)`.
pub fn parse_js_value(v: &str) -> Value {
    let v = pystr::strip(v);
    if v == "true" {
        return Value::Bool(true);
    }
    if v == "false" {
        return Value::Bool(false);
    }
    if is_quoted(v) {
        return Value::Str(slice_1_m1(v));
    }
    if let Some(i) = parse_py_int(v) {
        return i;
    }
    if let Some(f) = parse_py_float(v) {
        return Value::Float(f);
    }
    Value::Str(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::value::repr;
    use super::*;

    /// (Java?, value, expected type, nested type, `repr` of the result or the crash).
    #[rustfmt::skip]
    const CASES: &[(bool, &str, &str, Option<&str>, &str)] = &[
        (true, "true", "boolean", None, "True"),
        (true, "-123", "integer", None, "-123"),
        (true, "3.14f", "float", None, "3.14"),
        (true, "3.14", "float", None, "'3.14'"),
        (true, "123L", "long", None, "123"),
        (true, "a", "char", None, "'a'"),
        (true, "new int[]{1, 2, 3}", "Array", Some("integer"), "[1, 2, 3]"),
        (true, "new long[]{1L, 2, 3L}", "Array", Some("long"), "[1, '2', 3]"),
        (true, "new ArrayList<>(Arrays.asList(\"a\", \"b\"))", "ArrayList", Some("String"), "['a', 'b']"),
        (true, "new ArrayList<Float>() {{ add(1.0f); add(2.0f); }}", "ArrayList", Some("float"), "[1.0, 2.0]"),
        (true, "new HashMap<String, Object>() {{ put(\"key1\", 123); put(\"key2\", true); }}", "HashMap", None,
            "{'key1': 123, 'key2': True}"),
        (true, "new HashMap<String,String>()", "HashMap", None, "{}"),
        (true, "x", "Set", None, "NotImplementedError: Set conversion is not implemented"),
        (true, "x", "Foo", None, "ValueError: Unsupported type: Foo"),
        (false, "123n", "Bigint", None, "123"),
        (false, "'abc'", "String", None, "'abc'"),
        (false, "[1, 'two', true]", "array", None, "[1, 'two', True]"),
        (false, "new Array(4.4, 5.5)", "array", Some("float"), "[4.4, 5.5]"),
        (false, " [ [ 1, 2 ], [ 3,   4], [5, 6]]", "array", Some("array"), "[[1, 2], [3, 4], [5, 6]]"),
        (false, "{'key1': 123, 'key2': 'value', 'key3': false}", "dict", None, "{'key1': 123, 'key2': 'value', 'key3': False}"),
        (false, "{\"initialState\": initialStateObject, \"middlewares\": [\"loggerMiddleware\"], \"enhancers\": [\"applyMiddleware\", \"myMiddleWare\"]}", "dict", None,
            "{'initialState': 'initialStateObject', 'middlewares': ['loggerMiddleware'], 'enhancers': ['applyMiddleware', 'myMiddleWare']}"),
        (false, "[\"a\", 1]", "array", Some("dict"), "['\"a\"', '1']"),
    ];

    #[test]
    fn converters() {
        for &(java, value, ty, nested, expected) in CASES {
            let converted = if java {
                java_type_converter(value, ty, nested)
            } else {
                js_type_converter(value, ty, nested)
            };
            let got = converted.map(|v| repr(&v)).unwrap_or_else(|c| c.0);
            assert_eq!(got, expected, "{value:?} as {ty}");
        }
    }
}
