//! CPython 3.11 `str` semantics used by the upstream harness.
//!
//! Everything here mirrors the interpreter, not Rust's own Unicode notions:
//! `str.isspace()`, `str.isalnum()` (and so `re`'s `\w`), `str.strip()`,
//! `str.split()`, `str.lower()` (with the final-sigma rule) and `str.upper()`
//! use tables generated from CPython 3.11 (Unicode 14.0.0), see
//! `tools/gen_unicode_tables.py`.

use crate::unicode_tables as t;

fn in_ranges(table: &[(u32, u32)], cp: u32) -> bool {
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Bit `cp` of a BMP bitset; `None` outside the BMP.
#[inline]
fn bmp_bit(bits: &[u64; 1024], cp: u32) -> Option<bool> {
    let word = bits.get((cp >> 6) as usize)?;
    Some((word >> (cp & 63)) & 1 == 1)
}

fn lookup_map(table: &'static [(u32, &'static str)], cp: u32) -> Option<&'static str> {
    table
        .binary_search_by_key(&cp, |&(k, _)| k)
        .ok()
        .and_then(|i| table.get(i))
        .map(|&(_, s)| s)
}

/// `c.isspace()` and `unicodedata.decimal(c, None)` are `arc_grid`'s (the ARC parser needs
/// them for `int(str)`; this crate depends on it). A test checks both against the
/// generated tables here.
pub use arc_grid::pyint::{decimal_value, is_space};

/// `c.isalnum()` (isalpha or isdecimal or isdigit or isnumeric).
#[inline]
pub fn is_alnum(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    let cp = c as u32;
    bmp_bit(&t::ALNUM_BMP, cp).unwrap_or_else(|| in_ranges(t::ALNUM, cp))
}

/// Python `re` `\w` for `str` patterns: `isalnum()` or `_`.
#[inline]
pub fn is_word(c: char) -> bool {
    c == '_' || is_alnum(c)
}

/// Whether the code point is assigned (category other than `Cn`) in Unicode 14.0.0.
#[inline]
pub fn is_assigned_u14(c: char) -> bool {
    let cp = c as u32;
    bmp_bit(&t::ASSIGNED_BMP, cp).unwrap_or_else(|| in_ranges(t::ASSIGNED, cp))
}

fn mapped(
    bits: &[u64; 1024],
    table: &'static [(u32, &'static str)],
    cp: u32,
) -> Option<&'static str> {
    if bmp_bit(bits, cp) == Some(false) {
        return None;
    }
    lookup_map(table, cp)
}

/// `s.strip()` (no argument).
#[inline]
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// `s.strip(ch)` for a one-character argument.
#[inline]
pub fn strip_char(s: &str, ch: char) -> &str {
    s.trim_matches(ch)
}

/// `s.split()` (no argument): runs of whitespace separate, no empty tokens.
pub fn split_whitespace(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_space).filter(|tok| !tok.is_empty())
}

fn is_cased_for_sigma(c: char) -> bool {
    in_ranges(t::CASED, c as u32)
}

fn is_case_ignorable(c: char) -> bool {
    in_ranges(t::CASE_IGNORABLE, c as u32)
}

/// CPython `handle_capital_sigma`: `\p{cased}\p{ci}*Σ!(\p{ci}*\p{cased})`.
fn is_final_sigma(before: &str, after: &str) -> bool {
    let preceded_by_cased = before
        .chars()
        .rev()
        .find(|&c| !is_case_ignorable(c))
        .is_some_and(is_cased_for_sigma);
    if !preceded_by_cased {
        return false;
    }
    match after.chars().find(|&c| !is_case_ignorable(c)) {
        None => true,
        Some(c) => !is_cased_for_sigma(c),
    }
}

/// `s.lower()`: full case mapping plus the final-sigma rule.
pub fn lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if c == '\u{03A3}' {
            let (before, rest) = s.split_at(i);
            let after = rest.get(c.len_utf8()..).unwrap_or("");
            out.push(if is_final_sigma(before, after) {
                '\u{03C2}'
            } else {
                '\u{03C3}'
            });
        } else {
            push_lower_char(&mut out, c);
        }
    }
    out
}

/// Append `c.lower()` for a character other than U+03A3 (whose result depends on context).
#[inline]
pub fn push_lower_char(out: &mut String, c: char) {
    match lower_mapping(c) {
        Some(m) => out.push_str(m),
        None => out.push(c),
    }
}

/// `c.lower()` for a character other than U+03A3, or `None` when it is `c` itself.
/// Most non-Latin letters (kana, kanji, ...) leave after one bitset lookup.
#[inline]
pub fn lower_mapping(c: char) -> Option<&'static str> {
    mapped(&t::LOWER_BMP, t::LOWER, c as u32)
}

/// `s.upper()`: full (context-free) case mapping, e.g. `'ß'.upper() == 'SS'`.
pub fn upper(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_uppercase();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_uppercase());
        } else {
            match mapped(&t::UPPER_BMP, t::UPPER, c as u32) {
                Some(m) => out.push_str(m),
                None => out.push(c),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_matches_python() {
        for c in [
            '\t', '\n', '\u{0B}', '\u{0C}', '\r', '\u{1C}', '\u{1F}', ' ', '\u{85}', '\u{A0}',
            '\u{1680}', '\u{2000}', '\u{200A}', '\u{2028}', '\u{2029}', '\u{202F}', '\u{205F}',
            '\u{3000}',
        ] {
            assert!(is_space(c), "{c:?} should be space");
        }
        for c in ['\u{200B}', 'a', '\u{FEFF}', '\u{180E}', '\0', '_'] {
            assert!(!is_space(c), "{c:?} should not be space");
        }
    }

    /// `unicodedata.decimal` from the generated `DECIMAL_ZEROS`.
    fn table_decimal(cp: u32) -> Option<u8> {
        let zero = t::DECIMAL_ZEROS.iter().find(|&&z| z <= cp && cp <= z + 9)?;
        u8::try_from(cp - zero).ok()
    }

    #[test]
    fn fast_paths_agree_with_tables() {
        for cp in 0..=0x10FFFFu32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            assert_eq!(is_space(c), in_ranges(t::WHITESPACE, cp), "space {cp:X}");
            assert_eq!(decimal_value(c), table_decimal(cp), "decimal {cp:X}");
            assert_eq!(is_alnum(c), in_ranges(t::ALNUM, cp), "alnum {cp:X}");
            assert_eq!(
                is_assigned_u14(c),
                in_ranges(t::ASSIGNED, cp),
                "assigned {cp:X}"
            );
            assert_eq!(
                mapped(&t::LOWER_BMP, t::LOWER, cp),
                lookup_map(t::LOWER, cp),
                "lower {cp:X}"
            );
            assert_eq!(
                mapped(&t::UPPER_BMP, t::UPPER, cp),
                lookup_map(t::UPPER, cp),
                "upper {cp:X}"
            );
        }
    }

    #[test]
    fn alnum_matches_python() {
        // isalpha / isdecimal / isnumeric
        for c in [
            'a', 'Z', '0', 'あ', '漢', '一', '１', '٣', '½', 'Ⅻ', '²', 'ª', 'µ',
        ] {
            assert!(is_alnum(c), "{c:?}");
        }
        // combining marks are not alnum in Python (Rust's is_alphanumeric says otherwise for some)
        for c in [
            '\u{0301}', '\u{0903}', '\u{093F}', '、', '。', '「', '_', ' ', '😀', '\u{200D}',
        ] {
            assert!(!is_alnum(c), "{c:?}");
        }
        assert!(
            '\u{093F}'.is_alphanumeric(),
            "Rust differs from Python here"
        );
        assert!(is_word('_'));
    }

    #[test]
    fn decimal_digits() {
        assert_eq!(decimal_value('7'), Some(7));
        assert_eq!(decimal_value('１'), Some(1));
        assert_eq!(decimal_value('٢'), Some(2));
        assert_eq!(decimal_value('𝟗'), Some(9));
        assert_eq!(decimal_value('²'), None); // isdigit but not decimal
        assert_eq!(decimal_value('一'), None);
        assert_eq!(decimal_value('a'), None);
    }

    #[test]
    fn strip_and_split() {
        assert_eq!(strip("\u{3000} a b \u{85}"), "a b");
        assert_eq!(strip("\u{200B}a\u{200B}"), "\u{200B}a\u{200B}");
        assert_eq!(strip(""), "");
        assert_eq!(strip(" \t\n "), "");
        let v: Vec<&str> = split_whitespace("  a\u{3000}\u{3000}b\n\nc  ").collect();
        assert_eq!(v, ["a", "b", "c"]);
        assert_eq!(split_whitespace("   ").count(), 0);
        assert_eq!(strip_char("''a''", '\''), "a");
    }

    #[test]
    fn case_mapping_matches_python() {
        assert_eq!(upper("straße"), "STRASSE");
        assert_eq!(upper("ﬁ"), "FI");
        assert_eq!(upper("ŉ"), "ʼN");
        assert_eq!(lower("İ"), "i\u{307}");
        assert_eq!(lower("ΟΔΟΣ"), "οδος");
        assert_eq!(lower("ΟΔΟΣ."), "οδος.");
        assert_eq!(lower("Σ"), "σ");
        assert_eq!(lower("ΑΣΑ"), "ασα");
        assert_eq!(lower("Α'Σ"), "α'ς");
        assert_eq!(lower("ΑΣ'Α"), "ασ'α");
        assert_eq!(lower("ＡＢＣ"), "ａｂｃ");
        assert_eq!(upper("ａｂｃ"), "ＡＢＣ");
        assert_eq!(lower("日本語"), "日本語");
        assert_eq!(lower("ENTAILMENT"), "entailment");
    }
}
