//! fuzzywuzzy 0.18.0 `fuzz.token_sort_ratio` with the python-Levenshtein backend.
//!
//! ```text
//! full_process(s, force_ascii=True):
//!     s.translate({0x80..=0xFF: None})        # asciidammit
//!     re.sub(r"(?ui)\W", " ", s).lower().strip()
//! _process_and_sort(s) = " ".join(sorted(full_process(s).split())).strip()
//! ratio(a, b): a == b -> 100; empty -> 0; else int(round(100 * Levenshtein.ratio(a, b)))
//! Levenshtein.ratio = rapidfuzz Indel normalized similarity = 1.0 - dist / (len(a) + len(b))
//! ```
//! Lengths and distances are over code points. The indel distance is
//! `len(a) + len(b) - 2 * LCS(a, b)`, with the LCS length computed by the bit-parallel
//! algorithm of Allison-Dix / Hyyrö (`V' = (V + (V & M)) | (V & !M)`), multi-word.
//!
//! [`Scratch`] is the fast path; it never builds a `String`. It reads a string in
//! CPython's own storage form ([`CodePoints`]: one, two or four bytes per code point).
//! After the U+0080..U+00FF removal and the `\W` → space replacement, `strip().split()`
//! yields exactly the maximal runs of `\w` characters (no `\w` character is whitespace and
//! `lower()` never produces whitespace). So one branch-free pass, with one lookup per code
//! point in a 128 KiB table built on first use from the CPython tables of [`pystr`] (or,
//! for one-byte strings, eight ASCII bytes per step in a `u64`), writes the lowered code
//! points into a reused buffer (0 for `\W`) and keeps a bit mask of the word positions,
//! 64 at a time; the runs start and end where that mask changes. A single run is the
//! result as it is; several are sorted (by a key of their first three code points, then
//! the rest) and joined with spaces. Code points the table does not cover (U+0080..U+00FF,
//! above the BMP, multi-code-point `lower()`, lone surrogates) send the string through a
//! general loop, and one holding U+03A3, whose `lower()` depends on its neighbours,
//! through the `String` path of [`process_and_sort`]. The LCS skips the common prefix and
//! suffix and keeps its match masks in reused tables (a row per distinct code point); a
//! pattern of up to 128 code points runs on one u128.

use std::cell::Cell;
use std::sync::OnceLock;

use crate::pystr::{self, WordLower};

/// `fuzzywuzzy.utils.full_process(s, force_ascii=True)`.
pub fn full_process(s: &str) -> String {
    let kept = s.chars().filter(|&c| !('\u{80}'..='\u{FF}').contains(&c));
    let lowered = if s.contains('\u{03A3}') {
        // Final sigma depends on the neighbours after the \W replacement: two passes.
        let replaced: String = kept
            .map(|c| if pystr::is_word(c) { c } else { ' ' })
            .collect();
        pystr::lower(&replaced)
    } else {
        // Without U+03A3, lower() is a per-character map: one pass.
        let mut out = String::with_capacity(s.len());
        for c in kept {
            if !pystr::is_word(c) {
                out.push(' ');
            } else if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                pystr::push_lower_char(&mut out, c);
            }
        }
        out
    };
    match pystr::strip(&lowered) {
        t if t.len() == lowered.len() => lowered,
        t => t.to_owned(),
    }
}

/// `fuzzywuzzy.fuzz._process_and_sort(s, force_ascii=True)` (the `String` reference path).
pub fn process_and_sort(s: &str) -> String {
    let processed = full_process(s);
    let mut tokens: Vec<&str> = pystr::split_whitespace(&processed).collect();
    // Python compares str by code point; UTF-8 byte order is the same order.
    tokens.sort_unstable();
    let joined = tokens.join(" ");
    pystr::strip(&joined).to_owned()
}

/// A code point that is not a Unicode scalar value (a lone surrogate), at `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidCodePoint {
    pub index: usize,
    pub code_point: u32,
}

impl std::fmt::Display for InvalidCodePoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "lone surrogate U+{:04X} at index {}",
            self.code_point, self.index
        )
    }
}

impl std::error::Error for InvalidCodePoint {}

const SPACE: u32 = b' ' as u32;

/// The code points of a string as CPython stores them: one, two or four bytes each
/// (the narrowest that holds its largest code point). Lone surrogates can occur in the
/// two- and four-byte forms; the scorer rejects them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodePoints<'a> {
    Latin1(&'a [u8]),
    Ucs2(&'a [u16]),
    Ucs4(&'a [u32]),
}

impl CodePoints<'_> {
    fn first_invalid(self) -> Option<InvalidCodePoint> {
        fn first<U: Unit>(units: &[U]) -> Option<InvalidCodePoint> {
            let index = units
                .iter()
                .position(|&u| char::from_u32(u.into()).is_none())?;
            let code_point = units.get(index).map_or(0, |&u| u.into());
            Some(InvalidCodePoint { index, code_point })
        }
        match self {
            Self::Latin1(_) => None,
            Self::Ucs2(units) => first(units),
            Self::Ucs4(units) => first(units),
        }
    }
}

/// Copies of many strings in their storage forms, back to back per form: a batch takes
/// them with the GIL and scores them without it, touching no Python object meanwhile.
/// String `i` is [`Self::get`]`(i)`.
#[derive(Default)]
pub struct CodePointsBuffer {
    latin1: Vec<u8>,
    ucs2: Vec<u16>,
    ucs4: Vec<u32>,
    /// Per string: its form (1, 2 or 4 bytes per code point) and its range in that
    /// form's buffer.
    spans: Vec<(u8, std::ops::Range<usize>)>,
}

impl CodePointsBuffer {
    pub fn clear(&mut self) {
        self.latin1.clear();
        self.ucs2.clear();
        self.ucs4.clear();
        self.spans.clear();
    }

    pub fn push(&mut self, cps: CodePoints<'_>) {
        fn append<U: Copy>(to: &mut Vec<U>, units: &[U]) -> std::ops::Range<usize> {
            let start = to.len();
            to.extend_from_slice(units);
            start..to.len()
        }
        let span = match cps {
            CodePoints::Latin1(units) => (1, append(&mut self.latin1, units)),
            CodePoints::Ucs2(units) => (2, append(&mut self.ucs2, units)),
            CodePoints::Ucs4(units) => (4, append(&mut self.ucs4, units)),
        };
        self.spans.push(span);
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// String `i` (empty past the end).
    pub fn get(&self, i: usize) -> CodePoints<'_> {
        match self.spans.get(i) {
            Some((1, r)) => CodePoints::Latin1(self.latin1.get(r.clone()).unwrap_or_default()),
            Some((2, r)) => CodePoints::Ucs2(self.ucs2.get(r.clone()).unwrap_or_default()),
            Some((_, r)) => CodePoints::Ucs4(self.ucs4.get(r.clone()).unwrap_or_default()),
            None => CodePoints::Latin1(&[]),
        }
    }
}

/// One storage unit of a [`CodePoints`]. Two- and four-byte units map through
/// [`bmp_table`]; one-byte units take a SWAR path (see [`ascii_words`]).
trait Unit: Copy + Into<u32> {
    /// Writes the lowered code points of `block` (at most 64 units) to the front of `out`
    /// (64 long), 0 for `\W`, and returns the mask of the word positions plus a value
    /// with bit 16 or above set when some unit has no plain [`bmp_table`] entry (the
    /// output is then garbage and the general path must run).
    #[inline(always)]
    fn map_block(block: &[Self], out: &mut [u32], table: &[u16; 0x1_0000]) -> (u64, u32) {
        let mut word = 0u64;
        // Bit 16 or above ends up set for a code point above the BMP or an entry of
        // SPECIAL (0xFFFF + 1); never for a plain entry.
        let mut special = 0u32;
        for (j, (&unit, o)) in block.iter().zip(out.iter_mut()).enumerate() {
            let cp: u32 = unit.into();
            let lowered = u32::from(table[(cp & 0xFFFF) as usize]);
            special |= cp | (lowered + 1);
            *o = lowered;
            word |= u64::from(lowered != 0) << j;
        }
        (word, special)
    }
}

impl Unit for u16 {}

impl Unit for u32 {}

impl Unit for u8 {
    /// Eight bytes at a time; any byte from 0x80 (removed by `full_process`, not a
    /// separator) is left to the general path.
    #[inline(always)]
    fn map_block(block: &[u8], out: &mut [u32], _table: &[u16; 0x1_0000]) -> (u64, u32) {
        let mut word = 0u64;
        let mut seen = 0u64;
        let mut put = |k: usize, bytes: [u8; 8]| {
            let x = u64::from_le_bytes(bytes);
            seen |= x;
            let (lowered, mask) = ascii_words(x);
            if let Some(o) = out.get_mut(8 * k..8 * k + 8) {
                for (j, o) in o.iter_mut().enumerate() {
                    *o = u32::from((lowered >> (8 * j)) as u8);
                }
            }
            word |= mask << (8 * k);
        };
        let chunks = block.chunks_exact(8);
        let rest = chunks.remainder();
        let full = block.len() / 8;
        for (k, chunk) in chunks.enumerate() {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(chunk);
            put(k, bytes);
        }
        if !rest.is_empty() {
            // Zero bytes past the end: separators, as the caller expects. Assembled in a
            // register: a short copy into a stack array read back as one u64 stalls on
            // store forwarding (a seventh of the time of a one-letter pair).
            let tail = rest
                .iter()
                .rev()
                .fold(0u64, |x, &b| (x << 8) | u64::from(b));
            put(full, tail.to_le_bytes());
        }
        let non_ascii = seen & 0x8080_8080_8080_8080 != 0;
        (word, u32::from(non_ascii) << 16)
    }
}

/// For eight ASCII bytes (little-endian in `x`): the bytes lowered, 0 for `\W`, and the
/// 8-bit mask of the `\w` ones (`[0-9A-Za-z_]`). Garbage when a byte is 0x80 or above.
#[inline(always)]
fn ascii_words(x: u64) -> (u64, u64) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // High bit of each byte set where `lo <= byte <= hi`: for bytes below 0x80 neither
    // sum carries into the next byte.
    let in_range = |lo: u8, hi: u8| {
        let at_least_lo = x.wrapping_add(u64::from(0x80 - lo) * ONES);
        let above_hi = x.wrapping_add(u64::from(0x7F - hi) * ONES);
        at_least_lo & !above_hi & HIGH
    };
    let upper = in_range(b'A', b'Z');
    let word = upper | in_range(b'a', b'z') | in_range(b'0', b'9') | in_range(b'_', b'_');
    let word_bytes = (word >> 7) * 0xFF;
    // Upper case gains 0x20: the high bit moved down two places.
    let lowered = (x | (upper >> 2)) & word_bytes;
    // Gathers the low bit of byte i into bit 56 + i (no two partial products overlap).
    let mask = (word >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
    (lowered, mask)
}

/// [`bmp_table`] entry of a code point that needs the full treatment.
const SPECIAL: u16 = u16::MAX;

/// For every BMP code point as `full_process` sees it: 0 for `\W`, the lowered code
/// point for `\w` with a one-code-point BMP `lower()`, and [`SPECIAL`] for U+0080..U+00FF
/// (removed), surrogates, U+03A3 and longer mappings. 128 KiB, built on first use.
static BMP_TABLE: OnceLock<Box<[u16; 0x1_0000]>> = OnceLock::new();

fn bmp_table() -> &'static [u16; 0x1_0000] {
    BMP_TABLE.get_or_init(|| {
        // Built on the heap: 128 KiB would be a lot for a small thread stack.
        let entries: Box<[u16]> = (0..=0xFFFFu32).map(bmp_entry).collect();
        entries
            .try_into()
            .unwrap_or_else(|_| Box::new([SPECIAL; 0x1_0000])) // unreachable: 65,536 entries
    })
}

fn bmp_entry(cp: u32) -> u16 {
    if cp.wrapping_sub(0x80) < 0x80 {
        return SPECIAL;
    }
    let Some(c) = char::from_u32(cp) else {
        return SPECIAL; // a surrogate
    };
    match pystr::word_lower(c) {
        WordLower::NotWord => 0,
        WordLower::Unchanged => u16::try_from(cp).unwrap_or(SPECIAL),
        WordLower::Mapped(_) if c == '\u{03A3}' => SPECIAL,
        WordLower::Mapped(m) => {
            let mut chars = m.chars();
            match (chars.next(), chars.next()) {
                (Some(l), None) => u16::try_from(u32::from(l))
                    .ok()
                    .filter(|&l| l != SPECIAL)
                    .unwrap_or(SPECIAL),
                _ => SPECIAL,
            }
        }
    }
}

/// One string after `_process_and_sort`, as code points. The buffers only grow.
#[derive(Default)]
struct Processor {
    /// The lowered `\w` runs: in place over the input on the fast path (separators as
    /// 0), back to back on the general one.
    buf: Vec<u32>,
    /// Run `k` is `buf[run_start[k]..run_end[k]]`.
    run_start: Vec<u32>,
    run_end: Vec<u32>,
    runs: usize,
    /// (sort key, start, end) of each run, for sorting.
    tokens: Vec<(u64, u32, u32)>,
    /// `" ".join(sorted(runs))` when there are several runs.
    joined: Vec<u32>,
    use_joined: bool,
}

impl Processor {
    /// `_process_and_sort` of `input`, into [`Self::output`].
    fn process(&mut self, input: CodePoints<'_>) -> Result<(), InvalidCodePoint> {
        match input {
            CodePoints::Latin1(units) => self.process_units(units),
            CodePoints::Ucs2(units) => self.process_units(units),
            CodePoints::Ucs4(units) => self.process_units(units),
        }
    }

    fn process_units<U: Unit>(&mut self, input: &[U]) -> Result<(), InvalidCodePoint> {
        self.use_joined = false;
        if !self.tokenize(input)? {
            return self.process_with_sigma(input);
        }
        if self.runs > 1 {
            self.sort_join();
        }
        Ok(())
    }

    fn output(&self) -> &[u32] {
        if self.use_joined {
            &self.joined
        } else if self.runs == 1 {
            self.run(0)
        } else {
            &[]
        }
    }

    fn run(&self, k: usize) -> &[u32] {
        let start = self.run_start.get(k).map_or(0, |&s| s as usize);
        let end = self.run_end.get(k).map_or(0, |&e| e as usize);
        self.buf.get(start..end).unwrap_or_default()
    }

    /// Finds the lowered `\w` runs of `input` (into `buf`, `run_start`, `run_end`).
    /// `Ok(false)`: the input holds U+03A3 (the runs are then incomplete).
    fn tokenize<U: Unit>(&mut self, input: &[U]) -> Result<bool, InvalidCodePoint> {
        // Per input character at most two code points ('İ' → "i̇"), plus room for the
        // last 64-code-point block; at most one run per input character.
        let cap = 2 * input.len() + 64;
        if self.buf.len() < cap {
            self.buf.resize(cap, 0);
        }
        let runs = input.len() + 2;
        if self.run_start.len() < runs {
            self.run_start.resize(runs, 0);
            self.run_end.resize(runs, 0);
        }
        if self.map_table_only(input) {
            return Ok(true);
        }
        let mut w = RunWriter {
            buf: &mut self.buf,
            run_start: &mut self.run_start,
            run_end: &mut self.run_end,
            len: 0,
            runs: 0,
            in_word: false,
        };
        let complete = w.write_any(input)?;
        w.finish();
        self.runs = w.runs;
        Ok(complete)
    }

    /// The fast path: maps every code point through [`Unit::map_block`] and finds the
    /// runs from a bit mask of the word positions, 64 at a time. `false` when some code
    /// point has no plain entry (the result is then garbage and
    /// [`RunWriter::write_any`] must run instead).
    #[inline(never)]
    fn map_table_only<U: Unit>(&mut self, input: &[U]) -> bool {
        let table = bmp_table();
        let mut special = 0u32;
        // Whether the code point before the current block is in a run.
        let mut carry = 0u64;
        let (mut starts, mut ends) = (0usize, 0usize);
        for (c, (block, out)) in input.chunks(64).zip(self.buf.chunks_mut(64)).enumerate() {
            let (word, block_special) = U::map_block(block, out, table);
            special |= block_special;
            let before = (word << 1) | carry;
            let base = (64 * c) as u32;
            // A run starts where a word position follows a separator, and ends (one past
            // its last code point) where a separator follows a word position; in a short
            // last block, the bits past its end are separators.
            starts = push_bits(&mut self.run_start, starts, word & !before, base);
            ends = push_bits(&mut self.run_end, ends, !word & before, base);
            carry = word >> 63;
        }
        if carry == 1 {
            if let Some(end) = self.run_end.get_mut(ends) {
                *end = input.len() as u32;
            }
        }
        self.runs = starts;
        special >> 16 == 0
    }

    /// `" ".join(sorted(runs))` into `joined`.
    fn sort_join(&mut self) {
        let text = |s: u32, e: u32| self.buf.get(s as usize..e as usize).unwrap_or_default();
        self.tokens.clear();
        let starts = self.run_start.get(..self.runs).unwrap_or_default();
        let ends = self.run_end.get(..self.runs).unwrap_or_default();
        for (&start, &end) in starts.iter().zip(ends) {
            self.tokens.push((sort_key(text(start, end)), start, end));
        }
        // Python orders str by code point, exactly as slices of code points compare.
        // Equal keys mean equal first three code points, so the rest decides.
        let order = |&(kx, sx, ex): &(u64, u32, u32), &(ky, sy, ey): &(u64, u32, u32)| {
            kx.cmp(&ky).then_with(|| {
                let x = text(sx, ex).get(3..).unwrap_or_default();
                let y = text(sy, ey).get(3..).unwrap_or_default();
                x.cmp(y)
            })
        };
        if !self.tokens.is_sorted_by(|x, y| order(x, y).is_le()) {
            self.tokens.sort_unstable_by(order);
        }
        // Words are short: copy each in blocks of 8 code points, past its end into room
        // the next word (or the final truncation) takes back, rather than one `memcpy`
        // call per word. `buf` has room past every run (see `tokenize`).
        let total: usize = self
            .tokens
            .iter()
            .map(|&(_, s, e)| (e - s) as usize + 1)
            .sum();
        self.joined.clear();
        self.joined.resize(total + 8, 0);
        let mut at = 0usize;
        for &(_, start, end) in &self.tokens {
            let (start, len) = (start as usize, (end - start) as usize);
            for block in (0..len).step_by(8) {
                let from = self.buf.get(start + block..start + block + 8);
                let to = self.joined.get_mut(at + block..at + block + 8);
                if let (Some(from), Some(to)) = (from, to) {
                    to.copy_from_slice(from);
                }
            }
            at += len;
            if let Some(space) = self.joined.get_mut(at) {
                *space = SPACE;
            }
            at += 1;
        }
        // Drop the space after the last word and the spare room.
        self.joined.truncate(total - 1);
        self.use_joined = true;
    }

    /// The `String` path, for an input that holds U+03A3.
    fn process_with_sigma<U: Unit>(&mut self, input: &[U]) -> Result<(), InvalidCodePoint> {
        let mut s = String::with_capacity(input.len());
        for (index, &unit) in input.iter().enumerate() {
            let cp: u32 = unit.into();
            s.push(char::from_u32(cp).ok_or(InvalidCodePoint {
                index,
                code_point: cp,
            })?);
        }
        self.joined.clear();
        self.joined
            .extend(process_and_sort(&s).chars().map(u32::from));
        self.use_joined = true;
        Ok(())
    }
}

/// Appends `base` plus the position of each set bit of `bits` to `to[at..]`; returns the
/// new count.
#[inline]
fn push_bits(to: &mut [u32], mut at: usize, mut bits: u64, base: u32) -> usize {
    while bits != 0 {
        if let Some(slot) = to.get_mut(at) {
            *slot = base + bits.trailing_zeros();
        }
        at += 1;
        bits &= bits - 1;
    }
    at
}

/// The output cursor of the general path of [`Processor::tokenize`].
struct RunWriter<'a> {
    buf: &'a mut [u32],
    run_start: &'a mut [u32],
    run_end: &'a mut [u32],
    len: usize,
    runs: usize,
    in_word: bool,
}

impl RunWriter<'_> {
    /// Appends one code point of `full_process` output: a lowered `\w` code point, or 0
    /// for a `\W` one (which ends the current run).
    #[inline]
    fn push(&mut self, lowered: u32) {
        let word = lowered != 0;
        if word && !self.in_word {
            if let Some(at) = self.run_start.get_mut(self.runs) {
                *at = self.len as u32;
            }
            self.runs += 1;
        }
        if !word && self.in_word {
            self.end_run();
        }
        if word {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = lowered;
            }
            self.len += 1;
        }
        self.in_word = word;
    }

    fn end_run(&mut self) {
        if let Some(at) = self.run_end.get_mut(self.runs.wrapping_sub(1)) {
            *at = self.len as u32;
        }
    }

    /// Ends the last run.
    fn finish(&mut self) {
        if self.in_word {
            self.end_run();
        }
    }

    /// Any input. `Ok(false)`: the input holds U+03A3.
    #[cold]
    #[inline(never)]
    fn write_any<U: Unit>(&mut self, input: &[U]) -> Result<bool, InvalidCodePoint> {
        let table = bmp_table();
        for (index, &unit) in input.iter().enumerate() {
            let cp: u32 = unit.into();
            let lowered = table.get(cp as usize).copied().unwrap_or(SPECIAL);
            if lowered != SPECIAL {
                self.push(u32::from(lowered));
                continue;
            }
            if cp.wrapping_sub(0x80) < 0x80 {
                continue; // asciidammit: removed, not a separator
            }
            let Some(c) = char::from_u32(cp) else {
                return Err(InvalidCodePoint {
                    index,
                    code_point: cp,
                });
            };
            match pystr::word_lower(c) {
                WordLower::NotWord => self.push(0),
                WordLower::Unchanged => self.push(cp),
                WordLower::Mapped(_) if c == '\u{03A3}' => return Ok(false),
                WordLower::Mapped(m) => {
                    for l in m.chars() {
                        self.push(u32::from(l));
                    }
                }
            }
        }
        Ok(true)
    }
}

/// The first three code points of a non-empty run, 21 bits each, 0 past its end. No run
/// holds U+0000, so comparing keys orders runs by their first three code points exactly
/// as comparing the runs does.
#[inline]
fn sort_key(run: &[u32]) -> u64 {
    let at = |i: usize| run.get(i).map_or(0, |&c| u64::from(c));
    (at(0) << 42) | (at(1) << 21) | at(2)
}

/// Match masks for the bit-parallel LCS: bit `i` of the row of `c` is set when
/// `pattern[i] == c`. Distinct pattern code points get rows 1, 2, ... (row 0 stays zero,
/// for code points not in the pattern) through a direct table over the BMP and a small
/// map above it. Everything is back to zero between uses.
struct LcsTables {
    /// Row of each BMP code point, 0 when absent (65,536 entries).
    bmp_row: Box<[u32]>,
    /// Rows of code points above the BMP.
    astral_row: Vec<(u32, u32)>,
    masks: Vec<u64>,
    v: Vec<u64>,
}

impl LcsTables {
    fn new() -> Self {
        Self {
            bmp_row: vec![0u32; 0x1_0000].into_boxed_slice(),
            astral_row: Vec::new(),
            masks: Vec::new(),
            v: Vec::new(),
        }
    }

    #[inline(always)]
    fn row(&self, cp: u32) -> usize {
        match self.bmp_row.get(cp as usize) {
            Some(&r) => r as usize,
            None => self.astral(cp),
        }
    }

    #[cold]
    fn astral(&self, cp: u32) -> usize {
        self.astral_row
            .iter()
            .find(|&&(c, _)| c == cp)
            .map_or(0, |&(_, r)| r as usize)
    }

    /// Assigns rows to the code points of `pattern` and sets their bits (`words` u64 per
    /// row).
    fn fill(&mut self, pattern: &[u32], words: usize) {
        let size = (pattern.len() + 1) * words;
        if self.masks.len() < size {
            self.masks.resize(size, 0);
        }
        let masks = self.masks.as_mut_slice();
        // Row 0 (absent code points) and each new row start at zero.
        for w in masks.iter_mut().take(words) {
            *w = 0;
        }
        let mut rows = 0u32;
        for (i, &cp) in pattern.iter().enumerate() {
            let (row, new) = match self.bmp_row.get_mut(cp as usize) {
                Some(r) => {
                    let new = *r == 0;
                    rows += u32::from(new);
                    *r = if new { rows } else { *r };
                    (*r, new)
                }
                None => match self.astral_row.iter().find(|&&(c, _)| c == cp) {
                    Some(&(_, r)) => (r, false),
                    None => {
                        rows += 1;
                        self.astral_row.push((cp, rows));
                        (rows, true)
                    }
                },
            };
            let at = row as usize * words;
            if words == 1 {
                // Branch-free for one word: a new row is reset before its first bit.
                if let Some(w) = masks.get_mut(at) {
                    *w = if new { 0 } else { *w } | (1u64 << i);
                }
            } else {
                if new {
                    for w in masks.iter_mut().skip(at).take(words) {
                        *w = 0;
                    }
                }
                if let Some(w) = masks.get_mut(at + i / 64) {
                    *w |= 1u64 << (i % 64);
                }
            }
        }
    }

    fn clear(&mut self, pattern: &[u32]) {
        for &cp in pattern {
            if let Some(r) = self.bmp_row.get_mut(cp as usize) {
                *r = 0;
            }
        }
        self.astral_row.clear();
    }

    /// LCS length of a non-empty `pattern` and `text`.
    fn lcs_bit_parallel(&mut self, pattern: &[u32], text: &[u32]) -> usize {
        let words = pattern.len().div_ceil(64);
        self.fill(pattern, words);
        let zeros = if words == 1 {
            let mut v = u64::MAX;
            for &c in text {
                let m = self.masks.get(self.row(c)).copied().unwrap_or(0);
                let u = v & m;
                v = v.wrapping_add(u) | (v - u);
            }
            // The pattern's bits: 1..=64 of them.
            let valid = u64::MAX >> (64 - pattern.len());
            (!v & valid).count_ones() as usize
        } else if words == 2 {
            // Up to 128 code points (most sentences): one u128 addition carries between
            // the two words.
            let mut v = u128::MAX;
            for &c in text {
                let row = self.row(c);
                let lo = self.masks.get(2 * row).copied().unwrap_or(0);
                let hi = self.masks.get(2 * row + 1).copied().unwrap_or(0);
                let u = v & ((u128::from(hi) << 64) | u128::from(lo));
                v = v.wrapping_add(u) | (v - u);
            }
            // The pattern's bits: 65..=128 of them.
            let valid = u128::MAX >> (128 - pattern.len());
            (!v & valid).count_ones() as usize
        } else {
            self.v.clear();
            self.v.resize(words, u64::MAX);
            for &c in text {
                let row = self.row(c);
                if row == 0 {
                    continue; // M == 0 leaves V unchanged
                }
                let Some(m) = self.masks.get(row * words..(row + 1) * words) else {
                    continue;
                };
                let mut carry = 0u64;
                for (vw, &mw) in self.v.iter_mut().zip(m) {
                    let u = *vw & mw;
                    let (s1, c1) = vw.overflowing_add(u);
                    let (s2, c2) = s1.overflowing_add(carry);
                    carry = u64::from(c1 | c2);
                    *vw = s2 | (*vw - u);
                }
            }
            let mut zeros = 0usize;
            for (k, &w) in self.v.iter().enumerate() {
                let valid_bits = (pattern.len() - k * 64).min(64);
                let mask = if valid_bits == 64 {
                    u64::MAX
                } else {
                    (1u64 << valid_bits) - 1
                };
                zeros += (!w & mask).count_ones() as usize;
            }
            zeros
        };
        self.clear(pattern);
        zeros
    }

    /// LCS length of two code-point sequences.
    fn lcs_len(&mut self, a: &[u32], b: &[u32]) -> usize {
        let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let (a, b) = (
            a.get(prefix..).unwrap_or_default(),
            b.get(prefix..).unwrap_or_default(),
        );
        let suffix = a
            .iter()
            .rev()
            .zip(b.iter().rev())
            .take_while(|(x, y)| x == y)
            .count();
        let a = a.get(..a.len() - suffix).unwrap_or_default();
        let b = b.get(..b.len() - suffix).unwrap_or_default();
        let (pattern, text) = if a.len() <= b.len() { (a, b) } else { (b, a) };
        let middle = if pattern.is_empty() {
            0
        } else {
            self.lcs_bit_parallel(pattern, text)
        };
        prefix + suffix + middle
    }

    /// `fuzz.ratio` on processed strings (with its decorators).
    fn ratio(&mut self, a: &[u32], b: &[u32]) -> u32 {
        if a == b {
            100
        } else if a.is_empty() || b.is_empty() {
            0
        } else {
            let lensum = a.len() + b.len();
            let dist = lensum - 2 * self.lcs_len(a, b);
            rounded_ratio(dist, lensum)
        }
    }
}

/// `int(round(100 * (1.0 - dist / lensum)))`, the float expression of rapidfuzz's
/// normalized Indel similarity, rounded half to even like Python's `round`.
#[inline]
fn rounded_ratio(dist: usize, lensum: usize) -> u32 {
    let r = (100.0 * (1.0 - (dist as f64 / lensum as f64))).round_ties_even();
    // 0.0 <= r <= 100.0 by construction.
    r.clamp(0.0, 100.0) as u32
}

/// Reusable buffers for [`token_sort_ratio`]: no allocation once they have grown.
pub struct Scratch {
    pa: Processor,
    pb: Processor,
    lcs: LcsTables,
    code_points: Vec<u32>,
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

impl Scratch {
    pub fn new() -> Self {
        Self {
            pa: Processor::default(),
            pb: Processor::default(),
            lcs: LcsTables::new(),
            code_points: Vec::new(),
        }
    }

    /// LCS length of two code-point sequences.
    #[cfg(test)]
    fn lcs_len(&mut self, a: &[u32], b: &[u32]) -> usize {
        self.lcs.lcs_len(a, b)
    }

    /// `fuzz.token_sort_ratio` of two strings given as code points. A lone surrogate is
    /// an error: `Err((0, _))` in `a`, `Err((1, _))` in `b`.
    pub fn token_sort_ratio_code_points(
        &mut self,
        a: &[u32],
        b: &[u32],
    ) -> Result<u32, (usize, InvalidCodePoint)> {
        self.token_sort_ratio_of(CodePoints::Ucs4(a), CodePoints::Ucs4(b))
    }

    /// [`Self::token_sort_ratio_code_points`] of two strings in CPython's storage form.
    pub fn token_sort_ratio_of(
        &mut self,
        a: CodePoints<'_>,
        b: CodePoints<'_>,
    ) -> Result<u32, (usize, InvalidCodePoint)> {
        if a == b {
            // Equal inputs give equal processed strings; a lone surrogate is still an error.
            return match a.first_invalid() {
                None => Ok(100),
                Some(e) => Err((0, e)),
            };
        }
        self.pa.process(a).map_err(|e| (0, e))?;
        self.pb.process(b).map_err(|e| (1, e))?;
        Ok(self.lcs.ratio(self.pa.output(), self.pb.output()))
    }

    /// `_process_and_sort(s)` by the fast path, from `s` stored as CPython stores it (for
    /// tests).
    #[cfg(test)]
    fn process_and_sort(&mut self, s: &str) -> String {
        let stored = tests::Stored::of(s);
        // A `&str` holds no surrogate: processing cannot fail.
        let _ = self.pa.process(stored.code_points());
        self.pa
            .output()
            .iter()
            .filter_map(|&cp| char::from_u32(cp))
            .collect()
    }

    /// `fuzz.token_sort_ratio(a, b)` (0..=100).
    pub fn token_sort_ratio(&mut self, a: &str, b: &str) -> u32 {
        if a == b {
            return 100; // same processed strings
        }
        let mut cps = std::mem::take(&mut self.code_points);
        cps.clear();
        cps.extend(a.chars().map(u32::from));
        let split = cps.len();
        cps.extend(b.chars().map(u32::from));
        let (a, b) = cps.split_at(split);
        // A `&str` holds no surrogate: processing cannot fail.
        let r = self.token_sort_ratio_code_points(a, b).unwrap_or(0);
        self.code_points = cps;
        r
    }
}

thread_local! {
    static SCRATCH: Cell<Option<Box<Scratch>>> = const { Cell::new(None) };
}

/// Runs `f` with this thread's [`Scratch`] (a fresh one when it is already in use).
pub fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut scratch = SCRATCH
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_else(|| Box::new(Scratch::new()));
    let result = f(&mut scratch);
    let _ = SCRATCH.try_with(|cell| cell.set(Some(scratch)));
    result
}

/// `fuzz.token_sort_ratio` (0..=100) of each pair of `strings`: pair `i` is strings `2i`
/// and `2i + 1`. A lone surrogate gives `Err((i, 0, _))` in the first string of pair `i`,
/// `Err((i, 1, _))` in the second (the first one by index). Large batches are split over
/// the available cores.
pub fn token_sort_ratio_batch(
    strings: &CodePointsBuffer,
) -> Result<Vec<u32>, (usize, usize, InvalidCodePoint)> {
    crate::par::map_ranges(strings.len() / 2, PAIRS_PER_THREAD, |pairs| {
        with_scratch(|s| {
            pairs
                .map(|i| {
                    s.token_sort_ratio_of(strings.get(2 * i), strings.get(2 * i + 1))
                        .map_err(|(which, e)| (i, which, e))
                })
                .collect()
        })
    })
}

/// Pairs per thread below which a batch is not worth splitting (a pair takes ~0.3-1 µs).
const PAIRS_PER_THREAD: usize = 4096;

/// Length of the longest common subsequence of two code-point sequences.
#[cfg(test)]
fn lcs_len(a: &[char], b: &[char]) -> usize {
    let a: Vec<u32> = a.iter().map(|&c| u32::from(c)).collect();
    let b: Vec<u32> = b.iter().map(|&c| u32::from(c)).collect();
    with_scratch(|s| s.lcs_len(&a, &b))
}

/// `fuzz.ratio` on already processed strings (with its decorators).
#[cfg(test)]
fn ratio(a: &str, b: &str) -> u32 {
    if a == b {
        return 100;
    }
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let ac: Vec<char> = a.chars().collect();
    let bc: Vec<char> = b.chars().collect();
    let lensum = ac.len() + bc.len();
    rounded_ratio(lensum - 2 * lcs_len(&ac, &bc), lensum)
}

/// `fuzz.token_sort_ratio(a, b)` (0..=100).
pub fn token_sort_ratio(a: &str, b: &str) -> u32 {
    with_scratch(|s| s.token_sort_ratio(a, b))
}

/// Upstream `char_f1(y_pred, y_true) = fuzz.token_sort_ratio(y_pred, y_true) / 100.0`.
pub fn char_f1(pred: &str, gold: &str) -> f64 {
    f64::from(token_sort_ratio(pred, gold)) / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A string stored as CPython stores it: in the narrowest of one, two or four bytes
    /// per code point.
    pub(super) enum Stored {
        Latin1(Vec<u8>),
        Ucs2(Vec<u16>),
        Ucs4(Vec<u32>),
    }

    impl Stored {
        pub(super) fn of(s: &str) -> Self {
            let cps: Vec<u32> = s.chars().map(u32::from).collect();
            match cps.iter().max().copied().unwrap_or(0) {
                0..=0xFF => Self::Latin1(cps.iter().map(|&c| c as u8).collect()),
                0x100..=0xFFFF => Self::Ucs2(cps.iter().map(|&c| c as u16).collect()),
                _ => Self::Ucs4(cps),
            }
        }

        pub(super) fn code_points(&self) -> CodePoints<'_> {
            match self {
                Self::Latin1(units) => CodePoints::Latin1(units),
                Self::Ucs2(units) => CodePoints::Ucs2(units),
                Self::Ucs4(units) => CodePoints::Ucs4(units),
            }
        }
    }

    /// `token_sort_ratio` of `a` and `b` in their stored forms.
    fn stored_ratio(a: &str, b: &str) -> u32 {
        let (a, b) = (Stored::of(a), Stored::of(b));
        with_scratch(|s| s.token_sort_ratio_of(a.code_points(), b.code_points())).unwrap_or(0)
    }

    fn naive_lcs(a: &[char], b: &[char]) -> usize {
        let mut prev = vec![0usize; b.len() + 1];
        for &x in a {
            let mut cur = vec![0usize; b.len() + 1];
            for (j, &y) in b.iter().enumerate() {
                cur[j + 1] = if x == y {
                    prev[j] + 1
                } else {
                    cur[j].max(prev[j + 1])
                };
            }
            prev = cur;
        }
        prev[b.len()]
    }

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn processing() {
        assert_eq!(full_process("Hello, World!"), "hello  world");
        assert_eq!(process_and_sort("World, hello!"), "hello world");
        assert_eq!(process_and_sort("東京都、日本。"), "日本 東京都");
        // U+0080..U+00FF are dropped, not replaced by a space
        assert_eq!(full_process("caf\u{e9}s"), "cafs");
        assert_eq!(full_process("a\u{a0}b"), "ab");
        // combining marks are \W in Python
        assert_eq!(full_process("e\u{301}x"), "e x");
        assert_eq!(process_and_sort("ＡＢＣ　ｄｅｆ"), "ａｂｃ ｄｅｆ");
        assert_eq!(process_and_sort("😀 😀"), "");
        assert_eq!(process_and_sort(""), "");
    }

    #[test]
    fn known_values() {
        // both processed strings empty => 100
        assert_eq!(char_f1("。", "、"), 1.0);
        assert_eq!(char_f1("", ""), 1.0);
        assert_eq!(char_f1("abc", ""), 0.0);
        assert_eq!(char_f1("", "abc"), 0.0);
        assert_eq!(char_f1("東京", "東京"), 1.0);
        assert_eq!(char_f1("new york mets", "mets new york"), 1.0);
        // "abcd" vs "abce": LCS 3, ratio 6/8 = 0.75
        assert_eq!(char_f1("abcd", "abce"), 0.75);
        // "ab" vs "abc": ratio 4/5 = 80
        assert_eq!(char_f1("ab", "abc"), 0.8);
        // banker's rounding: 1 - 7/8 = 0.125 => 12.5 => 12
        assert_eq!(token_sort_ratio("a", "bcdefgh"), 0);
        assert_eq!(ratio("abcd", "axxxxxxxxxxxxxx"), 11);
    }

    #[test]
    fn lcs_long_and_multiword() {
        let a: Vec<char> = "あいうえおかきくけこ".repeat(20).chars().collect();
        let b: Vec<char> = "かきくけこあいうえお".repeat(21).chars().collect();
        assert_eq!(lcs_len(&a, &b), naive_lcs(&a, &b));
        let c: Vec<char> = (0..300)
            .map(|i| char::from_u32(0x4E00 + (i * 7919) % 50).unwrap_or('x'))
            .collect();
        let d: Vec<char> = (0..257)
            .map(|i| char::from_u32(0x4E00 + (i * 104_729) % 50).unwrap_or('y'))
            .collect();
        assert_eq!(lcs_len(&c, &d), naive_lcs(&c, &d));
        assert_eq!(lcs_len(&chars(""), &chars("abc")), 0);
        assert_eq!(lcs_len(&chars("abc"), &chars("abc")), 3);
    }

    #[test]
    fn lcs_at_word_boundaries() {
        // Patterns of exactly 1, 64 and 128 code points fill a word, or two, to the top bit.
        for n in [1, 2, 63, 64, 65, 127, 128, 129, 192] {
            let pattern: Vec<char> = (0..n).map(|i| ['x', 'y', 'z'][i % 3]).collect();
            // 'w' at both ends: no common prefix or suffix to strip, so the pattern keeps
            // its n code points.
            let text: Vec<char> = std::iter::once('w')
                .chain((0..n + 7).map(|i| ['z', 'x', 'w', 'y'][i % 4]))
                .chain(std::iter::once('w'))
                .collect();
            assert_eq!(lcs_len(&pattern, &text), naive_lcs(&pattern, &text), "{n}");
        }
    }

    /// `token_sort_ratio` by the `String` reference path and the DP LCS.
    fn reference_ratio(a: &str, b: &str) -> u32 {
        let (pa, pb) = (process_and_sort(a), process_and_sort(b));
        if pa == pb {
            return 100;
        }
        if pa.is_empty() || pb.is_empty() {
            return 0;
        }
        let (ac, bc) = (chars(&pa), chars(&pb));
        let lensum = ac.len() + bc.len();
        rounded_ratio(lensum - 2 * naive_lcs(&ac, &bc), lensum)
    }

    /// Characters that exercise every path of the tokenizer: ASCII, U+0080..U+00FF,
    /// U+03A3 and other Greek, 'İ' (two-code-point lower()), full-width, kana and kanji,
    /// combining marks, whitespace of all kinds, ZWJ emoji and code points above the BMP.
    const MIXED: &str = "[a-zA-Z0-9_ .,!?'\"\\-\u{80}-\u{FF}ΣσςΑΟΔİıßẞǅĳŉÅЖжＡＢｃ０１あいアイ日本東京\u{3000}\u{1C}-\u{1F}\u{2000}\u{200B}\u{301}\u{3099}\u{200D}\u{FE0F}😀👍🏽𠀋𝐀𝑎①Ⅻ½]";

    fn mixed(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("{MIXED}{{0,{max}}}")).unwrap()
    }

    /// One-byte strings: mostly ASCII (the SWAR path), some with U+0080..U+00FF (the
    /// general path), across several 8-byte chunks and 64-code-point blocks.
    fn latin1(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!(
            "([a-zA-Z0-9_ .,!?'\\-\u{1C}-\u{1F}\t\n]{{0,{max}}}|[a-zA-Z _.\u{80}-\u{FF}]{{0,{max}}})"
        ))
        .unwrap()
    }

    #[test]
    fn fast_path_table_agrees_with_word_lower() {
        let table = bmp_table();
        for cp in 0..=0xFFFFu32 {
            let entry = table[cp as usize];
            assert_eq!(entry, bmp_entry(cp), "{cp:X}");
            if entry == SPECIAL || entry == 0 {
                continue;
            }
            let c = char::from_u32(cp).unwrap();
            let want = match pystr::word_lower(c) {
                WordLower::Unchanged => cp,
                WordLower::Mapped(m) => u32::from(m.chars().next().unwrap()),
                WordLower::NotWord => panic!("{cp:X} is not \\w"),
            };
            assert_eq!(u32::from(entry), want, "{cp:X}");
        }
    }

    #[test]
    fn fast_path_special_cases() {
        let mut s = Scratch::new();
        for (input, want) in [
            ("İstanbul", "i\u{307}stanbul"),
            ("ΟΔΟΣ ΣΑ", "οδος σα"),
            ("caf\u{e9}s b", "b cafs"),
            ("b a", "a b"),
            ("ab aa a", "a aa ab"),
            ("abcz abcd abc", "abc abcd abcz"),
            ("𝐀 a", "a 𝐀"),
            ("Ｂ Ａ", "ａ ｂ"),
            ("  ", ""),
            ("\u{1C}x\u{1F}", "x"),
        ] {
            assert_eq!(s.process_and_sort(input), want, "{input:?}");
            assert_eq!(
                s.process_and_sort(input),
                process_and_sort(input),
                "{input:?}"
            );
        }
        // more than 32 code points crosses the block size of the fast path
        let long = "ab c ".repeat(40);
        assert_eq!(s.process_and_sort(&long), process_and_sort(&long));
    }

    #[test]
    fn ascii_words_agrees_with_the_table() {
        let table = bmp_table();
        for byte in 0..0x80u8 {
            for at in 0..8 {
                // The byte at position `at` among neighbours of every class.
                let mut bytes = *b"Az_9 .a\x1f";
                bytes[at] = byte;
                let (lowered, mask) = ascii_words(u64::from_le_bytes(bytes));
                for (j, &b) in bytes.iter().enumerate() {
                    let want = table[usize::from(b)];
                    assert_eq!((lowered >> (8 * j)) as u8 as u16, want, "{byte:#x} at {at}");
                    assert_eq!((mask >> j) & 1 == 1, want != 0, "{byte:#x} at {at}");
                }
                assert_eq!(mask >> 8, 0);
            }
        }
    }

    #[test]
    fn stored_forms_reach_every_path() {
        for (input, want) in [
            ("Hello, World_1", "hello world_1"),
            ("caf\u{e9} B a", "a b caf"),
            ("x".repeat(70).as_str(), "x".repeat(70).as_str()),
            ("東京 Ａ", "東京 ａ"),
            ("ΟΔΟΣ a", "a οδος"),
            ("😀 b a", "a b"),
        ] {
            let stored = Stored::of(input);
            let mut s = Scratch::new();
            assert_eq!(s.process_and_sort(input), want, "{input:?}");
            let _ = s.pa.process(stored.code_points());
            let got: String =
                s.pa.output()
                    .iter()
                    .filter_map(|&c| char::from_u32(c))
                    .collect();
            assert_eq!(got, want, "{input:?}");
        }
        let ucs2 = [u16::from(b'a'), 0xDC00];
        let err = InvalidCodePoint {
            index: 1,
            code_point: 0xDC00,
        };
        let mut s = Scratch::new();
        let a = CodePoints::Ucs2(&ucs2);
        assert_eq!(s.token_sort_ratio_of(a, a), Err((0, err)));
        assert_eq!(
            s.token_sort_ratio_of(CodePoints::Latin1(b"a"), a),
            Err((1, err))
        );
    }

    #[test]
    fn lone_surrogates_are_errors() {
        let mut s = Scratch::new();
        let a = [u32::from('a'), 0xD800, u32::from('b')];
        let b = [u32::from('x')];
        let err = InvalidCodePoint {
            index: 1,
            code_point: 0xD800,
        };
        assert_eq!(s.token_sort_ratio_code_points(&a, &b), Err((0, err)));
        assert_eq!(s.token_sort_ratio_code_points(&b, &a), Err((1, err)));
        assert_eq!(s.token_sort_ratio_code_points(&a, &a), Err((0, err)));
        assert_eq!(err.to_string(), "lone surrogate U+D800 at index 1");
        // the scratch is still usable afterwards
        assert_eq!(s.token_sort_ratio("abcd", "abce"), 75);
    }

    #[test]
    fn batch_matches_single_calls_and_reports_the_first_error() {
        let texts = [
            "東京都",
            "大阪 府",
            "Hello, World",
            "",
            "ΟΔΟΣ",
            "İ",
            "a b c d",
        ];
        let stored: Vec<Stored> = texts.iter().map(|t| Stored::of(t)).collect();
        let (bad_gold, bad_pred) = ([0xDFFFu16, 0x3042], [0x3042u16, 0xDC00]);
        let batch = |bad: &[(usize, CodePoints<'_>)]| {
            let mut strings = CodePointsBuffer::default();
            let mut want = Vec::new();
            // enough pairs to use several threads
            for i in 0..(3 * PAIRS_PER_THREAD + 17) {
                let (a, b) = (i % texts.len(), (i / 3) % texts.len());
                for (j, k) in [(2 * i, a), (2 * i + 1, b)] {
                    match bad.iter().find(|&&(at, _)| at == j) {
                        Some(&(_, cps)) => strings.push(cps),
                        None => strings.push(stored[k].code_points()),
                    }
                }
                want.push(token_sort_ratio(texts[a], texts[b]));
            }
            (token_sort_ratio_batch(&strings), want)
        };
        let (got, want) = batch(&[]);
        assert_eq!(got, Ok(want));
        // a surrogate in gold 5000 and in pred 9000: the first by index wins
        let gold_5000 = (2 * 5000 + 1, CodePoints::Ucs2(&bad_gold));
        let pred_9000 = (2 * 9000, CodePoints::Ucs2(&bad_pred));
        let bad = |index, code_point| InvalidCodePoint { index, code_point };
        let (got, _) = batch(&[gold_5000, pred_9000]);
        assert_eq!(got, Err((5000, 1, bad(0, 0xDFFF))));
        let (got, _) = batch(&[pred_9000]);
        assert_eq!(got, Err((9000, 0, bad(1, 0xDC00))));
        // every form survives the copy
        let mut strings = CodePointsBuffer::default();
        for s in &stored {
            strings.push(s.code_points());
        }
        for (i, s) in stored.iter().enumerate() {
            assert_eq!(strings.get(i), s.code_points());
        }
        assert_eq!(strings.get(stored.len()), CodePoints::Latin1(&[]));
    }

    #[test]
    fn lcs_with_astral_and_many_distinct_code_points() {
        let a: Vec<char> = (0..400)
            .map(|i| char::from_u32(0x1F600 + (i * 7) % 80).unwrap())
            .chain((0..300).map(|i| char::from_u32(0x4E00 + (i * 13) % 1000).unwrap()))
            .collect();
        let b: Vec<char> = (0..350)
            .map(|i| char::from_u32(0x1F600 + (i * 11) % 80).unwrap())
            .chain((0..333).map(|i| char::from_u32(0x4E00 + (i * 17) % 1000).unwrap()))
            .collect();
        assert_eq!(lcs_len(&a, &b), naive_lcs(&a, &b));
        assert_eq!(lcs_len(&b, &a), naive_lcs(&a, &b));
    }

    proptest! {
        #[test]
        fn lcs_matches_naive(a in "[abcあい😀\u{301}]{0,150}", b in "[abcdあう😀]{0,150}") {
            let (ac, bc) = (chars(&a), chars(&b));
            prop_assert_eq!(lcs_len(&ac, &bc), naive_lcs(&ac, &bc));
        }

        #[test]
        fn fast_processing_matches_reference(a in mixed(90)) {
            let mut s = Scratch::new();
            prop_assert_eq!(s.process_and_sort(&a), process_and_sort(&a));
        }

        #[test]
        fn fast_processing_across_64_code_point_blocks(a in "[aBあ.。 ]{0,300}") {
            let mut s = Scratch::new();
            prop_assert_eq!(s.process_and_sort(&a), process_and_sort(&a));
        }

        #[test]
        fn fast_processing_after_a_longer_string(
            before in "[あ-ん😀]{20,80}",
            a in "[a-c ]{1,30}",
        ) {
            let mut s = Scratch::new();
            s.process_and_sort(&before);
            prop_assert_eq!(s.process_and_sort(&a), process_and_sort(&a));
        }

        #[test]
        fn fast_sorting_of_runs_with_long_common_prefixes(
            runs in proptest::collection::vec(
                "(ab|abcdefghijkl|abcdefghijklm|abcdefghijklmn|東京都|東京都庁舎前駅|東京都庁舎前|😀a|😀abcd|😀abce)",
                0..12,
            ),
            separator in "[ 。、.]",
        ) {
            let text = runs.join(&separator);
            let mut s = Scratch::new();
            prop_assert_eq!(s.process_and_sort(&text), process_and_sort(&text));
        }

        #[test]
        fn fast_ratio_matches_reference(
            a in mixed(80),
            b in mixed(80),
        ) {
            prop_assert_eq!(token_sort_ratio(&a, &b), reference_ratio(&a, &b));
        }

        #[test]
        fn stored_forms_match_reference(
            a in prop_oneof![mixed(80), latin1(150)],
            b in prop_oneof![mixed(80), latin1(150)],
        ) {
            prop_assert_eq!(stored_ratio(&a, &b), reference_ratio(&a, &b));
        }

        #[test]
        fn lcs_matches_naive_long(a in "[a-hあい]{60,200}", b in "[a-fあう]{60,200}") {
            let (ac, bc) = (chars(&a), chars(&b));
            prop_assert_eq!(lcs_len(&ac, &bc), naive_lcs(&ac, &bc));
        }

        #[test]
        fn char_f1_in_unit_interval_and_symmetric(a in "\\PC{0,40}", b in "\\PC{0,40}") {
            let x = char_f1(&a, &b);
            prop_assert!((0.0..=1.0).contains(&x));
            prop_assert_eq!(x, char_f1(&b, &a));
        }

        #[test]
        fn char_f1_identity(a in "\\PC{0,60}") {
            prop_assert_eq!(char_f1(&a, &a), 1.0);
        }

        #[test]
        fn token_order_is_irrelevant(a in "[a-z]{1,5}", b in "[a-z]{1,5}", c in "[a-zあ]{0,8}") {
            prop_assert_eq!(
                char_f1(&format!("{a} {b}"), &c),
                char_f1(&format!("{b}\u{3000}{a}"), &c)
            );
        }
    }
}
