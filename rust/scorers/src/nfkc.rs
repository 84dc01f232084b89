//! `unicodedata.normalize("NFKC", s)` as CPython 3.11 (Unicode 14.0.0) computes it.
//!
//! The `unicode-normalization` crate follows a newer Unicode version. Thanks to the
//! Unicode normalization stability policy, the only possible differences concern code
//! points that were unassigned in Unicode 14.0.0. CPython treats those as starters with
//! no decomposition that never compose: hard boundaries that normalise to themselves.
//! So the text is cut at such code points, each piece is normalised by the crate and the
//! unassigned code points are copied through unchanged.

use unicode_normalization::UnicodeNormalization;

use crate::pystr::is_assigned_u14;

/// NFKC normalisation pinned to Unicode 14.0.0 (CPython 3.11).
pub fn nfkc(s: &str) -> String {
    if s.is_ascii() {
        return s.to_owned();
    }
    if s.chars().all(is_assigned_u14) {
        return s.nfkc().collect();
    }
    let mut out = String::with_capacity(s.len());
    let mut start = 0usize;
    for (i, c) in s.char_indices() {
        if !is_assigned_u14(c) {
            if let Some(seg) = s.get(start..i) {
                out.extend(seg.nfkc());
            }
            out.push(c);
            start = i + c.len_utf8();
        }
    }
    if let Some(seg) = s.get(start..) {
        out.extend(seg.nfkc());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_compat() {
        assert_eq!(nfkc("ＡＢＣ１２３"), "ABC123");
        assert_eq!(nfkc("ｶﾞ"), "ガ");
        assert_eq!(nfkc("㍿"), "株式会社");
        assert_eq!(nfkc("①"), "1");
        assert_eq!(nfkc("＄"), "$");
        assert_eq!(nfkc("ﬁ"), "fi");
        assert_eq!(nfkc("e\u{301}"), "é");
        assert_eq!(nfkc(""), "");
        assert_eq!(nfkc("plain ascii"), "plain ascii");
        assert_eq!(nfkc("😀"), "😀");
    }

    #[test]
    fn unassigned_in_unicode14_is_left_alone() {
        // U+1CCF0 (OUTLINED DIGIT ZERO, Unicode 16) has a compatibility decomposition to
        // "0" in newer Unicode, but CPython 3.11 does not know it.
        assert!(!is_assigned_u14('\u{1CCF0}'));
        assert_eq!(nfkc("\u{1CCF0}"), "\u{1CCF0}");
        assert_eq!(nfkc("Ａ\u{1CCF0}Ｂ"), "A\u{1CCF0}B");
        // A combining mark after an unassigned code point does not move across it.
        assert_eq!(nfkc("\u{1CCF0}\u{301}ｅ\u{301}"), "\u{1CCF0}\u{301}é");
    }
}
