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

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::pystr;

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

/// `fuzzywuzzy.fuzz._process_and_sort(s, force_ascii=True)`.
pub fn process_and_sort(s: &str) -> String {
    let processed = full_process(s);
    let mut tokens: Vec<&str> = pystr::split_whitespace(&processed).collect();
    // Python compares str by code point; UTF-8 byte order is the same order.
    tokens.sort_unstable();
    let joined = tokens.join(" ");
    pystr::strip(&joined).to_owned()
}

/// Multiplicative hasher for `char` keys (the std SipHash is needlessly slow here).
#[derive(Default)]
struct CharHasher(u64);

impl Hasher for CharHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type CharMap = HashMap<char, usize, BuildHasherDefault<CharHasher>>;

/// Length of the longest common subsequence of two code-point sequences.
pub fn lcs_len(a: &[char], b: &[char]) -> usize {
    let (pattern, text) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if pattern.is_empty() {
        return 0;
    }
    let words = pattern.len().div_ceil(64);
    // Per-character match masks, one block of `words` u64 per distinct character.
    let mut ascii_slot = [usize::MAX; 128];
    let mut other_slot = CharMap::default();
    let mut masks: Vec<u64> = Vec::new();
    for (i, &c) in pattern.iter().enumerate() {
        let slot = slot_of(c, &ascii_slot, &other_slot).unwrap_or_else(|| {
            let new_slot = masks.len() / words;
            masks.resize(masks.len() + words, 0);
            if c.is_ascii() {
                if let Some(e) = ascii_slot.get_mut(c as usize) {
                    *e = new_slot;
                }
            } else {
                other_slot.insert(c, new_slot);
            }
            new_slot
        });
        if let Some(w) = masks.get_mut(slot * words + i / 64) {
            *w |= 1u64 << (i % 64);
        }
    }

    let mut v = vec![u64::MAX; words];
    for &c in text {
        let Some(slot) = slot_of(c, &ascii_slot, &other_slot) else {
            continue; // M == 0 leaves V unchanged
        };
        let Some(m) = masks.get(slot * words..(slot + 1) * words) else {
            continue;
        };
        let mut carry = 0u64;
        for (vw, &mw) in v.iter_mut().zip(m) {
            let u = *vw & mw;
            let (s1, c1) = vw.overflowing_add(u);
            let (s2, c2) = s1.overflowing_add(carry);
            carry = u64::from(c1 | c2);
            *vw = s2 | (*vw & !mw);
        }
    }

    let mut zeros = 0usize;
    for (k, &w) in v.iter().enumerate() {
        let valid_bits = (pattern.len() - k * 64).min(64);
        let mask = if valid_bits == 64 {
            u64::MAX
        } else {
            (1u64 << valid_bits) - 1
        };
        zeros += (!w & mask).count_ones() as usize;
    }
    zeros
}

fn slot_of(c: char, ascii: &[usize; 128], other: &CharMap) -> Option<usize> {
    if c.is_ascii() {
        ascii.get(c as usize).copied().filter(|&s| s != usize::MAX)
    } else {
        other.get(&c).copied()
    }
}

/// `Levenshtein.ratio(a, b)` (insert/delete only, substitution costs 2).
pub fn indel_ratio(a: &[char], b: &[char]) -> f64 {
    let lensum = a.len() + b.len();
    if lensum == 0 {
        return 1.0;
    }
    let dist = lensum - 2 * lcs_len(a, b);
    // rapidfuzz: norm_sim = 1.0 - dist / maximum, in this exact order.
    1.0 - (dist as f64 / lensum as f64)
}

/// `fuzz.ratio` on already processed strings (with its decorators).
fn ratio(a: &str, b: &str) -> u32 {
    if a == b {
        return 100;
    }
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let ac: Vec<char> = a.chars().collect();
    let bc: Vec<char> = b.chars().collect();
    let r = (100.0 * indel_ratio(&ac, &bc)).round_ties_even();
    // 0.0 <= r <= 100.0 by construction.
    r.clamp(0.0, 100.0) as u32
}

/// `fuzz.token_sort_ratio(a, b)` (0..=100).
pub fn token_sort_ratio(a: &str, b: &str) -> u32 {
    ratio(&process_and_sort(a), &process_and_sort(b))
}

/// Upstream `char_f1(y_pred, y_true) = fuzz.token_sort_ratio(y_pred, y_true) / 100.0`.
pub fn char_f1(pred: &str, gold: &str) -> f64 {
    f64::from(token_sort_ratio(pred, gold)) / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    proptest! {
        #[test]
        fn lcs_matches_naive(a in "[abcあい😀\u{301}]{0,150}", b in "[abcdあう😀]{0,150}") {
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
