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

/// Operators and delimiters, roughly the most frequent first. The tokenizer takes the
/// longest match, so an operator comes before the shorter ones it starts with.
const OPS: &[&str] = &[
    "(", ")", ",", "==", "=", "[", "]", "{", "}", "...", ".", ":=", ":", "-=", "->", "-", "**=",
    "**", "*=", "*", "+=", "+", "//=", "//", "/=", "/", ">>=", ">>", ">=", ">", "<<=", "<<", "<=",
    "<", "!=", "%=", "%", "&=", "&", "|=", "|", "^=", "^", "@=", "@", "~", ";",
];

/// CPython 3.11 `keyword.kwlist`.
const KWLIST: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Whether an identifier is a (hard) keyword.
pub fn is_keyword(word: &str) -> bool {
    keyword(word).is_some()
}

/// The keyword spelled by an identifier, if any. A scan, not a binary search: `==`
/// compares lengths first, where each step of the search called `memcmp` (a few per
/// cent of `BfclItem.check` in `tools/bench`).
fn keyword(word: &str) -> Option<&'static str> {
    KWLIST.iter().copied().find(|kw| *kw == word)
}

fn is_potential_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || !b.is_ascii()
}

/// The tokenizer, on the UTF-8 bytes of the source. Every token starts and ends at an
/// ASCII byte or at the end, so its text is a `str` slice.
struct Lexer<'a> {
    src: &'a str,
    i: usize,
    toks: Vec<Tok>,
    depth: Vec<u8>,
}

impl<'a> Lexer<'a> {
    /// The byte `k` places ahead; 0 past the end (the source holds no NUL).
    fn at(&self, k: usize) -> u8 {
        self.src.as_bytes().get(self.i + k).copied().unwrap_or(0)
    }

    /// The source from `start` to here.
    fn text(&self, start: usize) -> &'a str {
        self.src.get(start..self.i).unwrap_or_default()
    }

    /// Tokenizes all of `src` into `toks`.
    fn run(&mut self) -> PResult<()> {
        let mut at_line_start = true;
        let mut seen_content = false;
        loop {
            if at_line_start && self.depth.is_empty() {
                // Indentation of a new logical line.
                let mut col = 0usize;
                loop {
                    match self.at(0) {
                        b' ' => col += 1,
                        b'\t' => col = (col / 8 + 1) * 8,
                        b'\x0c' => col = 0,
                        _ => break,
                    }
                    self.i += 1;
                }
                match (self.at(0), self.at(1)) {
                    (b'#' | b'\n', _) | (b'\\', b'\n') => {}
                    (0, _) if col == 0 => {}
                    _ if col != 0 => return err("unexpected indent"),
                    _ if seen_content => return err("invalid syntax"),
                    _ => {}
                }
                at_line_start = false;
            }
            let tok = match self.at(0) {
                0 => break,
                b' ' | b'\t' | b'\x0c' => {
                    self.i += 1;
                    continue;
                }
                b'#' => {
                    while !matches!(self.at(0), b'\n' | 0) {
                        self.i += 1;
                    }
                    continue;
                }
                b'\n' => {
                    self.i += 1;
                    if self.depth.is_empty() {
                        if seen_content && !matches!(self.toks.last(), Some(Tok::Newline)) {
                            self.toks.push(Tok::Newline);
                        }
                        at_line_start = true;
                    }
                    continue;
                }
                b'\\' => match self.at(1) {
                    b'\n' => {
                        self.i += 2;
                        continue;
                    }
                    0 => return err("unexpected EOF while parsing"),
                    _ => return err("unexpected character after line continuation character"),
                },
                b'0'..=b'9' => Tok::Num(self.number()?),
                b'.' if self.at(1).is_ascii_digit() => Tok::Num(self.number()?),
                b'\'' | b'"' => Tok::Str(self.string(Prefix::default())?),
                c if is_potential_ident(c) => self.word()?,
                _ => {
                    let op = self.op()?;
                    match op {
                        "(" | "[" | "{" if self.depth.len() >= 200 => {
                            return err("too many nested parentheses")
                        }
                        "(" | "[" | "{" => self.depth.push(op.as_bytes()[0]),
                        ")" if self.depth.pop() != Some(b'(') => return err("unmatched ')'"),
                        "]" if self.depth.pop() != Some(b'[') => return err("unmatched ']'"),
                        "}" if self.depth.pop() != Some(b'{') => return err("unmatched '}'"),
                        _ => {}
                    }
                    Tok::Op(op)
                }
            };
            self.toks.push(tok);
            seen_content = true;
        }
        if !self.depth.is_empty() {
            return err("unexpected EOF while parsing");
        }
        self.toks.push(Tok::End);
        Ok(())
    }

    /// A name, a keyword, or a prefixed string literal.
    fn word(&mut self) -> PResult<Tok> {
        let start = self.i;
        while is_potential_ident(self.at(0)) {
            self.i += 1;
        }
        let word = self.text(start);
        if matches!(self.at(0), b'\'' | b'"') {
            if let Some(prefix) = string_prefix(word) {
                return self.string(prefix).map(Tok::Str);
            }
        }
        // Keywords are ASCII (`ｉｆ` is the name `if`); only other words need the XID
        // tables and NFKC.
        if word.is_ascii() {
            return Ok(keyword(word).map_or_else(|| Tok::Name(word.to_owned()), Tok::Kw));
        }
        let mut chars = word.chars();
        if !chars.next().is_some_and(is_xid_start) || !chars.all(is_xid_continue) {
            return err("invalid character in identifier");
        }
        Ok(Tok::Name(word.nfkc().collect()))
    }

    /// The longest operator or delimiter here.
    fn op(&mut self) -> PResult<&'static str> {
        let at = |k: usize| self.at(k);
        match OPS
            .iter()
            .find(|op| op.bytes().enumerate().all(|(k, b)| at(k) == b))
        {
            Some(op) => {
                self.i += op.len();
                Ok(op)
            }
            None => err("invalid character"),
        }
    }

    /// `d(_?d)*` in `radix` from here; whether a digit was read. A `_` that no digit
    /// follows is left in place, for `verify_end` to reject.
    fn digit_part(&mut self, radix: u32) -> bool {
        let digit = |b: u8| char::from(b).is_digit(radix);
        let start = self.i;
        while digit(self.at(0)) {
            self.i += 1;
            if self.at(0) == b'_' && digit(self.at(1)) {
                self.i += 1;
            }
        }
        self.i > start
    }

    /// CPython's `verify_end_of_number`: a number may run into `and`, `else`, `for`, `if`,
    /// `in`, `is`, `not` and `or`, but into no other identifier character.
    fn verify_end(&self) -> PResult<()> {
        let rest = self.src.get(self.i..).unwrap_or_default();
        let keyword = || {
            ["and", "else", "for", "if", "in", "is", "not", "or"]
                .iter()
                .any(|k| rest.starts_with(k))
        };
        if is_potential_ident(self.at(0)) && !keyword() {
            return err("invalid literal");
        }
        Ok(())
    }

    /// A number token (CPython's tokenizer): `0x`/`0o`/`0b` integers, decimal integers
    /// (no leading zeros), floats and imaginary literals, `_` between digits.
    fn number(&mut self) -> PResult<Value> {
        let start = self.i;
        let radix = match (self.at(0), self.at(1)) {
            (b'0', b'x' | b'X') => 16,
            (b'0', b'o' | b'O') => 8,
            (b'0', b'b' | b'B') => 2,
            _ => 10,
        };
        let bad = || SyntaxError("bad number".into());
        if radix != 10 {
            self.i += 2;
            if self.at(0) == b'_' {
                self.i += 1;
            }
            if !self.digit_part(radix) {
                return err("invalid literal");
            }
            self.verify_end()?;
            let digits = self.text(start + 2).replace('_', "");
            return BigInt::parse_bytes(digits.as_bytes(), radix)
                .map(Value::from_bigint)
                .ok_or_else(bad);
        }
        self.digit_part(10);
        let mut is_float = self.at(0) == b'.';
        if is_float {
            self.i += 1;
            self.digit_part(10);
        }
        // An exponent needs digits; otherwise the `e` is left to `verify_end` (`1else`).
        if matches!(self.at(0), b'e' | b'E') {
            let sign = usize::from(matches!(self.at(1), b'+' | b'-'));
            if self.at(1 + sign).is_ascii_digit() {
                self.i += 1 + sign;
                self.digit_part(10);
                is_float = true;
            }
        }
        let imag = matches!(self.at(0), b'j' | b'J');
        if imag {
            self.i += 1;
        }
        self.verify_end()?;
        let text = self.text(start).replace('_', "");
        if imag {
            let f: f64 = text[..text.len() - 1].parse().map_err(|_| bad())?;
            return Ok(Value::Complex(0.0, f));
        }
        if is_float {
            return text.parse().map(Value::Float).map_err(|_| bad());
        }
        if text.starts_with('0') && text.bytes().any(|b| b != b'0') {
            return err("leading zeros in decimal integer literals are not permitted");
        }
        if text.len() > 4300 {
            return err("Exceeds the limit (4300 digits) for integer string conversion");
        }
        if let Ok(i) = text.parse() {
            return Ok(Value::Int(i));
        }
        BigInt::parse_bytes(text.as_bytes(), 10)
            .map(Value::from_bigint)
            .ok_or_else(bad)
    }

    /// A string literal from its opening quote, the prefix already read.
    fn string(&mut self, prefix: Prefix) -> PResult<StrTok> {
        let q = self.at(0);
        let quotes = if self.at(1) == q && self.at(2) == q {
            3
        } else {
            1
        };
        self.i += quotes;
        let start = self.i;
        loop {
            match self.at(0) {
                0 => return err("unterminated string literal"),
                b'\\' if self.at(1) == 0 => return err("unterminated string literal"),
                // The escaped byte may begin a multi-byte character: the scan stays on
                // bytes, which never match an ASCII quote inside one.
                b'\\' => self.i += 2,
                b'\n' if quotes == 1 => return err("unterminated string literal"),
                c if c == q && (quotes == 1 || (self.at(1) == q && self.at(2) == q)) => break,
                _ => self.i += 1,
            }
        }
        let body = self.text(start);
        self.i += quotes;
        let mut tok = StrTok {
            text: String::new(),
            bytes: None,
            fstring: prefix.f,
            u: prefix.u,
        };
        if prefix.f {
            check_fstring(body, prefix.r)?;
        } else if prefix.b {
            if !body.is_ascii() {
                return err("bytes can only contain ASCII literal characters");
            }
            tok.bytes = Some(if prefix.r {
                body.as_bytes().to_vec()
            } else {
                decode_escapes(body, true)?
                    .into_iter()
                    .map(|c| c as u8)
                    .collect()
            });
        } else if prefix.r || !body.contains('\\') {
            tok.text = body.to_owned();
        } else {
            tok.text = decode_escapes(body, false)?
                .into_iter()
                .map(|cp| {
                    char::from_u32(cp).ok_or(SyntaxError("surrogates are not supported".into()))
                })
                .collect::<PResult<_>>()?;
        }
        Ok(tok)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Prefix {
    r: bool,
    b: bool,
    f: bool,
    u: bool,
}

/// The string prefix spelled by a word (`r`, `u`, `b`, `f`, `br`, `rb`, `fr`, `rf`, in
/// any case), if any.
fn string_prefix(word: &str) -> Option<Prefix> {
    let lower = word.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "r" | "u" | "b" | "f" | "br" | "rb" | "fr" | "rf"
    )
    .then(|| Prefix {
        r: lower.contains('r'),
        b: lower.contains('b'),
        f: lower.contains('f'),
        u: lower == "u",
    })
}

fn hex_digits(body: &[char], i: usize, n: usize) -> Option<u32> {
    let digits = body.get(i..i + n)?;
    digits
        .iter()
        .try_fold(0, |v, c| Some(v * 16 + c.to_digit(16)?))
}

/// Decode backslash escapes (code points; bytes mode keeps `\u` etc. literal).
fn decode_escapes(body: &str, bytes: bool) -> PResult<Vec<u32>> {
    let body: Vec<char> = body.chars().collect();
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
            'x' => match hex_digits(&body, i, 2) {
                Some(v) => {
                    out.push(v);
                    i += 2;
                }
                None => return err("truncated \\xXX escape"),
            },
            'u' | 'U' if !bytes => {
                let n = if e == 'u' { 4 } else { 8 };
                match hex_digits(&body, i, n) {
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
fn check_fstring(body: &str, raw: bool) -> PResult<()> {
    let body: Vec<char> = body.chars().collect();
    if !raw {
        // Escapes in the literal parts must be valid.
        let literal: String = strip_fields(&body).into_iter().collect();
        decode_escapes(&literal, false)?;
    }
    check_fstring_fields(&body, 0)
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
    // fstring: star_expressions
    let mut p = Parser::tokenize(&format!("({src})"), Vec::new())?;
    let e = p.star_expressions()?;
    p.end_of_input(e).map(drop)
}

/// Parse `src` as `ast.parse(src, mode="eval").body`.
pub fn parse_eval(src: &str) -> PResult<Expr> {
    if src.contains('\0') {
        return err("source code string cannot contain null bytes");
    }
    let src = match src.contains('\r') {
        true => Cow::Owned(src.replace("\r\n", "\n").replace('\r', "\n")),
        false => Cow::Borrowed(src),
    };
    let toks = BUFFERS.try_with(|b| b.take()).unwrap_or_default();
    let mut p = Parser::tokenize(&src, toks)?;
    let result = p.expressions().and_then(|e| p.end_of_input(e));
    p.toks.clear();
    let _ = BUFFERS.try_with(|b| b.set(p.toks));
    result
}

thread_local! {
    /// The token buffer of the last input on this thread, kept for the next: allocating
    /// and freeing it per call made glibc consolidate its free lists each time.
    static BUFFERS: std::cell::Cell<Vec<Tok>> = const { std::cell::Cell::new(Vec::new()) };
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

/// The node of an atom that is one token: a name, number, keyword constant or `...`.
fn single_token_atom(tok: &Tok) -> Option<Expr> {
    Some(match tok {
        Tok::Name(n) => Expr::Name(n.clone()),
        Tok::Num(v) => Expr::Constant(v.clone(), false),
        Tok::Kw("True") => Expr::Constant(Value::Bool(true), false),
        Tok::Kw("False") => Expr::Constant(Value::Bool(false), false),
        Tok::Kw("None") => Expr::Constant(Value::None, false),
        Tok::Op("...") => Expr::Ellipsis,
        _ => return None,
    })
}

impl Parser {
    /// A parser on the tokens of `src`, appended to `toks` (an empty buffer).
    fn tokenize(src: &str, toks: Vec<Tok>) -> PResult<Parser> {
        let mut lexer = Lexer {
            src,
            i: 0,
            toks,
            depth: Vec::new(),
        };
        lexer.run()?;
        Ok(Parser {
            toks: lexer.toks,
            pos: 0,
            depth: 0,
        })
    }

    /// `e` if only newlines are left.
    fn end_of_input(&mut self, e: Expr) -> PResult<Expr> {
        while self.eat_newline() {}
        match self.peek() {
            Tok::End => Ok(e),
            _ => err("invalid syntax"),
        }
    }

    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).unwrap_or(&Tok::End)
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

    /// Steps past the next token where `hit` says it is the one wanted.
    fn eat(&mut self, hit: bool) -> bool {
        // A branch, not `pos += usize::from(hit)`: rustc 1.95's release build turns
        // `while self.eat_newline() {}` over that form into a loop that never advances.
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn eat_op(&mut self, op: &str) -> bool {
        self.eat(self.is_op(op))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        self.eat(self.is_kw(kw))
    }

    fn eat_newline(&mut self) -> bool {
        self.eat(matches!(self.peek(), Tok::Newline))
    }

    fn expect_op(&mut self, op: &str) -> PResult<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            err(format!("invalid syntax (expected '{op}')"))
        }
    }

    /// `rule` one nesting level deeper, refused past `MAX_DEPTH` as CPython's parser
    /// refuses deep nesting; the level is given back however `rule` ends.
    fn nested<T>(&mut self, rule: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            return err("too many nested parentheses");
        }
        self.depth += 1;
        let result = rule(self);
        self.depth -= 1;
        result
    }

    /// After an opening bracket: `rule` one level deeper.
    fn bracketed(&mut self, rule: fn(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        self.pos += 1;
        self.nested(rule)
    }

    /// `first (',' element)* [',']` as a tuple (`first` alone when no comma follows);
    /// `more` says whether an element follows a comma rather than the comma trailing.
    fn tuple_after(
        &mut self,
        first: Expr,
        more: fn(&Self) -> bool,
        element: fn(&mut Self) -> PResult<Expr>,
    ) -> PResult<Expr> {
        if !self.is_op(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_op(",") && more(self) {
            items.push(element(self)?);
        }
        Ok(Expr::Tuple(items))
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
        self.tuple_after(first, Self::starts_expr, Self::expression)
    }

    // star_expressions (for yield values and f-strings)
    fn star_expressions(&mut self) -> PResult<Expr> {
        let first = self.star_expression()?;
        let more = |p: &Self| p.starts_expr() || p.is_op("*");
        self.tuple_after(first, more, Self::star_expression)
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
        self.nested(Self::expression_inner)
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
        // The descent's first step is `nested`: where that fails, let it.
        if !ends || self.depth >= MAX_DEPTH {
            return None;
        }
        let e = match self.peek() {
            Tok::Str(t) if t.bytes.is_none() && !t.fstring => {
                Expr::Constant(Value::Str(t.text.clone()), t.u)
            }
            tok => single_token_atom(tok)?,
        };
        self.pos += 1;
        Some(e)
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
            if !self.is_op(":") {
                self.expect_op(",")?;
            }
            if self.is_op(":") {
                break;
            }
        }
        if seen_star && p.vararg.is_none() && p.kwonly.is_empty() {
            return err("named arguments must follow bare *");
        }
        Ok(p)
    }

    /// `operand (kw operand)*`: `or` over conjunctions, `and` over inversions.
    fn bool_chain(&mut self, kw: &str, operand: fn(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        let first = operand(self)?;
        if !self.is_kw(kw) {
            return Ok(first);
        }
        let mut vals = vec![first];
        while self.eat_kw(kw) {
            vals.push(operand(self)?);
        }
        Ok(Expr::BoolOp(kw == "and", vals))
    }

    fn disjunction(&mut self) -> PResult<Expr> {
        self.bool_chain("or", Self::conjunction)
    }

    fn conjunction(&mut self) -> PResult<Expr> {
        self.bool_chain("and", Self::inversion)
    }

    fn inversion(&mut self) -> PResult<Expr> {
        if self.eat_kw("not") {
            let v = self.nested(Self::inversion)?;
            return Ok(Expr::UnaryOp(UnOp::Not, Box::new(v)));
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
            let v = self.nested(Self::factor)?;
            return Ok(Expr::UnaryOp(op, Box::new(v)));
        }
        self.power()
    }

    fn power(&mut self) -> PResult<Expr> {
        let base = self.await_primary()?;
        if self.eat_op("**") {
            let exp = self.nested(Self::factor)?;
            return Ok(Expr::BinOp(Box::new(base), BinOp::Pow, Box::new(exp)));
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
            } else if self.eat_op("(") {
                e = self.nested(|p| p.call_args(e))?;
            } else if self.eat_op("[") {
                let s = self.nested(Self::slices)?;
                self.expect_op("]")?;
                e = Expr::Subscript(Box::new(e), Box::new(s));
            } else {
                return Ok(e);
            }
        }
    }

    fn slices(&mut self) -> PResult<Expr> {
        let first = self.slice_or_starred()?;
        if matches!(first, Expr::Starred(_)) && !self.is_op(",") {
            return Ok(Expr::Tuple(vec![first]));
        }
        self.tuple_after(first, |p| !p.is_op("]"), Self::slice_or_starred)
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
        let step = if self.eat_op(":") && !self.is_op(",") && !self.is_op("]") {
            Some(Box::new(self.expression()?))
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
        while !self.eat_op(")") {
            if self.eat_op("**") {
                keywords.push((None, self.expression()?));
                seen_dstar = true;
            } else if self.eat_op("*") {
                if seen_dstar {
                    return err("iterable argument unpacking follows keyword argument unpacking");
                }
                args.push(Expr::Starred(Box::new(self.expression()?)));
            } else if let (Tok::Name(_), Tok::Op("=")) = (self.peek(), self.peek_at(1)) {
                let n = self.name()?;
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
                    args.push(Expr::GeneratorExp(Box::new(e), gens));
                    continue;
                }
                args.push(e);
            }
            if !self.is_op(")") {
                self.expect_op(",")?;
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
            let is_async =
                self.eat(self.is_kw("async") && matches!(self.peek_at(1), Tok::Kw("for")));
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
        let more = |p: &Self| !p.is_kw("in") && !p.is_op("=");
        self.tuple_after(first, more, Self::star_target)
    }

    fn star_target(&mut self) -> PResult<Expr> {
        if self.eat_op("*") {
            if self.is_op("*") {
                return err("invalid syntax");
            }
            return Ok(Expr::Starred(Box::new(self.star_target()?)));
        }
        self.nested(Self::target_atom)
    }

    fn target_atom(&mut self) -> PResult<Expr> {
        // Parenthesised / bracketed target lists (without trailers).
        if self.is_op("(") || self.is_op("[") {
            let save = self.pos;
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
        // A `u` prefix marks the constant only on the first string of a concatenation.
        let u = matches!(self.peek(), Tok::Str(t) if t.u);
        while let Some(Tok::Str(t)) = self.toks.get(self.pos) {
            self.pos += 1;
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
        if let Some(e) = single_token_atom(self.peek()) {
            self.pos += 1;
            return Ok(e);
        }
        match self.peek() {
            Tok::Str(_) => self.strings(),
            Tok::Op("(") => self.bracketed(Self::paren),
            Tok::Op("[") => self.bracketed(Self::list),
            Tok::Op("{") => self.bracketed(Self::brace),
            _ => err("invalid syntax"),
        }
    }

    /// `first` followed by comprehension clauses up to `close`, when they follow.
    fn comprehension(&mut self, first: &Expr, close: &str) -> PResult<Option<Vec<Comprehension>>> {
        if !self.is_kw("for") && !self.is_kw("async") {
            return Ok(None);
        }
        if matches!(first, Expr::Starred(_)) {
            return err("iterable unpacking cannot be used in comprehension");
        }
        let gens = self.for_if_clauses()?;
        self.expect_op(close)?;
        Ok(Some(gens))
    }

    /// `first (',' item)* [','] close`: the items of a display after its first.
    fn items(&mut self, first: Expr, close: &str) -> PResult<Vec<Expr>> {
        let mut items = vec![first];
        while self.eat_op(",") && !self.is_op(close) {
            items.push(self.star_named_expression()?);
        }
        self.expect_op(close)?;
        Ok(items)
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
        if let Some(gens) = self.comprehension(&first, ")")? {
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
        self.items(first, ")").map(Expr::Tuple)
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
        if let Some(gens) = self.comprehension(&first, "]")? {
            return Ok(Expr::ListComp(Box::new(first), gens));
        }
        self.items(first, "]").map(Expr::List)
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
            if let Some(gens) = self.comprehension(&first, "}")? {
                return Ok(Expr::DictComp(Box::new(first), Box::new(v), gens));
            }
            return self.dict_rest(vec![(Some(first), v)]);
        }
        if let Some(gens) = self.comprehension(&first, "}")? {
            return Ok(Expr::SetComp(Box::new(first), gens));
        }
        self.items(first, "}").map(Expr::Set)
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
        assert!(KWLIST.iter().all(|kw| is_keyword(kw)));
        for word in ["match", "case", "_", "type", "print", "Nonee", "Tru", "x"] {
            assert!(!is_keyword(word), "{word}");
        }
    }

    /// (source, `ast.unparse` of its tree). Comprehension targets are parsed ahead and
    /// backed off from (the names survive); precedence climbing gives the per-level
    /// grammar's trees.
    #[rustfmt::skip]
    const ACCEPTS: &[(&str, &str)] = &[
        ("f(a=1, b='x')", "f(a=1, b='x')"),
        ("[x for (a).b in y]", "[x for a.b in y]"),
        ("[x for (a, b) in y]", "[x for a, b in y]"),
        ("[x for [a, (b)] in y if (a)]", "[x for [a, b] in y if a]"),
        ("f(k=g([v for (v) in w]), m=(n))", "f(k=g([v for v in w]), m=n)"),
        ("a.b.c(x=[1, 2.5, -3], y={'k': (1,)})", "a.b.c(x=[1, 2.5, -3], y={'k': (1,)})"),
        ("f(x for x in y)", "f((x for x in y))"),
        ("1_000 + 0x_1F + 0o17 + 0b1", "1000 + 31 + 15 + 1"),
        ("1e3", "1000.0"),
        ("1if 1else 2", "1 if 1 else 2"),
        ("\nf(a=1)\n", "f(a=1)"),
        ("f(a=1) # c", "f(a=1)"),
        ("lambda x, *, y=1: x", "lambda x, *, y=1: x"),
        ("(yield)", "(yield)"),
        ("u'x' 'y'", "u'xy'"),
        ("'a\\x41\\u00e9\\n'", "'aAé\\n'"),
        ("f(*a, b=1, **c)", "f(*a, b=1, **c)"),
        ("a[1:2, ::3]", "a[1:2, ::3]"),
        ("not a or b and c", "not a or (b and c)"),
        ("ｆ(ａ=1)", "f(a=1)"),
        ("[x async for x in y if x]", "[x async for x in y if x]"),
        ("f'{a!r:>{w}}' 'x'", "<unparsing f-strings is not supported>"),
        ("1e999", "1e309"),
        ("(a := 1)", "(a := 1)"),
        ("1 | 2 ^ 3 & 4 << 5 + 6 * 7", "1 | 2 ^ 3 & 4 << 5 + 6 * 7"),
        ("(1 | 2) * 3", "(1 | 2) * 3"),
        ("a - b - c", "a - b - c"),
        ("a - (b - c)", "a - (b - c)"),
        ("a // b % c @ d / e", "a // b % c @ d / e"),
        ("-a ** -b * c", "-a ** (-b) * c"),
        ("a>>b<<c", "a >> b << c"),
        ("x==y", "x == y"),
        ("x=={'k':(1,)}", "x == {'k': (1,)}"),
    ];

    #[test]
    fn accepts() {
        for &(src, unparsed) in ACCEPTS {
            assert_eq!(ok(src), unparsed, "{src:?}");
        }
    }

    #[test]
    fn rejects() {
        #[rustfmt::skip]
        let sources = [
            " f(a=1)", "f(a=1);", "f(a=1, b)", "01", "1__0", "1e", "0b12", "f(a.b=1)",
            "f(**k, *a)", "b'é'", "'a' b'b'", "f(a=1)\0", "f(x for x in y, 1)", "(*a)", "a, *b",
            "申し訳、", "f(a=1)\ng(b=2)", "f(a=1)\n  ", "'abc", "f(", ")", "x:=1", "1abc", "f'{}'",
            "f'{a\\n}'", "lambda *: 0", "'\\N{BULLET}'", "",
        ];
        for s in sources {
            bad(s);
        }
    }
}
