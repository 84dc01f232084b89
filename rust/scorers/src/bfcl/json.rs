//! `json.loads` into [`Value`] with Python's semantics: integers stay exact `int`s,
//! numbers with a fraction or exponent become `float`, `NaN`/`Infinity` are accepted,
//! and a repeated key keeps its first position with the last value.

use num_bigint::BigInt;

use super::value::{dict_insert, Value};

pub fn parse(s: &str) -> Result<Value, String> {
    parse_with(s, false)
}

/// Like [`parse`] for a list of function docs, keeping only what the checker reads
/// (`name`, `parameters.required`, `parameters.properties.*.type` and `.items.type`);
/// everything else (descriptions, enums, defaults, …) is scanned over, not built.
pub fn parse_docs(s: &str) -> Result<Value, String> {
    parse_with(s, true)
}

fn parse_with(s: &str, docs: bool) -> Result<Value, String> {
    let mut p = P {
        s: s.as_bytes(),
        i: 0,
        src: s,
    };
    p.ws();
    let v = p.value(0, if docs { Mode::DocList } else { Mode::Full })?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("Extra data at char {}", p.i));
    }
    Ok(v)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Full,
    DocList,
    Doc,
    Params,
    Props,
    Prop,
    Items,
}

impl Mode {
    /// Mode for the value under `key`, or `None` to skip it.
    fn child(self, key: &str) -> Option<Mode> {
        match (self, key) {
            (Mode::Full, _) => Some(Mode::Full),
            (Mode::DocList | Mode::Doc, "name") => Some(Mode::Full),
            (Mode::DocList | Mode::Doc, "parameters") => Some(Mode::Params),
            (Mode::Params, "properties") => Some(Mode::Props),
            (Mode::Params, "required") => Some(Mode::Full),
            (Mode::Props, _) => Some(Mode::Prop),
            (Mode::Prop | Mode::Items, "type") => Some(Mode::Full),
            (Mode::Prop, "items") => Some(Mode::Items),
            _ => None,
        }
    }
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
    src: &'a str,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn lit(&mut self, word: &str, v: Value) -> Result<Value, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(format!("Expecting value at char {}", self.i))
        }
    }

    /// Scan over one value without building it.
    fn skip_value(&mut self) -> Result<(), String> {
        match self.s.get(self.i) {
            Some(b'"') => self.string_skip(),
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                while let Some(&c) = self.s.get(self.i) {
                    match c {
                        b'"' => {
                            self.string_skip()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
                Err("Expecting value (unterminated container)".into())
            }
            Some(_) => {
                let start = self.i;
                while self.s.get(self.i).is_some_and(|c| {
                    !matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                }) {
                    self.i += 1;
                }
                if start == self.i {
                    return Err("Expecting value".into());
                }
                Ok(())
            }
            None => Err("Expecting value".into()),
        }
    }

    fn value(&mut self, depth: usize, mode: Mode) -> Result<Value, String> {
        if depth > 500 {
            return Err("nesting too deep".into());
        }
        let Some(&c) = self.s.get(self.i) else {
            return Err("Expecting value".into());
        };
        match c {
            b'{' => {
                self.i += 1;
                let mut d = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Value::Dict(d));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return Err("Expecting property name enclosed in double quotes".into());
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return Err("Expecting ':' delimiter".into());
                    }
                    self.i += 1;
                    self.ws();
                    match mode.child(&k) {
                        Some(m) => {
                            let v = self.value(depth + 1, m)?;
                            dict_insert(&mut d, Value::Str(k), v);
                        }
                        None => self.skip_value()?,
                    }
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Value::Dict(d));
                        }
                        _ => return Err("Expecting ',' delimiter".into()),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Value::List(items));
                }
                loop {
                    self.ws();
                    let m = if mode == Mode::DocList {
                        Mode::Doc
                    } else {
                        Mode::Full
                    };
                    items.push(self.value(depth + 1, m)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Value::List(items));
                        }
                        _ => return Err("Expecting ',' delimiter".into()),
                    }
                }
            }
            b'"' => Ok(Value::Str(self.string()?)),
            b't' => self.lit("true", Value::Bool(true)),
            b'f' => self.lit("false", Value::Bool(false)),
            b'n' => self.lit("null", Value::None),
            b'N' => self.lit("NaN", Value::Float(f64::NAN)),
            b'I' => self.lit("Infinity", Value::Float(f64::INFINITY)),
            b'-' if self.s[self.i..].starts_with(b"-Infinity") => {
                self.i += 9;
                Ok(Value::Float(f64::NEG_INFINITY))
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(format!("Expecting value at char {}", self.i)),
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.s.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                    self.i += 1;
                }
            }
            _ => return Err("Expecting value".into()),
        }
        let mut is_float = false;
        if self.s.get(self.i) == Some(&b'.')
            && self.s.get(self.i + 1).is_some_and(u8::is_ascii_digit)
        {
            is_float = true;
            self.i += 1;
            while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            let save = self.i;
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                is_float = true;
                while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                    self.i += 1;
                }
            } else {
                self.i = save;
            }
        }
        let text = &self.src[start..self.i];
        if is_float {
            text.parse::<f64>()
                .map(Value::Float)
                .map_err(|e| e.to_string())
        } else if let Ok(i) = text.parse::<i64>() {
            Ok(Value::Int(i))
        } else {
            BigInt::parse_bytes(text.as_bytes(), 10)
                .map(Value::from_bigint)
                .ok_or_else(|| "bad number".to_string())
        }
    }

    /// Validate and skip a string (the opening quote is at `self.i`).
    fn string_skip(&mut self) -> Result<(), String> {
        self.i += 1;
        loop {
            let Some(k) = self.s[self.i..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\')
            else {
                return Err("Unterminated string".into());
            };
            if self.s[self.i..self.i + k].iter().any(|&b| b < 0x20) {
                return Err("Invalid control character".into());
            }
            self.i += k;
            if self.s[self.i] == b'"' {
                self.i += 1;
                return Ok(());
            }
            match self.s.get(self.i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 2,
                Some(b'u') => {
                    self.i += 2;
                    self.hex4()?;
                }
                _ => return Err("Invalid \\escape".into()),
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.i < self.s.len()
                && !matches!(self.s[self.i], b'"' | b'\\')
                && self.s[self.i] >= 0x20
            {
                self.i += 1;
            }
            out.push_str(&self.src[start..self.i]);
            match self.s.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let e = self.s.get(self.i + 1).copied();
                    self.i += 2;
                    match e {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            if (0xD800..0xDC00).contains(&hi)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                    out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                                    continue;
                                }
                                return Err("unpaired surrogate".into());
                            }
                            match char::from_u32(hi) {
                                Some(c) => out.push(c),
                                None => return Err("unpaired surrogate".into()),
                            }
                        }
                        _ => return Err("Invalid \\escape".into()),
                    }
                }
                _ => return Err("Unterminated string / invalid control character".into()),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .src
            .get(self.i..self.i + 4)
            .ok_or("Invalid \\uXXXX escape")?;
        let v = u32::from_str_radix(h, 16).map_err(|_| "Invalid \\uXXXX escape")?;
        self.i += 4;
        Ok(v)
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
            repr(&parse("[1, 2.5, 1e2, -0]").unwrap()),
            "[1, 2.5, 100.0, 0]"
        );
        assert!(parse("[1,]").is_err());
        assert!(parse("{} x").is_err());
    }
}
