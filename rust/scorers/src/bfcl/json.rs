//! `json.loads` into [`Value`] with Python's semantics, for the docs, the possible answers
//! and the arguments of tool calls: the JSON reader is `arc_grid`'s (CPython's scanner:
//! exact integers, `NaN`/`Infinity`), and a repeated key keeps its first position with the
//! last value, as a Python dict does. Lone surrogates (`"\ud800"`) become U+FFFD.

use arc_grid::json::{self as scanner, Value as Json};
use num_bigint::BigInt;

use super::value::{dict_insert, Value};

pub fn parse(s: &str) -> Result<Value, String> {
    scanner::loads(s).map(from_json).map_err(|e| e.to_string())
}

fn from_json(v: Json) -> Value {
    match v {
        Json::Null => Value::None,
        Json::Bool(b) => Value::Bool(b),
        Json::Int(i) => Value::Int(i),
        Json::BigInt(digits) => match BigInt::parse_bytes(digits.as_bytes(), 10) {
            Some(b) => Value::from_bigint(b),
            None => Value::Str(digits),
        },
        Json::Float(f) => Value::Float(f),
        Json::Str(s) => Value::Str(s),
        Json::List(items) => Value::List(items.into_iter().map(from_json).collect()),
        Json::Object(entries) => {
            let mut d = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                dict_insert(&mut d, Value::Str(k), from_json(v));
            }
            Value::Dict(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::value::repr;
    use super::*;

    #[test]
    fn loads() {
        let v = parse(r#"{"a": [1, 2.0, 1e2, -0, true, null, "x\u00e9"], "a": 3, "b": {"c": 123456789012345678901234}}"#).unwrap();
        assert_eq!(repr(&v), "{'a': 3, 'b': {'c': 123456789012345678901234}}");
        assert_eq!(
            repr(&parse("[1, 2.5, 1e2, -0, NaN]").unwrap()),
            "[1, 2.5, 100.0, 0, nan]"
        );
        assert!(parse("[1,]").is_err());
        assert!(parse("{} x").is_err());
    }
}
