//! `ast.parse(src, mode="eval")` for CPython 3.11: a tokenizer and a recursive-descent
//! parser for the expression grammar. Anything CPython rejects is an error here; the
//! message is informative only (upstream maps every failure to one error type).

use std::borrow::Cow;

use num_bigint::BigInt;
use unicode_normalization::UnicodeNormalization;

use super::pyast::{BinOp, CmpOp, Comprehension, Expr, Params, UnOp};
use super::value::{is_xid_continue, is_xid_start, Value};

/// A syntax error (or any other failure of `ast.parse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError(pub Cow<'static, str>);

type PResult<T> = Result<T, SyntaxError>;

fn err<T>(msg: impl Into<Cow<'static, str>>) -> PResult<T> {
    Err(SyntaxError(msg.into()))
}

#[derive(Debug, Clone)]
enum Tok {
    Name(String),
    Kw(&'static str),
    Num(Value),
    /// One string literal token: decoded value, bytes flag, f-string flag, u prefix.
    Str(StrTok),
    Op(&'static str),
    Newline,
    End,
}

#[derive(Debug, Clone)]
struct StrTok {
    text: String,
    bytes: Option<Vec<u8>>,
    fstring: bool,
    u: bool,
}

const OPS3: &[&str] = &["**=", "//=", ">>=", "<<=", "...", "!="];
const OPS2: &[&str] = &[
    "**", "//", ">>", "<<", "<=", ">=", "==", "!=", "->", ":=", "+=", "-=", "*=", "/=", "%=", "&=",
    "|=", "^=", "@=",
];
const OPS1: &[&str] = &[
    "(", ")", "[", "]", "{", "}", ":", ",", ";", "+", "-", "*", "/", "|", "&", "<", ">", "=", ".",
    "%", "~", "^", "@",
];

/// CPython 3.11 `keyword.kwlist`.
const KWLIST: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Whether an ASCII identifier is a (hard) keyword.
pub fn is_keyword(word: &[u8]) -> bool {
    KWLIST.iter().any(|k| k.as_bytes() == word)
}

/// The keyword spelled by an ASCII identifier, if any.
fn keyword(chars: &[char]) -> Option<&'static str> {
    if !(2..=8).contains(&chars.len()) {
        return None;
    }
    let mut buf = [0u8; 8];
    for (b, &c) in buf.iter_mut().zip(chars) {
        *b = c as u8;
    }
    let word = std::str::from_utf8(&buf[..chars.len()]).ok()?;
    // KWLIST is sorted (a test checks).
    KWLIST.binary_search(&word).ok().map(|i| KWLIST[i])
}

fn is_potential_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii()
}

struct Lexer<'a> {
    s: &'a [char],
    i: usize,
    toks: Vec<Tok>,
    depth: Vec<char>,
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    /// Tokenizes all of `s` into `toks`.
    fn run(&mut self) -> PResult<()> {
        let mut at_line_start = true;
        let mut seen_content = false;
        loop {
            if at_line_start && self.depth.is_empty() {
                // Indentation of a new logical line.
                let mut col = 0usize;
                while let Some(c) = self.peek(0) {
                    match c {
                        ' ' => col += 1,
                        '\t' => col = (col / 8 + 1) * 8,
                        '\x0c' => col = 0,
                        _ => break,
                    }
                    self.i += 1;
                }
                match self.peek(0) {
                    Some('#') | Some('\n') => {}
                    Some('\\') if self.peek(1) == Some('\n') => {}
                    None if col == 0 => {}
                    _ => {
                        if col != 0 {
                            return err("unexpected indent");
                        }
                        if seen_content {
                            return err("invalid syntax");
                        }
                    }
                }
                at_line_start = false;
            }
            let Some(c) = self.peek(0) else { break };
            match c {
                ' ' | '\t' | '\x0c' => self.i += 1,
                '#' => {
                    while let Some(c) = self.peek(0) {
                        if c == '\n' {
                            break;
                        }
                        self.i += 1;
                    }
                }
                '\n' => {
                    self.i += 1;
                    if self.depth.is_empty() {
                        if seen_content && !matches!(self.toks.last(), Some(Tok::Newline)) {
                            self.toks.push(Tok::Newline);
                        }
                        at_line_start = true;
                    }
                }
                '\\' => match self.peek(1) {
                    Some('\n') => self.i += 2,
                    None => return err("unexpected EOF while parsing"),
                    _ => return err("unexpected character after line continuation character"),
                },
                c if c.is_ascii_digit()
                    || (c == '.' && self.peek(1).is_some_and(|d| d.is_ascii_digit())) =>
                {
                    let v = self.number()?;
                    self.toks.push(Tok::Num(v));
                    seen_content = true;
                }
                c if is_potential_ident(c) => {
                    let start = self.i;
                    while self.peek(0).is_some_and(is_potential_ident) {
                        self.i += 1;
                    }
                    let chars = &self.s[start..self.i];
                    if matches!(self.peek(0), Some('\'') | Some('"')) && chars.len() <= 2 {
                        if let Some(prefix) = string_prefix(chars) {
                            let t = self.string(prefix)?;
                            self.toks.push(Tok::Str(t));
                            seen_content = true;
                            continue;
                        }
                    }
                    let ascii = chars.iter().all(char::is_ascii);
                    // An ASCII run of [A-Za-z0-9_] not starting with a digit is a valid
                    // identifier; only non-ASCII words need the XID tables.
                    if !ascii {
                        let first = chars.first().copied().unwrap_or('_');
                        if !is_xid_start(first) || !chars.iter().copied().all(is_xid_continue) {
                            return err("invalid character in identifier");
                        }
                    }
                    if let Some(kw) = ascii.then(|| keyword(chars)).flatten() {
                        self.toks.push(Tok::Kw(kw));
                    } else if ascii {
                        let mut name = String::with_capacity(chars.len());
                        name.extend(chars.iter().map(|&c| char::from(c as u8)));
                        self.toks.push(Tok::Name(name));
                    } else {
                        self.toks
                            .push(Tok::Name(chars.iter().copied().nfkc().collect()));
                    }
                    seen_content = true;
                }
                '\'' | '"' => {
                    let t = self.string(Prefix::default())?;
                    self.toks.push(Tok::Str(t));
                    seen_content = true;
                }
                _ => {
                    let op = self.op()?;
                    match op {
                        "(" | "[" | "{" => {
                            if self.depth.len() >= 200 {
                                return err("too many nested parentheses");
                            }
                            self.depth.push(op.chars().next().unwrap_or('('));
                        }
                        ")" | "]" | "}" => {
                            let want = match op {
                                ")" => '(',
                                "]" => '[',
                                _ => '{',
                            };
                            if self.depth.pop() != Some(want) {
                                return err("unmatched closing bracket");
                            }
                        }
                        _ => {}
                    }
                    self.toks.push(Tok::Op(op));
                    seen_content = true;
                }
            }
        }
        if !self.depth.is_empty() {
            return err("unexpected EOF while parsing");
        }
        self.toks.push(Tok::End);
        Ok(())
    }

    fn op(&mut self) -> PResult<&'static str> {
        // Operators that the next characters decide without the tables.
        let single = match self.peek(0) {
            Some('(') => Some("("),
            Some(')') => Some(")"),
            Some('[') => Some("["),
            Some(']') => Some("]"),
            Some('{') => Some("{"),
            Some('}') => Some("}"),
            Some(',') => Some(","),
            Some(';') => Some(";"),
            Some('~') => Some("~"),
            Some('=') if self.peek(1) != Some('=') => Some("="),
            Some(':') if self.peek(1) != Some('=') => Some(":"),
            Some('.') if !(self.peek(1) == Some('.') && self.peek(2) == Some('.')) => Some("."),
            _ => None,
        };
        if let Some(op) = single {
            self.i += 1;
            return Ok(op);
        }
        let mut buf = [0u8; 3];
        let mut n = 0;
        while n < 3 {
            match self.peek(n) {
                Some(c) if c.is_ascii() => {
                    buf[n] = c as u8;
                    n += 1;
                }
                _ => break,
            }
        }
        for (len, table) in [(3, OPS3), (2, OPS2), (1, OPS1)] {
            if n < len {
                continue;
            }
            if let Some(op) = table.iter().find(|op| op.as_bytes() == &buf[..len]) {
                self.i += len;
                return Ok(op);
            }
        }
        err("invalid character")
    }

    fn digits_tail(&mut self) -> PResult<char> {
        // Called with the current char being a digit.
        loop {
            while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
            if self.peek(0) != Some('_') {
                return Ok(self.peek(0).unwrap_or('\0'));
            }
            self.i += 1;
            if !self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                return err("invalid decimal literal");
            }
        }
    }

    fn verify_end(&self) -> PResult<()> {
        let c = self.peek(0).unwrap_or('\0');
        let rest = |s: &str| {
            s.chars()
                .enumerate()
                .all(|(k, ch)| self.peek(1 + k) == Some(ch))
        };
        let ok_kw = match c {
            'a' => rest("nd"),
            'e' => rest("lse"),
            'f' => rest("or"),
            'i' => matches!(self.peek(1), Some('f') | Some('n') | Some('s')),
            'o' => rest("r"),
            'n' => rest("ot"),
            _ => false,
        };
        if !ok_kw && is_potential_ident(c) && c != '\0' {
            return err("invalid literal");
        }
        Ok(())
    }

    fn radix(&mut self, start: usize, radix: u32, name: &str) -> PResult<Value> {
        self.i += 2; // 0x
        loop {
            if self.peek(0) == Some('_') {
                self.i += 1;
            }
            if !self.peek(0).is_some_and(|c| c.is_digit(radix)) {
                if self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                    return err(format!("invalid digit in {name} literal"));
                }
                return err(format!("invalid {name} literal"));
            }
            while self.peek(0).is_some_and(|c| c.is_digit(radix)) {
                self.i += 1;
            }
            if self.peek(0) != Some('_') {
                break;
            }
        }
        if self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
            return err(format!("invalid digit in {name} literal"));
        }
        self.verify_end()?;
        let text: String = self.s[start + 2..self.i]
            .iter()
            .filter(|c| **c != '_')
            .collect();
        BigInt::parse_bytes(text.as_bytes(), radix)
            .map(Value::from_bigint)
            .ok_or_else(|| SyntaxError("bad number".into()))
    }

    fn number(&mut self) -> PResult<Value> {
        let start = self.i;
        let c0 = self.peek(0).unwrap_or('\0');
        let mut is_float = false;
        if c0 == '0' && matches!(self.peek(1), Some('x' | 'X')) {
            return self.radix(start, 16, "hexadecimal");
        }
        if c0 == '0' && matches!(self.peek(1), Some('o' | 'O')) {
            return self.radix(start, 8, "octal");
        }
        if c0 == '0' && matches!(self.peek(1), Some('b' | 'B')) {
            return self.radix(start, 2, "binary");
        }
        let mut c;
        if c0 == '.' {
            self.i += 1;
            is_float = true;
            c = self.digits_tail()?;
        } else if c0 == '0' {
            self.i += 1;
            loop {
                c = self.peek(0).unwrap_or('\0');
                if c == '_' {
                    self.i += 1;
                    if !self.peek(0).is_some_and(|d| d.is_ascii_digit()) {
                        return err("invalid decimal literal");
                    }
                    c = self.peek(0).unwrap_or('\0');
                }
                if c != '0' {
                    break;
                }
                self.i += 1;
            }
            let mut nonzero = false;
            if c.is_ascii_digit() {
                nonzero = true;
                c = self.digits_tail()?;
            }
            if c == '.' {
                self.i += 1;
                is_float = true;
                if self.peek(0).is_some_and(|d| d.is_ascii_digit()) {
                    c = self.digits_tail()?;
                } else {
                    c = self.peek(0).unwrap_or('\0');
                }
            } else if !matches!(c, 'e' | 'E' | 'j' | 'J') && nonzero {
                return err("leading zeros in decimal integer literals are not permitted");
            }
        } else {
            c = self.digits_tail()?;
            if c == '.' {
                self.i += 1;
                is_float = true;
                if self.peek(0).is_some_and(|d| d.is_ascii_digit()) {
                    c = self.digits_tail()?;
                } else {
                    c = self.peek(0).unwrap_or('\0');
                }
            }
        }
        if c == 'e' || c == 'E' {
            let save = self.i;
            self.i += 1;
            let mut c2 = self.peek(0).unwrap_or('\0');
            if c2 == '+' || c2 == '-' {
                self.i += 1;
                c2 = self.peek(0).unwrap_or('\0');
                if !c2.is_ascii_digit() {
                    return err("invalid decimal literal");
                }
            } else if !c2.is_ascii_digit() {
                self.i = save;
                self.verify_end()?;
                return self.finish_number(start, is_float, false);
            }
            is_float = true;
            c = self.digits_tail()?;
        }
        if c == 'j' || c == 'J' {
            self.i += 1;
            self.verify_end()?;
            return self.finish_number(start, is_float, true);
        }
        self.verify_end()?;
        self.finish_number(start, is_float, false)
    }

    fn finish_number(&self, start: usize, is_float: bool, imag: bool) -> PResult<Value> {
        let mut text: String = self.s[start..self.i]
            .iter()
            .filter(|c| **c != '_')
            .collect();
        if imag {
            text.pop();
            let f: f64 = text.parse().map_err(|_| SyntaxError("bad number".into()))?;
            return Ok(Value::Complex(0.0, f));
        }
        if is_float {
            let f: f64 = text.parse().map_err(|_| SyntaxError("bad number".into()))?;
            return Ok(Value::Float(f));
        }
        if text.len() > 4300 {
            return err("Exceeds the limit (4300 digits) for integer string conversion");
        }
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Int(i));
        }
        BigInt::parse_bytes(text.as_bytes(), 10)
            .map(Value::from_bigint)
            .ok_or_else(|| SyntaxError("bad number".into()))
    }

    fn string(&mut self, prefix: Prefix) -> PResult<StrTok> {
        let q = self.peek(0).unwrap_or('"');
        let triple = self.peek(1) == Some(q) && self.peek(2) == Some(q);
        self.i += if triple { 3 } else { 1 };
        let start = self.i;
        loop {
            let Some(c) = self.peek(0) else {
                return err("unterminated string literal");
            };
            if c == '\\' {
                if self.peek(1).is_none() {
                    return err("unterminated string literal");
                }
                self.i += 2;
                continue;
            }
            if c == '\n' && !triple {
                return err("unterminated string literal");
            }
            if c == q && (!triple || (self.peek(1) == Some(q) && self.peek(2) == Some(q))) {
                break;
            }
            self.i += 1;
        }
        let src: &[char] = self.s;
        let body: &[char] = &src[start..self.i];
        self.i += if triple { 3 } else { 1 };
        if prefix.f {
            check_fstring(body, prefix.r)?;
            return Ok(StrTok {
                text: String::new(),
                bytes: None,
                fstring: true,
                u: false,
            });
        }
        if prefix.b {
            if body.iter().any(|c| !c.is_ascii()) {
                return err("bytes can only contain ASCII literal characters");
            }
            let bytes = if prefix.r {
                body.iter().map(|c| *c as u8).collect()
            } else {
                decode_escapes(body, true)?
                    .into_iter()
                    .map(|c| c as u8)
                    .collect()
            };
            return Ok(StrTok {
                text: String::new(),
                bytes: Some(bytes),
                fstring: false,
                u: false,
            });
        }
        let text = if prefix.r || !body.contains(&'\\') {
            body.iter().collect()
        } else {
            let chars = decode_escapes(body, false)?;
            let mut s = String::with_capacity(chars.len());
            for cp in chars {
                match char::from_u32(cp) {
                    Some(c) => s.push(c),
                    None => return err("surrogate code points are not supported"),
                }
            }
            s
        };
        Ok(StrTok {
            text,
            bytes: None,
            fstring: false,
            u: prefix.u,
        })
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Prefix {
    r: bool,
    b: bool,
    f: bool,
    u: bool,
}

fn string_prefix(word: &[char]) -> Option<Prefix> {
    let mut buf = [0u8; 2];
    for (b, c) in buf.iter_mut().zip(word) {
        if !c.is_ascii() {
            return None;
        }
        *b = c.to_ascii_lowercase() as u8;
    }
    let lower = std::str::from_utf8(&buf[..word.len().min(2)]).unwrap_or("");
    let p = match lower {
        "r" => Prefix {
            r: true,
            ..Prefix::default()
        },
        "u" => Prefix {
            u: true,
            ..Prefix::default()
        },
        "b" => Prefix {
            b: true,
            ..Prefix::default()
        },
        "f" => Prefix {
            f: true,
            ..Prefix::default()
        },
        "br" | "rb" => Prefix {
            b: true,
            r: true,
            ..Prefix::default()
        },
        "fr" | "rf" => Prefix {
            f: true,
            r: true,
            ..Prefix::default()
        },
        _ => return None,
    };
    Some(p)
}

fn hex_digits(body: &[char], i: usize, n: usize) -> Option<u32> {
    if i + n > body.len() {
        return None;
    }
    let mut v = 0u32;
    for c in &body[i..i + n] {
        v = v * 16 + c.to_digit(16)?;
    }
    Some(v)
}

/// Decode backslash escapes (code points; bytes mode keeps `\u` etc. literal).
fn decode_escapes(body: &[char], bytes: bool) -> PResult<Vec<u32>> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c != '\\' {
            out.push(c as u32);
            i += 1;
            continue;
        }
        let Some(&e) = body.get(i + 1) else {
            return err("trailing backslash");
        };
        i += 2;
        match e {
            '\n' => {}
            '\\' => out.push('\\' as u32),
            '\'' => out.push('\'' as u32),
            '"' => out.push('"' as u32),
            'a' => out.push(7),
            'b' => out.push(8),
            'f' => out.push(12),
            'n' => out.push(10),
            'r' => out.push(13),
            't' => out.push(9),
            'v' => out.push(11),
            '0'..='7' => {
                let mut v = e as u32 - '0' as u32;
                let mut k = 0;
                while k < 2 && body.get(i).is_some_and(|d| ('0'..='7').contains(d)) {
                    v = v * 8 + (body[i] as u32 - '0' as u32);
                    i += 1;
                    k += 1;
                }
                out.push(if bytes { v & 0xff } else { v });
            }
            'x' => match hex_digits(body, i, 2) {
                Some(v) => {
                    out.push(v);
                    i += 2;
                }
                None => return err("truncated \\xXX escape"),
            },
            'u' | 'U' if !bytes => {
                let n = if e == 'u' { 4 } else { 8 };
                match hex_digits(body, i, n) {
                    Some(v) if v <= 0x10FFFF => {
                        out.push(v);
                        i += n;
                    }
                    Some(_) => return err("illegal Unicode character"),
                    None => return err("truncated \\uXXXX escape"),
                }
            }
            'N' if !bytes => return err("\\N{...} escapes are not supported"),
            other => {
                out.push('\\' as u32);
                out.push(other as u32);
            }
        }
    }
    Ok(out)
}

/// Validate an f-string body (CPython 3.11 rules, as far as acceptance goes).
fn check_fstring(body: &[char], raw: bool) -> PResult<()> {
    if !raw {
        // Escapes in the literal parts must be valid.
        let lits: Vec<char> = body.to_vec();
        decode_escapes(&strip_fields(&lits), false)?;
    }
    check_fstring_fields(body, 0)
}

/// The literal text with replacement fields removed (for escape validation).
fn strip_fields(body: &[char]) -> Vec<char> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if depth == 0 {
            if (c == '{' || c == '}') && body.get(i + 1) == Some(&c) {
                i += 2;
                continue;
            }
            if c == '{' {
                depth = 1;
            } else {
                out.push(c);
            }
        } else if c == '{' {
            depth += 1;
        } else if c == '}' {
            depth -= 1;
        }
        i += 1;
    }
    out
}

fn check_fstring_fields(body: &[char], nesting: usize) -> PResult<()> {
    if nesting > 2 {
        return err("f-string: expressions nested too deeply");
    }
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c == '{' && body.get(i + 1) == Some(&'{') && nesting == 0 {
            i += 2;
            continue;
        }
        if c == '}' {
            if body.get(i + 1) == Some(&'}') && nesting == 0 {
                i += 2;
                continue;
            }
            return err("f-string: single '}' is not allowed");
        }
        if c != '{' {
            i += 1;
            continue;
        }
        // Expression part: up to a top-level '!', ':', '=' (not '==' etc.) or '}'.
        i += 1;
        let start = i;
        let mut stack: Vec<char> = Vec::new();
        let mut quote: Option<char> = None;
        let mut end = None;
        while i < body.len() {
            let ch = body[i];
            if ch == '\\' {
                return err("f-string expression part cannot include a backslash");
            }
            if let Some(q) = quote {
                if ch == q {
                    quote = None;
                }
                i += 1;
                continue;
            }
            match ch {
                '\'' | '"' => quote = Some(ch),
                '#' => return err("f-string expression part cannot include '#'"),
                '(' | '[' | '{' => stack.push(ch),
                ')' | ']' if stack.pop().is_none() => {
                    return err("f-string: unmatched bracket");
                }
                '}' if !stack.is_empty() => {
                    stack.pop();
                }
                '}' | ':' if stack.is_empty() => {
                    end = Some(i);
                    break;
                }
                '!' if stack.is_empty() && body.get(i + 1) != Some(&'=') => {
                    end = Some(i);
                    break;
                }
                '=' if stack.is_empty()
                    && body.get(i + 1) != Some(&'=')
                    && !matches!(body.get(i.wrapping_sub(1)), Some('=' | '!' | '<' | '>')) =>
                {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let Some(e) = end else {
            return err("f-string: expecting '}'");
        };
        if quote.is_some() {
            return err("f-string: unterminated string");
        }
        let expr: String = body[start..e].iter().collect();
        if expr.trim().is_empty() {
            return err("f-string: empty expression not allowed");
        }
        parse_fstring_expr(&expr)?;
        i = e;
        if body.get(i) == Some(&'=') {
            i += 1;
        }
        if body.get(i) == Some(&'!') {
            match body.get(i + 1) {
                Some('r' | 's' | 'a') => i += 2,
                _ => return err("f-string: invalid conversion character"),
            }
        }
        if body.get(i) == Some(&':') {
            i += 1;
            let spec_start = i;
            let mut depth = 0usize;
            while i < body.len() {
                match body[i] {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    _ => {}
                }
                i += 1;
            }
            check_fstring_fields(&body[spec_start..i], nesting + 1)?;
        }
        if body.get(i) != Some(&'}') {
            return err("f-string: expecting '}'");
        }
        i += 1;
    }
    Ok(())
}

fn parse_fstring_expr(src: &str) -> PResult<()> {
    let wrapped = format!("({src})");
    let chars: Vec<char> = wrapped.chars().collect();
    let mut lexer = Lexer {
        s: &chars,
        i: 0,
        toks: Vec::new(),
        depth: Vec::new(),
    };
    lexer.run()?;
    let mut p = Parser {
        toks: lexer.toks,
        pos: 0,
        depth: 0,
    };
    // fstring: star_expressions
    p.star_expressions()?;
    while p.eat_newline() {}
    if !matches!(p.peek(), Tok::End) {
        return err("f-string: invalid syntax");
    }
    Ok(())
}

/// Parse `src` as `ast.parse(src, mode="eval").body`.
pub fn parse_eval(src: &str) -> PResult<Expr> {
    if src.contains('\0') {
        return err("source code string cannot contain null bytes");
    }
    let normalized;
    let src = if src.contains('\r') {
        normalized = src.replace("\r\n", "\n").replace('\r', "\n");
        normalized.as_str()
    } else {
        src
    };
    let (mut chars, toks) = BUFFERS.try_with(|b| b.take()).unwrap_or_default();
    chars.clear();
    if src.is_ascii() {
        chars.extend(src.bytes().map(char::from));
    } else {
        chars.extend(src.chars());
    }
    let mut lexer = Lexer {
        s: &chars,
        i: 0,
        toks,
        depth: Vec::new(),
    };
    let lexed = lexer.run();
    let mut toks = lexer.toks;
    let result = lexed.and_then(|()| {
        let mut p = Parser {
            toks: std::mem::take(&mut toks),
            pos: 0,
            depth: 0,
        };
        let result = p.expressions().and_then(|e| {
            while p.eat_newline() {}
            match p.peek() {
                Tok::End => Ok(e),
                _ => err("invalid syntax"),
            }
        });
        toks = p.toks;
        result
    });
    toks.clear();
    let _ = BUFFERS.try_with(|b| b.set((chars, toks)));
    result
}

thread_local! {
    /// The code points and tokens of the last input on this thread, kept for the next:
    /// allocating and freeing them per call made glibc consolidate its free lists each time.
    static BUFFERS: std::cell::Cell<(Vec<char>, Vec<Tok>)> = const { std::cell::Cell::new((Vec::new(), Vec::new())) };
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 400;

/// Precedence (1 = `|` .. 6 = `*`) and operator of a left-associative binary operator.
fn binop_of(t: &Tok) -> Option<(u8, BinOp)> {
    let Tok::Op(o) = t else { return None };
    Some(match *o {
        "|" => (1, BinOp::BitOr),
        "^" => (2, BinOp::BitXor),
        "&" => (3, BinOp::BitAnd),
        "<<" => (4, BinOp::LShift),
        ">>" => (4, BinOp::RShift),
        "+" => (5, BinOp::Add),
        "-" => (5, BinOp::Sub),
        "*" => (6, BinOp::Mult),
        "/" => (6, BinOp::Div),
        "//" => (6, BinOp::FloorDiv),
        "%" => (6, BinOp::Mod),
        "@" => (6, BinOp::MatMult),
        _ => return None,
    })
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).unwrap_or(&Tok::End)
    }

    /// The current token, moved out, and the next one made current. The parser reads a
    /// token's contents once, except where `target_atom` parses ahead and backs off, which
    /// puts back what it took.
    fn take(&mut self) -> Tok {
        let tok = self
            .toks
            .get_mut(self.pos)
            .map_or(Tok::End, |t| std::mem::replace(t, Tok::End));
        self.pos += 1;
        tok
    }

    fn peek_at(&self, k: usize) -> &Tok {
        self.toks.get(self.pos + k).unwrap_or(&Tok::End)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Kw(k) if *k == kw)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_newline(&mut self) -> bool {
        if matches!(self.peek(), Tok::Newline) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_op(&mut self, op: &str) -> PResult<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            err(format!("invalid syntax (expected '{op}')"))
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err("too many nested parentheses");
        }
        Ok(())
    }

    fn name(&mut self) -> PResult<String> {
        match self.toks.get(self.pos) {
            Some(Tok::Name(n)) => {
                let n = n.clone();
                self.pos += 1;
                Ok(n)
            }
            _ => err("invalid syntax (expected a name)"),
        }
    }

    /// Tokens that can start an expression.
    fn starts_expr(&self) -> bool {
        match self.peek() {
            Tok::Name(_) | Tok::Num(_) | Tok::Str(_) => true,
            Tok::Kw(k) => matches!(*k, "True" | "False" | "None" | "not" | "lambda" | "await"),
            Tok::Op(o) => matches!(*o, "(" | "[" | "{" | "-" | "+" | "~" | "..."),
            _ => false,
        }
    }

    // expressions: expression (',' expression)* [',']
    fn expressions(&mut self) -> PResult<Expr> {
        let first = self.expression()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if !self.starts_expr() {
                break;
            }
            items.push(self.expression()?);
        }
        Ok(Expr::Tuple(items))
    }

    // star_expressions (for yield values and f-strings)
    fn star_expressions(&mut self) -> PResult<Expr> {
        let first = self.star_expression()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if !self.starts_expr() && !self.is_op("*") {
                break;
            }
            items.push(self.star_expression()?);
        }
        Ok(Expr::Tuple(items))
    }

    fn star_expression(&mut self) -> PResult<Expr> {
        if self.eat_op("*") {
            return Ok(Expr::Starred(Box::new(self.bitwise_or()?)));
        }
        self.expression()
    }

    fn expression(&mut self) -> PResult<Expr> {
        if let Some(e) = self.lone_atom() {
            return Ok(e);
        }
        self.enter()?;
        let r = self.expression_inner();
        self.depth -= 1;
        r
    }

    /// A name, number, keyword constant or single plain string followed by a token that
    /// ends an expression: the node the descent through every precedence level would
    /// return (no operator, trailer or string concatenation can follow), without it.
    fn lone_atom(&mut self) -> Option<Expr> {
        let ends = matches!(
            self.peek_at(1),
            Tok::Op(",")
                | Tok::Op(")")
                | Tok::Op("]")
                | Tok::Op("}")
                | Tok::Op(":")
                | Tok::Newline
                | Tok::End
        );
        // The descent's first step is `enter`: where that fails, let it.
        if !ends || self.depth >= MAX_DEPTH {
            return None;
        }
        match self.peek() {
            Tok::Name(_) | Tok::Num(_) | Tok::Kw("True" | "False" | "None") => {}
            Tok::Str(t) if t.bytes.is_none() && !t.fstring => {}
            _ => return None,
        }
        Some(match self.take() {
            Tok::Name(n) => Expr::Name(n),
            Tok::Num(v) => Expr::Constant(v, false),
            Tok::Kw("True") => Expr::Constant(Value::Bool(true), false),
            Tok::Kw("False") => Expr::Constant(Value::Bool(false), false),
            Tok::Str(t) => Expr::Constant(Value::Str(t.text), t.u),
            _ => Expr::Constant(Value::None, false),
        })
    }

    fn expression_inner(&mut self) -> PResult<Expr> {
        if self.is_kw("lambda") {
            return self.lambdef();
        }
        let body = self.disjunction()?;
        if self.eat_kw("if") {
            let test = self.disjunction()?;
            if !self.eat_kw("else") {
                return err("expected 'else' after 'if' expression");
            }
            let orelse = self.expression()?;
            return Ok(Expr::IfExp(
                Box::new(test),
                Box::new(body),
                Box::new(orelse),
            ));
        }
        Ok(body)
    }

    fn lambdef(&mut self) -> PResult<Expr> {
        self.pos += 1; // lambda
        let params = self.lambda_params()?;
        self.expect_op(":")?;
        let body = self.expression()?;
        Ok(Expr::Lambda(Box::new(params), Box::new(body)))
    }

    fn lambda_params(&mut self) -> PResult<Params> {
        let mut p = Params::default();
        let mut seen_default = false;
        let mut seen_star = false;
        let mut seen_slash = false;
        if self.is_op(":") {
            return Ok(p);
        }
        loop {
            if self.eat_op("**") {
                p.kwarg = Some(self.name()?);
                self.eat_op(",");
                if !self.is_op(":") {
                    return err("arguments cannot follow var-keyword argument");
                }
                break;
            } else if self.eat_op("*") {
                if seen_star {
                    return err("* argument may appear only once");
                }
                seen_star = true;
                if let Tok::Name(_) = self.peek() {
                    p.vararg = Some(self.name()?);
                } else if !self.is_op(",")
                    || matches!(self.peek_at(1), Tok::Op("**") | Tok::Op(":"))
                {
                    return err("named arguments must follow bare *");
                }
            } else if self.eat_op("/") {
                if seen_slash || seen_star || p.args.is_empty() {
                    return err("invalid syntax at '/'");
                }
                seen_slash = true;
                p.posonly = std::mem::take(&mut p.args);
            } else {
                let name = self.name()?;
                let default = if self.eat_op("=") {
                    Some(self.expression()?)
                } else {
                    None
                };
                if seen_star {
                    p.kwonly.push((name, default));
                } else {
                    if default.is_some() {
                        seen_default = true;
                    } else if seen_default {
                        return err("non-default argument follows default argument");
                    }
                    p.args.push((name, default));
                }
            }
            if self.is_op(":") {
                break;
            }
            self.expect_op(",")?;
            if self.is_op(":") {
                if seen_star && p.vararg.is_none() && p.kwonly.is_empty() {
                    return err("named arguments must follow bare *");
                }
                break;
            }
        }
        if seen_star && p.vararg.is_none() && p.kwonly.is_empty() {
            return err("named arguments must follow bare *");
        }
        Ok(p)
    }

    fn disjunction(&mut self) -> PResult<Expr> {
        let first = self.conjunction()?;
        if !self.is_kw("or") {
            return Ok(first);
        }
        let mut vals = vec![first];
        while self.eat_kw("or") {
            vals.push(self.conjunction()?);
        }
        Ok(Expr::BoolOp(false, vals))
    }

    fn conjunction(&mut self) -> PResult<Expr> {
        let first = self.inversion()?;
        if !self.is_kw("and") {
            return Ok(first);
        }
        let mut vals = vec![first];
        while self.eat_kw("and") {
            vals.push(self.inversion()?);
        }
        Ok(Expr::BoolOp(true, vals))
    }

    fn inversion(&mut self) -> PResult<Expr> {
        if self.eat_kw("not") {
            self.enter()?;
            let v = self.inversion();
            self.depth -= 1;
            return Ok(Expr::UnaryOp(UnOp::Not, Box::new(v?)));
        }
        self.comparison()
    }

    fn comp_op(&mut self) -> Option<CmpOp> {
        let op = match self.peek() {
            Tok::Op("==") => CmpOp::Eq,
            Tok::Op("!=") => CmpOp::NotEq,
            Tok::Op("<") => CmpOp::Lt,
            Tok::Op("<=") => CmpOp::LtE,
            Tok::Op(">") => CmpOp::Gt,
            Tok::Op(">=") => CmpOp::GtE,
            Tok::Kw("in") => CmpOp::In,
            Tok::Kw("not") if matches!(self.peek_at(1), Tok::Kw("in")) => {
                self.pos += 2;
                return Some(CmpOp::NotIn);
            }
            Tok::Kw("is") => {
                if matches!(self.peek_at(1), Tok::Kw("not")) {
                    self.pos += 2;
                    return Some(CmpOp::IsNot);
                }
                CmpOp::Is
            }
            _ => return None,
        };
        self.pos += 1;
        Some(op)
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let first = self.bitwise_or()?;
        let mut ops = Vec::new();
        while let Some(op) = self.comp_op() {
            ops.push((op, self.bitwise_or()?));
        }
        if ops.is_empty() {
            Ok(first)
        } else {
            Ok(Expr::Compare(Box::new(first), ops))
        }
    }

    /// `bitwise_or` .. `term`: the left-associative binary operators, by precedence
    /// climbing (the same trees as one grammar rule per level).
    fn binary(&mut self, min_prec: u8) -> PResult<Expr> {
        let mut left = self.factor()?;
        while let Some((prec, op)) = binop_of(self.peek()) {
            if prec < min_prec {
                break;
            }
            self.pos += 1;
            let right = self.binary(prec + 1)?;
            left = Expr::BinOp(Box::new(left), op, Box::new(right));
        }
        Ok(left)
    }

    fn bitwise_or(&mut self) -> PResult<Expr> {
        self.binary(1)
    }

    fn factor(&mut self) -> PResult<Expr> {
        let op = match self.peek() {
            Tok::Op("+") => Some(UnOp::UAdd),
            Tok::Op("-") => Some(UnOp::USub),
            Tok::Op("~") => Some(UnOp::Invert),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            self.enter()?;
            let v = self.factor();
            self.depth -= 1;
            return Ok(Expr::UnaryOp(op, Box::new(v?)));
        }
        self.power()
    }

    fn power(&mut self) -> PResult<Expr> {
        let base = self.await_primary()?;
        if self.eat_op("**") {
            self.enter()?;
            let exp = self.factor();
            self.depth -= 1;
            return Ok(Expr::BinOp(Box::new(base), BinOp::Pow, Box::new(exp?)));
        }
        Ok(base)
    }

    fn await_primary(&mut self) -> PResult<Expr> {
        if self.eat_kw("await") {
            return Ok(Expr::Await(Box::new(self.primary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> PResult<Expr> {
        let mut e = self.atom()?;
        loop {
            if self.eat_op(".") {
                let n = self.name()?;
                e = Expr::Attribute(Box::new(e), n);
            } else if self.is_op("(") {
                self.pos += 1;
                self.enter()?;
                let r = self.call_args(e);
                self.depth -= 1;
                e = r?;
            } else if self.eat_op("[") {
                self.enter()?;
                let s = self.slices();
                self.depth -= 1;
                let s = s?;
                self.expect_op("]")?;
                e = Expr::Subscript(Box::new(e), Box::new(s));
            } else {
                return Ok(e);
            }
        }
    }

    fn slices(&mut self) -> PResult<Expr> {
        let first = self.slice_or_starred()?;
        if !self.is_op(",") {
            if matches!(first, Expr::Starred(_)) {
                return Ok(Expr::Tuple(vec![first]));
            }
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op("]") {
                break;
            }
            items.push(self.slice_or_starred()?);
        }
        Ok(Expr::Tuple(items))
    }

    fn slice_or_starred(&mut self) -> PResult<Expr> {
        if self.eat_op("*") {
            return Ok(Expr::Starred(Box::new(self.expression()?)));
        }
        let lower = if self.is_op(":") {
            None
        } else {
            Some(self.named_expression()?)
        };
        if !self.eat_op(":") {
            return lower.ok_or_else(|| SyntaxError("invalid syntax".into()));
        }
        if let Some(Expr::NamedExpr(..)) = lower {
            return err("invalid syntax");
        }
        let upper = if self.is_op(":") || self.is_op(",") || self.is_op("]") {
            None
        } else {
            Some(Box::new(self.expression()?))
        };
        let step = if self.eat_op(":") {
            if self.is_op(",") || self.is_op("]") {
                None
            } else {
                Some(Box::new(self.expression()?))
            }
        } else {
            None
        };
        Ok(Expr::Slice(lower.map(Box::new), upper, step))
    }

    fn named_expression(&mut self) -> PResult<Expr> {
        if let (Tok::Name(n), Tok::Op(":=")) = (self.peek(), self.peek_at(1)) {
            let n = n.clone();
            self.pos += 2;
            let v = self.expression()?;
            return Ok(Expr::NamedExpr(n, Box::new(v)));
        }
        let e = self.expression()?;
        if self.is_op(":=") {
            return err("cannot use assignment expressions with this target");
        }
        Ok(e)
    }

    fn star_named_expression(&mut self) -> PResult<Expr> {
        if self.eat_op("*") {
            return Ok(Expr::Starred(Box::new(self.bitwise_or()?)));
        }
        self.named_expression()
    }

    /// After `(`: arguments up to `)`.
    fn call_args(&mut self, func: Expr) -> PResult<Expr> {
        let mut args = Vec::new();
        let mut keywords: Vec<(Option<String>, Expr)> = Vec::new();
        let mut seen_kw = false;
        let mut seen_dstar = false;
        if self.eat_op(")") {
            return Ok(Expr::Call {
                func: Box::new(func),
                args,
                keywords,
            });
        }
        loop {
            if self.eat_op("**") {
                keywords.push((None, self.expression()?));
                seen_dstar = true;
            } else if self.eat_op("*") {
                if seen_dstar {
                    return err("iterable argument unpacking follows keyword argument unpacking");
                }
                args.push(Expr::Starred(Box::new(self.expression()?)));
            } else if let (Tok::Name(_), Tok::Op("=")) = (self.peek(), self.peek_at(1)) {
                let Tok::Name(n) = self.take() else {
                    return err("invalid syntax");
                };
                self.pos += 1;
                keywords.push((Some(n), self.expression()?));
                seen_kw = true;
            } else {
                if seen_kw || seen_dstar {
                    return err("positional argument follows keyword argument");
                }
                let e = self.named_expression()?;
                if self.is_op("=") {
                    return err("expression cannot contain assignment");
                }
                if self.is_kw("for") || self.is_kw("async") {
                    // Generator expression: only as the sole argument.
                    let gens = self.for_if_clauses()?;
                    if !args.is_empty() || !keywords.is_empty() || !self.is_op(")") {
                        return err("Generator expression must be parenthesized");
                    }
                    self.pos += 1;
                    args.push(Expr::GeneratorExp(Box::new(e), gens));
                    return Ok(Expr::Call {
                        func: Box::new(func),
                        args,
                        keywords,
                    });
                }
                args.push(e);
            }
            if self.eat_op(")") {
                break;
            }
            self.expect_op(",")?;
            if self.eat_op(")") {
                break;
            }
        }
        Ok(Expr::Call {
            func: Box::new(func),
            args,
            keywords,
        })
    }

    fn for_if_clauses(&mut self) -> PResult<Vec<Comprehension>> {
        let mut gens = Vec::new();
        loop {
            let is_async = if self.is_kw("async") && matches!(self.peek_at(1), Tok::Kw("for")) {
                self.pos += 1;
                true
            } else {
                false
            };
            if !self.eat_kw("for") {
                break;
            }
            let target = self.star_targets()?;
            if !self.eat_kw("in") {
                return err("invalid syntax (expected 'in')");
            }
            let iter = self.disjunction()?;
            let mut ifs = Vec::new();
            while self.eat_kw("if") {
                ifs.push(self.disjunction()?);
            }
            gens.push(Comprehension {
                target,
                iter,
                ifs,
                is_async,
            });
        }
        if gens.is_empty() {
            return err("invalid syntax");
        }
        Ok(gens)
    }

    fn star_targets(&mut self) -> PResult<Expr> {
        let first = self.star_target()?;
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_kw("in") || self.is_op("=") {
                break;
            }
            items.push(self.star_target()?);
        }
        Ok(Expr::Tuple(items))
    }

    fn star_target(&mut self) -> PResult<Expr> {
        if self.eat_op("*") {
            if self.is_op("*") {
                return err("invalid syntax");
            }
            return Ok(Expr::Starred(Box::new(self.star_target()?)));
        }
        self.enter()?;
        let r = self.target_atom();
        self.depth -= 1;
        r
    }

    fn target_atom(&mut self) -> PResult<Expr> {
        // Parenthesised / bracketed target lists (without trailers).
        if self.is_op("(") || self.is_op("[") {
            let save = self.pos;
            let ahead: Vec<Tok> = self.toks.get(save..).unwrap_or_default().to_vec();
            let close = if self.is_op("(") { ")" } else { "]" };
            self.pos += 1;
            if self.eat_op(close) {
                if close == ")" {
                    return Ok(Expr::Tuple(vec![]));
                }
                return Ok(Expr::List(vec![]));
            }
            let inner = self.star_targets();
            if let Ok(inner) = inner {
                if self.eat_op(close) && !self.is_op(".") && !self.is_op("[") && !self.is_op("(") {
                    return Ok(match (close, inner) {
                        ("]", Expr::Tuple(items)) => Expr::List(items),
                        ("]", single) => Expr::List(vec![single]),
                        (_, e) => e,
                    });
                }
            }
            self.toks.truncate(save);
            self.toks.extend(ahead);
            self.pos = save;
        }
        let e = self.primary()?;
        match e {
            Expr::Name(_) | Expr::Attribute(..) | Expr::Subscript(..) => Ok(e),
            _ => err("cannot assign to expression"),
        }
    }

    fn strings(&mut self) -> PResult<Expr> {
        let mut text = String::new();
        let mut bytes: Option<Vec<u8>> = None;
        let mut any_str = false;
        let mut fstring = false;
        let mut u = false;
        let mut first = true;
        // One plain literal (the common case): a single copy of its text.
        if let (Some(Tok::Str(t)), next) = (self.toks.get(self.pos), self.toks.get(self.pos + 1)) {
            if t.bytes.is_none() && !t.fstring && !matches!(next, Some(Tok::Str(_))) {
                let e = Expr::Constant(Value::Str(t.text.clone()), t.u);
                self.pos += 1;
                return Ok(e);
            }
        }
        while let Some(Tok::Str(t)) = self.toks.get(self.pos) {
            self.pos += 1;
            if first {
                u = t.u;
                first = false;
            }
            match &t.bytes {
                Some(b) => {
                    if any_str {
                        return err("cannot mix bytes and nonbytes literals");
                    }
                    bytes.get_or_insert_with(Vec::new).extend_from_slice(b);
                }
                None => {
                    if bytes.is_some() {
                        return err("cannot mix bytes and nonbytes literals");
                    }
                    any_str = true;
                    fstring |= t.fstring;
                    text.push_str(&t.text);
                }
            }
        }
        if fstring {
            return Ok(Expr::JoinedStr);
        }
        if let Some(b) = bytes {
            return Ok(Expr::Constant(Value::Bytes(b), false));
        }
        Ok(Expr::Constant(Value::Str(text), u))
    }

    fn atom(&mut self) -> PResult<Expr> {
        match self.peek() {
            Tok::Name(_) => match self.take() {
                Tok::Name(n) => Ok(Expr::Name(n)),
                _ => err("invalid syntax"),
            },
            Tok::Kw("True") => {
                self.pos += 1;
                Ok(Expr::Constant(Value::Bool(true), false))
            }
            Tok::Kw("False") => {
                self.pos += 1;
                Ok(Expr::Constant(Value::Bool(false), false))
            }
            Tok::Kw("None") => {
                self.pos += 1;
                Ok(Expr::Constant(Value::None, false))
            }
            Tok::Num(v) => {
                let v = v.clone();
                self.pos += 1;
                Ok(Expr::Constant(v, false))
            }
            Tok::Str(_) => self.strings(),
            Tok::Op("...") => {
                self.pos += 1;
                Ok(Expr::Ellipsis)
            }
            Tok::Op("(") => {
                self.pos += 1;
                self.enter()?;
                let r = self.paren();
                self.depth -= 1;
                r
            }
            Tok::Op("[") => {
                self.pos += 1;
                self.enter()?;
                let r = self.list();
                self.depth -= 1;
                r
            }
            Tok::Op("{") => {
                self.pos += 1;
                self.enter()?;
                let r = self.brace();
                self.depth -= 1;
                r
            }
            _ => err("invalid syntax"),
        }
    }

    fn paren(&mut self) -> PResult<Expr> {
        if self.eat_op(")") {
            return Ok(Expr::Tuple(vec![]));
        }
        if self.is_kw("yield") {
            let y = self.yield_expr()?;
            self.expect_op(")")?;
            return Ok(y);
        }
        let first = self.star_named_expression()?;
        if self.is_kw("for") || self.is_kw("async") {
            if matches!(first, Expr::Starred(_)) {
                return err("iterable unpacking cannot be used in comprehension");
            }
            let gens = self.for_if_clauses()?;
            self.expect_op(")")?;
            return Ok(Expr::GeneratorExp(Box::new(first), gens));
        }
        if self.eat_op(")") {
            if matches!(first, Expr::Starred(_)) {
                return err("cannot use starred expression here");
            }
            return Ok(first);
        }
        if matches!(first, Expr::NamedExpr(..)) && !self.is_op(",") {
            return err("invalid syntax");
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op(")") {
                break;
            }
            items.push(self.star_named_expression()?);
        }
        self.expect_op(")")?;
        Ok(Expr::Tuple(items))
    }

    fn yield_expr(&mut self) -> PResult<Expr> {
        self.pos += 1; // yield
        if self.eat_kw("from") {
            return Ok(Expr::YieldFrom(Box::new(self.expression()?)));
        }
        if self.is_op(")") {
            return Ok(Expr::Yield(None));
        }
        Ok(Expr::Yield(Some(Box::new(self.star_expressions()?))))
    }

    fn list(&mut self) -> PResult<Expr> {
        if self.eat_op("]") {
            return Ok(Expr::List(vec![]));
        }
        let first = self.star_named_expression()?;
        if self.is_kw("for") || self.is_kw("async") {
            if matches!(first, Expr::Starred(_)) {
                return err("iterable unpacking cannot be used in comprehension");
            }
            let gens = self.for_if_clauses()?;
            self.expect_op("]")?;
            return Ok(Expr::ListComp(Box::new(first), gens));
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op("]") {
                break;
            }
            items.push(self.star_named_expression()?);
        }
        self.expect_op("]")?;
        Ok(Expr::List(items))
    }

    fn brace(&mut self) -> PResult<Expr> {
        if self.eat_op("}") {
            return Ok(Expr::Dict(vec![]));
        }
        if self.eat_op("**") {
            let v = self.bitwise_or()?;
            return self.dict_rest(vec![(None, v)]);
        }
        let first = self.star_named_expression()?;
        if self.eat_op(":") {
            if matches!(first, Expr::Starred(_) | Expr::NamedExpr(..)) {
                return err("invalid syntax");
            }
            let v = self.expression()?;
            if self.is_kw("for") || self.is_kw("async") {
                let gens = self.for_if_clauses()?;
                self.expect_op("}")?;
                return Ok(Expr::DictComp(Box::new(first), Box::new(v), gens));
            }
            return self.dict_rest(vec![(Some(first), v)]);
        }
        if self.is_kw("for") || self.is_kw("async") {
            if matches!(first, Expr::Starred(_)) {
                return err("iterable unpacking cannot be used in comprehension");
            }
            let gens = self.for_if_clauses()?;
            self.expect_op("}")?;
            return Ok(Expr::SetComp(Box::new(first), gens));
        }
        let mut items = vec![first];
        while self.eat_op(",") {
            if self.is_op("}") {
                break;
            }
            items.push(self.star_named_expression()?);
        }
        self.expect_op("}")?;
        Ok(Expr::Set(items))
    }

    fn dict_rest(&mut self, mut items: Vec<(Option<Expr>, Expr)>) -> PResult<Expr> {
        while self.eat_op(",") {
            if self.is_op("}") {
                break;
            }
            if self.eat_op("**") {
                items.push((None, self.bitwise_or()?));
            } else {
                let k = self.expression()?;
                self.expect_op(":")?;
                items.push((Some(k), self.expression()?));
            }
        }
        self.expect_op("}")?;
        Ok(Expr::Dict(items))
    }
}

#[cfg(test)]
mod tests {
    use super::super::pyast::unparse;
    use super::*;

    fn ok(s: &str) -> String {
        match parse_eval(s) {
            Ok(e) => unparse(&e).unwrap_or_else(|e| format!("<{}>", e.0)),
            Err(e) => panic!("{s:?} failed: {}", e.0),
        }
    }

    fn bad(s: &str) {
        assert!(parse_eval(s).is_err(), "{s:?} should fail");
    }

    #[test]
    fn keywords_are_cpython_311_kwlist() {
        assert_eq!(KWLIST.len(), 35);
        assert!(KWLIST.windows(2).all(|w| w[0] < w[1]));
        for kw in KWLIST {
            let chars: Vec<char> = kw.chars().collect();
            assert_eq!(keyword(&chars), Some(*kw));
        }
        for word in ["match", "case", "_", "type", "print", "Nonee", "Tru", "x"] {
            assert!(!is_keyword(word.as_bytes()), "{word}");
        }
    }

    #[test]
    fn accepts() {
        assert_eq!(ok("f(a=1, b='x')"), "f(a=1, b='x')");
        // Comprehension targets are parsed ahead and backed off from: the names survive.
        assert_eq!(ok("[x for (a).b in y]"), "[x for a.b in y]");
        assert_eq!(ok("[x for (a, b) in y]"), "[x for a, b in y]");
        assert_eq!(
            ok("[x for [a, (b)] in y if (a)]"),
            "[x for [a, b] in y if a]"
        );
        assert_eq!(
            ok("f(k=g([v for (v) in w]), m=(n))"),
            "f(k=g([v for v in w]), m=n)"
        );
        assert_eq!(
            ok("a.b.c(x=[1, 2.5, -3], y={'k': (1,)})"),
            "a.b.c(x=[1, 2.5, -3], y={'k': (1,)})"
        );
        assert_eq!(ok("f(x for x in y)"), "f((x for x in y))");
        assert_eq!(ok("1_000 + 0x_1F + 0o17 + 0b1"), "1000 + 31 + 15 + 1");
        assert_eq!(ok("1e3"), "1000.0");
        assert_eq!(ok("1if 1else 2"), "1 if 1 else 2");
        assert_eq!(ok("\nf(a=1)\n"), "f(a=1)");
        assert_eq!(ok("f(a=1) # c"), "f(a=1)");
        assert_eq!(ok("lambda x, *, y=1: x"), "lambda x, *, y=1: x");
        assert_eq!(ok("(yield)"), "(yield)");
        assert_eq!(ok("u'x' 'y'"), "u'xy'");
        assert_eq!(ok("'a\\x41\\u00e9\\n'"), "'aAé\\n'");
        assert_eq!(ok("f(*a, b=1, **c)"), "f(*a, b=1, **c)");
        assert_eq!(ok("a[1:2, ::3]"), "a[1:2, ::3]");
        assert_eq!(ok("not a or b and c"), "not a or (b and c)");
        assert_eq!(ok("ｆ(ａ=1)"), "f(a=1)");
        assert_eq!(ok("[x async for x in y if x]"), "[x async for x in y if x]");
        assert_eq!(
            ok("f'{a!r:>{w}}' 'x'"),
            "<unparsing f-strings is not supported>"
        );
        assert_eq!(ok("1e999"), "1e309");
        assert_eq!(ok("(a := 1)"), "(a := 1)");
        // Precedence climbing gives the per-level grammar's trees.
        assert_eq!(
            ok("1 | 2 ^ 3 & 4 << 5 + 6 * 7"),
            "1 | 2 ^ 3 & 4 << 5 + 6 * 7"
        );
        assert_eq!(ok("(1 | 2) * 3"), "(1 | 2) * 3");
        assert_eq!(ok("a - b - c"), "a - b - c");
        assert_eq!(ok("a - (b - c)"), "a - (b - c)");
        assert_eq!(ok("a // b % c @ d / e"), "a // b % c @ d / e");
        assert_eq!(ok("-a ** -b * c"), "-a ** (-b) * c");
        assert_eq!(ok("a>>b<<c"), "a >> b << c");
        assert_eq!(ok("x==y"), "x == y");
        assert_eq!(ok("x=={'k':(1,)}"), "x == {'k': (1,)}");
    }

    #[test]
    fn rejects() {
        for s in [
            " f(a=1)",
            "f(a=1);",
            "f(a=1, b)",
            "01",
            "1__0",
            "1e",
            "0b12",
            "f(a.b=1)",
            "f(**k, *a)",
            "b'é'",
            "'a' b'b'",
            "f(a=1)\0",
            "f(x for x in y, 1)",
            "(*a)",
            "a, *b",
            "申し訳、",
            "f(a=1)\ng(b=2)",
            "f(a=1)\n  ",
            "'abc",
            "f(",
            ")",
            "x:=1",
            "1abc",
            "f'{}'",
            "f'{a\\n}'",
            "lambda *: 0",
            "'\\N{BULLET}'",
            "",
        ] {
            bad(s);
        }
    }
}
