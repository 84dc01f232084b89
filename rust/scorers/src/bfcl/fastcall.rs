//! A one-pass decoder for the shape almost every model answer has:
//! `f(a=1, b="x"), pkg.g(c=[1.5, -2], d={"k": None})`.
//!
//! It reads the bytes once and builds the resolved [`Call`]s directly, with no token list
//! and no AST. It understands only a subset of Python on which the result is obvious:
//! dotted ASCII names; keyword arguments, after positional ones (which upstream drops);
//! values that are plain string literals (no prefix, no backslash, no control character),
//! decimal ints that fit in an `i64`, simple floats, an optional `-` directly before a
//! number, `True` / `False` / `None`, bare names (resolved to their text, as upstream
//! does), calls with keyword arguments (resolved to `{name: {param: value}}`) and lists /
//! dicts of those.
//!
//! Three outcomes ([`decode`]): the calls; a syntax error that is certain because the
//! input up to that point was read exactly as CPython's tokenizer and parser read it (an
//! unterminated string, a closing bracket that does not match, the end of the input inside
//! brackets, a token that cannot start a required expression); or `None` for anything
//! else, after which [`super::resolve::ast_parse_python`] runs the full tokenizer, parser
//! and resolver. So results and failures are upstream's in every case; proptests compare
//! this decoder with the full path on generated and mutated inputs.

use std::borrow::Cow;

use super::pyparse::is_keyword;
use super::resolve::{call_value, Call, DecodeError};
use super::value::{dict_insert, Value};

/// Containers nested deeper than this go to the full parser (which enforces CPython's
/// limits).
const MAX_DEPTH: usize = 32;

/// Why the fast decoder stopped.
enum Stop {
    /// Outside the subset: the full path decides.
    Unsure,
    /// CPython certainly raises `SyntaxError` on this input.
    Invalid(&'static str),
}

type Fx<T> = Result<T, Stop>;

fn unsure<T>() -> Fx<T> {
    Err(Stop::Unsure)
}

/// The calls of `src` (already stripped of `[`, `]` and `'` at both ends), a certain
/// decoding failure, or `None` when only the full parser can tell.
pub fn decode(src: &str) -> Option<Result<Vec<Call<'_>>, DecodeError>> {
    let mut p = Fast {
        src,
        s: src.as_bytes(),
        i: 0,
    };
    match p.calls() {
        Ok(calls) => Some(Ok(calls)),
        // The message is informative only (upstream reports one error type for all).
        Err(Stop::Invalid(why)) => Some(Err(DecodeError(why.to_owned()))),
        Err(Stop::Unsure) if has_certain_lexical_error(p.s) => Some(Err(DecodeError(
            "unbalanced brackets or unterminated string".to_owned(),
        ))),
        Err(Stop::Unsure) => None,
    }
}

/// Whether CPython 3.11's tokenizer certainly fails on `src`: a closing bracket with no
/// or another opening one, the end of the input inside brackets, or a string literal
/// that does not end. Only strings, comments and brackets are tracked, as the tokenizer
/// sees them (in 3.11 an f-string is one string token; a prefix never changes where a
/// literal ends, as a backslash escapes the next character in raw strings too). Any
/// tokenizer error fails `ast.parse`, wherever the parser would stop.
fn has_certain_lexical_error(src: &[u8]) -> bool {
    let mut brackets: Vec<u8> = Vec::new();
    let mut i = 0;
    while let Some(&b) = src.get(i) {
        i += 1;
        match b {
            b'(' | b'[' | b'{' => brackets.push(b),
            b')' | b']' | b'}' => {
                let open = match b {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                if brackets.pop() != Some(open) {
                    return true;
                }
            }
            b'#' => {
                while !matches!(src.get(i), None | Some(b'\n' | b'\r')) {
                    i += 1;
                }
            }
            b'\'' | b'"' => match string_end(src, i - 1) {
                Some(end) => i = end,
                None => return true,
            },
            _ => {}
        }
    }
    !brackets.is_empty()
}

/// The index after the string literal whose opening quote is at `start`, or `None`
/// when it never ends (a newline in a single-quoted one, or the end of the input).
fn string_end(src: &[u8], start: usize) -> Option<usize> {
    let quote = *src.get(start)?;
    let triple = src.get(start + 1) == Some(&quote) && src.get(start + 2) == Some(&quote);
    let mut i = if triple { start + 3 } else { start + 1 };
    loop {
        let b = *src.get(i)?;
        i += 1;
        match b {
            // An escaped CRLF is one escaped newline once CPython has normalised it.
            b'\\' => {
                i += if src.get(i..i + 2) == Some(b"\r\n") {
                    2
                } else {
                    1
                };
            }
            b'\n' | b'\r' if !triple => return None,
            b if b == quote => {
                if !triple {
                    return Some(i);
                }
                if src.get(i) == Some(&quote) && src.get(i + 1) == Some(&quote) {
                    return Some(i + 2);
                }
            }
            _ => {}
        }
    }
}

struct Fast<'a> {
    src: &'a str,
    /// `src` as bytes: every position the decoder stops at is an ASCII byte or the end,
    /// so slicing `src` there is on a character boundary.
    s: &'a [u8],
    i: usize,
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

/// `[A-Za-z0-9_]`, as a table: the identifier scan is the decoder's hottest loop.
static NAME_CONTINUE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_';
        b += 1;
    }
    t
};

fn is_name_continue(b: u8) -> bool {
    NAME_CONTINUE[usize::from(b)]
}

/// A byte that can never start an expression, where one is required.
/// Punctuation that is no identifier character, composes with nothing, and whose NFKC
/// form is not one either (、。「」『』【】… and full-width ！（），：？).
fn is_prose_punctuation(c: char) -> bool {
    matches!(
        c,
        '\u{3001}' | '\u{3002}' | '\u{300C}'
            ..='\u{300F}'
                | '\u{3010}'
                | '\u{3011}'
                | '\u{2026}'
                | '\u{FF01}'
                | '\u{FF08}'
                | '\u{FF09}'
                | '\u{FF0C}'
                | '\u{FF1A}'
                | '\u{FF1F}'
    )
}

/// After a top-level name: bytes that make the expression anything but a call.
fn is_top_level_non_call(b: u8) -> bool {
    matches!(
        b,
        b',' | b'='
            | b'+'
            | b'-'
            | b'*'
            | b'/'
            | b'%'
            | b'@'
            | b'<'
            | b'>'
            | b'|'
            | b'&'
            | b'^'
            | b'!'
            | b':'
    )
}

fn cannot_start_expression(b: u8) -> bool {
    matches!(b, b',' | b')' | b']' | b'}' | b':' | b'=')
}

impl<'a> Fast<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// The next byte inside brackets: the end of the input there is a certain error.
    fn peek_inside(&self) -> Fx<u8> {
        self.peek()
            .ok_or(Stop::Invalid("unexpected EOF: a bracket was never closed"))
    }

    /// The top level: `call (',' call)* [',']`. A single call and a tuple of calls give
    /// the same list.
    fn calls(&mut self) -> Fx<Vec<Call<'a>>> {
        match self.peek() {
            None => return Err(Stop::Invalid("unexpected EOF")),
            // Indentation before the first line: an IndentationError unless the line is
            // blank, a comment or continued.
            Some(b' ' | b'\t') => {
                while matches!(self.peek(), Some(b' ' | b'\t')) {
                    self.i += 1;
                }
                return match self.peek() {
                    Some(b'#' | b'\n' | b'\r' | b'\\' | b'\x0c') => unsure(),
                    _ => Err(Stop::Invalid("unexpected indent")),
                };
            }
            // A dict (the JSON tool-call form) is not a call and has no `.elts`.
            Some(b'{') => {
                self.value(1)?;
                self.skip_spaces();
                return match self.peek() {
                    None => Err(Stop::Invalid("a dict is not a function call")),
                    Some(_) => unsure(),
                };
            }
            Some(_) => {}
        }
        let mut calls = Vec::with_capacity(1);
        loop {
            // A leading space is an IndentationError: the first byte must start a name.
            calls.push(self.top_call()?);
            self.skip_spaces();
            match self.peek() {
                None => return Ok(calls),
                Some(b',') => {
                    self.i += 1;
                    self.skip_spaces();
                    if self.peek().is_none() {
                        return Ok(calls); // `f(),` is a one-element tuple
                    }
                }
                Some(b')' | b']' | b'}') => return Err(Stop::Invalid("unmatched closing bracket")),
                Some(_) => return unsure(),
            }
        }
    }

    /// A call at the top level. A name followed by something that cannot continue it
    /// into a call fails: another name (prose: `Sorry I cannot ...`), a second line, or an
    /// operator, `,` or `=` (the result would be an assignment, a comparison or an
    /// operation, or a tuple holding a name: never a call or a tuple of calls).
    fn top_call(&mut self) -> Fx<Call<'a>> {
        let start = self.i;
        self.name()?;
        match self.peek() {
            Some(b' ') => {
                self.skip_spaces();
                match self.peek() {
                    Some(b) if is_name_start(b) => {
                        self.reject_name()?;
                        unsure()
                    }
                    Some(b) if is_top_level_non_call(b) => {
                        Err(Stop::Invalid("invalid syntax: not a call"))
                    }
                    _ => unsure(),
                }
            }
            Some(b'\n') => {
                self.skip_ws();
                match self.peek() {
                    Some(b) if is_name_start(b) || b.is_ascii_digit() => {
                        Err(Stop::Invalid("invalid syntax: a second line"))
                    }
                    _ => unsure(),
                }
            }
            Some(b) if is_top_level_non_call(b) => Err(Stop::Invalid("invalid syntax: not a call")),
            _ => {
                self.i = start;
                self.call()
            }
        }
    }

    /// Spaces between tokens outside brackets (a newline there ends the logical line).
    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    /// Whitespace between tokens inside brackets, where newlines and tabs are free too.
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\t')) {
            self.i += 1;
        }
    }

    /// An ASCII identifier (or keyword). A non-ASCII character in it goes to the full
    /// parser (NFKC, XID tables), unless the run holds prose punctuation (below).
    fn word(&mut self) -> Fx<&'a str> {
        let start = self.i;
        match self.peek() {
            Some(b) if is_name_start(b) => {}
            Some(b) if b >= 0x80 => return self.non_ascii_word(start),
            _ => return unsure(),
        }
        let rest = self.s.get(start + 1..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| !is_name_continue(b))
            .unwrap_or(rest.len());
        self.i = start + 1 + len;
        if self.peek().is_some_and(|b| b >= 0x80) {
            return self.non_ascii_word(start);
        }
        self.src.get(start..self.i).ok_or(Stop::Unsure)
    }

    /// CPython's tokenizer reads `[A-Za-z0-9_]` and every non-ASCII character as one
    /// potential identifier, then rejects it if its NFKC form is not an identifier. Japanese
    /// prose (`申し訳ありませんが、…`) is such a run: a character that is no identifier
    /// character and whose NFKC form is none either makes the error certain.
    fn non_ascii_word(&mut self, start: usize) -> Fx<&'a str> {
        // One pass over the run, stopping at the first prose punctuation.
        for c in self.src.get(start..).unwrap_or_default().chars() {
            if c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '_') {
                break;
            }
            if is_prose_punctuation(c) {
                return Err(Stop::Invalid("invalid character in identifier"));
            }
        }
        unsure()
    }

    /// An ASCII identifier that is not a keyword.
    fn name(&mut self) -> Fx<&'a str> {
        let word = self.word()?;
        if is_keyword(word.as_bytes()) {
            return unsure();
        }
        Ok(word)
    }

    /// `name ('.' name)* '(' arguments ')'`, resolved like `resolve_ast_call`: positional
    /// arguments are read and dropped, keyword arguments kept.
    fn call(&mut self) -> Fx<Call<'a>> {
        // A dotted name is one stretch of the input: `name` reads from the cursor on.
        let start = self.i;
        self.name()?;
        while self.peek() == Some(b'.') {
            self.i += 1;
            self.name()?;
        }
        let name = self.src.get(start..self.i).ok_or(Stop::Unsure)?;
        if self.peek() != Some(b'(') {
            return unsure();
        }
        self.i += 1;
        let mut args: Vec<(Option<Cow<'a, str>>, Value)> = Vec::new();
        self.skip_ws();
        while self.peek_inside()? != b')' {
            let keyword = self.keyword_name();
            let Some(key) = keyword else {
                if !args.is_empty() {
                    return self.positional_after_keyword();
                }
                self.value(1)?;
                if !self.separator(b')')? {
                    break;
                }
                continue;
            };
            let value = self.value(1)?;
            // A repeated keyword keeps its first position and takes the last value.
            match args.iter_mut().find(|(k, _)| k.as_deref() == Some(key)) {
                Some(slot) => slot.1 = value,
                None => args.push((Some(Cow::Borrowed(key)), value)),
            }
            if !self.separator(b')')? {
                break;
            }
        }
        self.i += 1; // `)`
        Ok(Call {
            name: Cow::Borrowed(name),
            args,
        })
    }

    /// After a keyword argument, an argument that is not `name=...`: a SyntaxError
    /// ("positional argument follows keyword argument") unless it is `*x` / `**x`, a
    /// non-ASCII keyword name, or a comment or line continuation follows.
    fn positional_after_keyword(&mut self) -> Fx<Call<'a>> {
        match self.peek_inside()? {
            b'0'..=b'9' | b'\'' | b'"' | b'[' | b'{' | b'(' | b'-' | b'+' | b'~' | b'.' => Err(
                Stop::Invalid("positional argument follows keyword argument"),
            ),
            b if is_name_start(b) => {
                // `keyword_name` failed: an ASCII word not followed by `=`, or a keyword;
                // unless a comment, a line continuation or `\r` / `\x0c` (whitespace to
                // CPython) hides what follows.
                self.word()?;
                self.skip_ws();
                if self
                    .peek()
                    .is_some_and(|b| matches!(b, b'#' | b'\\' | b'\r' | b'\x0c') || b >= 0x80)
                {
                    return unsure();
                }
                Err(Stop::Invalid(
                    "positional argument follows keyword argument",
                ))
            }
            _ => unsure(),
        }
    }

    /// `name =` (not `==`) at the cursor: consumes it and returns the name; otherwise
    /// leaves the cursor where it was.
    fn keyword_name(&mut self) -> Option<&'a str> {
        let start = self.i;
        let found = self.name().ok().and_then(|key| {
            self.skip_ws();
            (self.peek() == Some(b'=') && self.s.get(self.i + 1) != Some(&b'=')).then_some(key)
        });
        match found {
            Some(key) => {
                self.i += 1;
                self.skip_ws();
                Some(key)
            }
            None => {
                self.i = start;
                None
            }
        }
    }

    /// After an element: skips `,` (and whitespace). `true` when another element may
    /// follow, `false` at `close` (not consumed).
    fn separator(&mut self, close: u8) -> Fx<bool> {
        self.skip_ws();
        match self.peek_inside()? {
            b',' => {
                self.i += 1;
                self.skip_ws();
                let next = self.peek_inside()?;
                if next == close {
                    Ok(false)
                } else if cannot_start_expression(next) {
                    Err(Stop::Invalid("invalid syntax"))
                } else {
                    Ok(true)
                }
            }
            b if b == close => Ok(false),
            b')' | b']' | b'}' => Err(Stop::Invalid("closing bracket does not match")),
            b if is_name_start(b) => {
                self.reject_name()?;
                unsure()
            }
            _ => unsure(),
        }
    }

    fn value(&mut self, depth: usize) -> Fx<Value> {
        if depth > MAX_DEPTH {
            return unsure();
        }
        match self.peek_inside()? {
            q @ (b'"' | b'\'') => self.string(q),
            b'0'..=b'9' => self.number(false),
            // Upstream resolves any unary operator on a constant as `-value`.
            b'-' | b'+' | b'~' => {
                self.i += 1;
                if !self.peek_inside()?.is_ascii_digit() {
                    return unsure();
                }
                self.number(true)
            }
            b'(' => {
                self.i += 1;
                self.skip_ws();
                let mut items = Vec::new();
                let mut trailing_comma = false;
                while self.peek_inside()? != b')' {
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    trailing_comma = self.peek_inside()? == b',';
                    if !self.separator(b')')? {
                        break;
                    }
                }
                self.i += 1;
                if items.len() == 1 && !trailing_comma {
                    // `(x)` is `x`.
                    return items.pop().ok_or(Stop::Unsure);
                }
                Ok(Value::Tuple(items))
            }
            b'[' => {
                self.i += 1;
                self.skip_ws();
                let mut items = Vec::new();
                while self.peek_inside()? != b']' {
                    items.push(self.value(depth + 1)?);
                    if !self.separator(b']')? {
                        break;
                    }
                }
                self.i += 1;
                Ok(Value::List(items))
            }
            b'{' => {
                self.i += 1;
                self.skip_ws();
                let mut items: Vec<(Value, Value)> = Vec::new();
                while self.peek_inside()? != b'}' {
                    let key = self.value(depth + 1)?;
                    if !key.hashable() {
                        return unsure();
                    }
                    self.skip_ws();
                    if self.peek_inside()? != b':' {
                        return unsure(); // a set, or `**mapping`
                    }
                    self.i += 1;
                    self.skip_ws();
                    let value = self.value(depth + 1)?;
                    dict_insert(&mut items, key, value);
                    if !self.separator(b'}')? {
                        break;
                    }
                }
                self.i += 1;
                Ok(Value::Dict(items))
            }
            b if cannot_start_expression(b) => Err(Stop::Invalid("expected an expression")),
            _ => {
                let start = self.i;
                let word = self.word()?;
                match word {
                    "True" => return Ok(Value::Bool(true)),
                    "False" => return Ok(Value::Bool(false)),
                    "None" => return Ok(Value::None),
                    "not" => return self.not_constant(),
                    _ if is_keyword(word.as_bytes()) => return unsure(),
                    _ => {}
                }
                if matches!(self.peek(), Some(b'(' | b'.')) {
                    self.i = start;
                    let call = self.call()?;
                    if call.args.is_empty() {
                        return unsure(); // upstream takes `ast.unparse` of the call
                    }
                    return Ok(call_value(call));
                }
                self.reject_second_name()?;
                // A bare name resolves to its text. A subscript or string prefix after it
                // fails the caller's separator check.
                Ok(Value::Str(word.to_owned()))
            }
        }
    }

    /// After a name: another name (not a keyword) is a certain syntax error, as no Python
    /// expression has two names in a row (the soft keywords only start statements).
    fn reject_second_name(&mut self) -> Fx<()> {
        let after = self.i;
        self.skip_ws();
        if self.i > after && self.peek().is_some_and(is_name_start) {
            self.reject_name()?;
        }
        self.i = after;
        Ok(())
    }

    /// At a name right after a complete value: a certain syntax error when it is an ASCII
    /// name that is no keyword (`if`, `in`, `for`, ... continue an expression) and no
    /// string prefix (`'a' f'b'` concatenates). Otherwise `Ok` (the caller decides).
    fn reject_name(&mut self) -> Fx<()> {
        let start = self.i;
        let is_name = self.name().is_ok();
        let before_quote = matches!(self.peek(), Some(b'\'' | b'"'));
        self.i = start;
        if is_name && !before_quote {
            return Err(Stop::Invalid("invalid syntax: a name right after a value"));
        }
        Ok(())
    }

    /// After `not`: a number or `True` / `False`, which upstream resolves as `-value`
    /// (`not 1` is `-1`, `not True` is `-1`).
    fn not_constant(&mut self) -> Fx<Value> {
        if !matches!(self.peek(), Some(b' ' | b'\n' | b'\t')) {
            return unsure();
        }
        self.skip_ws();
        match self.peek_inside()? {
            b'0'..=b'9' => self.number(true),
            b if is_name_start(b) => match self.word()? {
                "True" => Ok(Value::Int(-1)),
                "False" => Ok(Value::Int(0)),
                _ => unsure(),
            },
            _ => unsure(),
        }
    }

    /// A string literal without prefix, escapes, control characters or triple quotes.
    fn string(&mut self, quote: u8) -> Fx<Value> {
        let start = self.i + 1;
        let rest = self.s.get(start..).unwrap_or_default();
        let Some(len) = rest
            .iter()
            .position(|&b| b == quote || b == b'\\' || b < 0x20)
        else {
            return Err(Stop::Invalid("unterminated string literal"));
        };
        match rest.get(len) {
            Some(&b) if b == quote => {}
            Some(b'\n') => return Err(Stop::Invalid("unterminated string literal")),
            _ => return unsure(),
        }
        let end = start + len;
        if len == 0 && self.s.get(end + 1) == Some(&quote) {
            return unsure(); // `'''` or `"""`
        }
        self.i = end + 1;
        let text = self.src.get(start..end).ok_or(Stop::Unsure)?;
        Ok(Value::Str(text.to_owned()))
    }

    /// `0x…` / `0o…` / `0b…` (the cursor at the radix letter): an `i64` of at most 15 hex,
    /// 20 octal or 60 binary digits, no underscores.
    fn radix_int(&mut self, radix: u32, negative: bool) -> Fx<Value> {
        self.i += 1;
        let start = self.i;
        while self.peek().is_some_and(|b| char::from(b).is_digit(radix)) {
            self.i += 1;
        }
        let len = self.i - start;
        let max = match radix {
            16 => 15,
            8 => 20,
            _ => 60,
        };
        if len == 0
            || len > max
            || self
                .peek()
                .is_some_and(|b| is_name_continue(b) || b == b'.' || b >= 0x80)
        {
            return unsure();
        }
        let text = self.src.get(start..self.i).ok_or(Stop::Unsure)?;
        let n = i64::from_str_radix(text, radix).map_err(|_| Stop::Unsure)?;
        Ok(Value::Int(if negative { -n } else { n }))
    }

    /// `0`, `[1-9][0-9]*` (an `i64`), or a float `int.digits[e[+-]digits]` /
    /// `int e[+-]digits`. Anything that continues the literal (`1_0`, `0x1`, `1j`, `1.`,
    /// `1.5.real`, `01`) goes to the full parser.
    fn number(&mut self, negative: bool) -> Fx<Value> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let from = p.i;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.i += 1;
            }
            p.i - from
        };
        let int_len = digits(self);
        if int_len == 1 && self.s.get(start) == Some(&b'0') {
            let radix = match self.peek() {
                Some(b'x' | b'X') => 16,
                Some(b'o' | b'O') => 8,
                Some(b'b' | b'B') => 2,
                _ => 0,
            };
            if radix != 0 {
                return self.radix_int(radix, negative);
            }
        }
        if int_len > 1 && self.s.get(start) == Some(&b'0') {
            return unsure();
        }
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return unsure();
            }
            is_float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return unsure();
            }
            is_float = true;
        }
        if self
            .peek()
            .is_some_and(|b| is_name_continue(b) || b == b'.' || b >= 0x80)
        {
            return unsure();
        }
        let text = self.src.get(start..self.i).ok_or(Stop::Unsure)?;
        if is_float {
            let f: f64 = text.parse().map_err(|_| Stop::Unsure)?;
            Ok(Value::Float(if negative { -f } else { f }))
        } else {
            if int_len > 18 {
                return unsure(); // may not fit in an i64: the full path makes a big int
            }
            let n: i64 = text.parse().map_err(|_| Stop::Unsure)?;
            Ok(Value::Int(if negative { -n } else { n }))
        }
    }
}
