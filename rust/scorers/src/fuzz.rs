//! fuzzywuzzy 0.18.0 `fuzz.token_sort_ratio` with the python-Levenshtein backend, which
//! upstream jaster's `char_f1` is:
//!
//! ```text
//! full_process(s, force_ascii=True):
//!     s.translate({0x80..=0xFF: None})        # asciidammit
//!     re.sub(r"(?ui)\W", " ", s).lower().strip()
//! _process_and_sort(s) = " ".join(sorted(full_process(s).split())).strip()
//! ratio(a, b): a == b -> 100; empty -> 0; else int(round(100 * Levenshtein.ratio(a, b)))
//! Levenshtein.ratio = 1.0 - indel_distance / (len(a) + len(b))
//! ```
//!
//! Lengths and distances are over code points. The indel distance is
//! `len(a) + len(b) - 2 * LCS(a, b)`; the LCS length comes from the bit-parallel
//! algorithm of Allison-Dix / Hyyrö (`V' = (V + (V & M)) | (V & !M)`), one 64-bit word
//! per 64 code points of the shorter string.

use std::cell::RefCell;

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

/// `fuzzywuzzy.fuzz._process_and_sort(s, force_ascii=True)` (the `String` reference path).
pub fn process_and_sort(s: &str) -> String {
    let processed = full_process(s);
    let mut tokens: Vec<&str> = pystr::split_whitespace(&processed).collect();
    // Python compares str by code point; UTF-8 byte order is the same order.
    tokens.sort_unstable();
    let joined = tokens.join(" ");
    pystr::strip(&joined).to_owned()
}

/// [`process_and_sort`] as code points, into `out`. After the U+0080..U+00FF removal and
/// the `\W` → space replacement, `split()` yields exactly the maximal runs of `\w`
/// characters (no `\w` character is whitespace, and `lower()` makes none), so one pass
/// collects the lowered runs, which are then sorted and joined. Text with U+03A3, whose
/// `lower()` depends on its neighbours, takes the `String` path.
fn process_and_sort_chars(s: &str, tokens: &mut Tokens, out: &mut Vec<char>) {
    out.clear();
    let Tokens { lowered, runs } = tokens;
    lowered.clear();
    runs.clear();
    let mut start: Option<usize> = None;
    for c in s.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() || c == '_' {
                start.get_or_insert(lowered.len());
                lowered.push(c.to_ascii_lowercase());
                continue;
            }
        } else if ('\u{80}'..='\u{FF}').contains(&c) {
            continue; // removed, so its neighbours join
        } else if c == '\u{03A3}' {
            out.extend(process_and_sort(s).chars());
            return;
        } else if pystr::is_word(c) {
            start.get_or_insert(lowered.len());
            match pystr::lower_mapping(c) {
                Some(m) => lowered.extend(m.chars()),
                None => lowered.push(c),
            }
            continue;
        }
        if let Some(a) = start.take() {
            runs.push((a, lowered.len()));
        }
    }
    if let Some(a) = start {
        runs.push((a, lowered.len()));
    }
    // Python compares str by code point, as slices of `char` compare.
    runs.sort_unstable_by(|&(a, b), &(c, d)| lowered[a..b].cmp(&lowered[c..d]));
    for (i, &(a, b)) in runs.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.extend_from_slice(&lowered[a..b]);
    }
}

/// The lowered `\w` runs of a string (reused buffers).
#[derive(Default)]
struct Tokens {
    lowered: Vec<char>,
    runs: Vec<(usize, usize)>,
}

/// The match masks of a pattern: for each distinct code point, the set of its positions
/// as `words` u64s (bit `i % 64` of word `i / 64`). Row 0 is the empty set.
struct MatchMasks {
    words: usize,
    /// The row of each ASCII code point (0: not in the pattern).
    ascii: [u32; 128],
    /// The rows of the other code points: an open-addressing table of (code point, row),
    /// at most half full, [`EMPTY`] in free slots.
    other: Vec<(u32, u32)>,
    rows: Vec<u64>,
}

/// No code point: a free slot of [`MatchMasks::other`].
const EMPTY: u32 = u32::MAX;

impl Default for MatchMasks {
    fn default() -> Self {
        MatchMasks {
            words: 1,
            ascii: [0; 128],
            other: Vec::new(),
            rows: Vec::new(),
        }
    }
}

impl MatchMasks {
    /// The masks of `pattern`, replacing what was there.
    fn fill(&mut self, pattern: &[char]) {
        let words = pattern.len().div_ceil(64).max(1);
        self.words = words;
        self.ascii = [0; 128];
        self.other.clear();
        self.other
            .resize((2 * pattern.len()).next_power_of_two().max(8), (EMPTY, 0));
        self.rows.clear();
        self.rows.resize(words, 0);
        for (i, &c) in pattern.iter().enumerate() {
            let row = match self.row_index(c) {
                0 => self.add_row(c),
                row => row,
            };
            if let Some(word) = self.rows.get_mut(row * words + i / 64) {
                *word |= 1 << (i % 64);
            }
        }
    }

    /// The slot of `c` in `other`: where it is, or the free slot where it would go.
    /// (The table has a power-of-two length and at least one free slot after `fill`, so
    /// the probe ends; before `fill` it is empty and every lookup misses.)
    fn slot(&self, c: char) -> usize {
        let mask = self.other.len().wrapping_sub(1);
        let mut i = ((c as u32).wrapping_mul(0x9E37_79B1) >> 16) as usize & mask;
        while let Some(&(k, _)) = self.other.get(i) {
            if k == c as u32 || k == EMPTY {
                break;
            }
            i = (i + 1) & mask;
        }
        i
    }

    fn row_index(&self, c: char) -> usize {
        match self.ascii.get(c as usize) {
            Some(&row) => row as usize,
            None => match self.other.get(self.slot(c)) {
                Some(&(k, row)) if k == c as u32 => row as usize,
                _ => 0,
            },
        }
    }

    fn add_row(&mut self, c: char) -> usize {
        let row = self.rows.len() / self.words;
        self.rows.resize(self.rows.len() + self.words, 0);
        let slot = self.slot(c);
        match self.ascii.get_mut(c as usize) {
            Some(r) => *r = row as u32,
            None => {
                if let Some(entry) = self.other.get_mut(slot) {
                    *entry = (c as u32, row as u32);
                }
            }
        }
        row
    }

    fn row(&self, c: char) -> &[u64] {
        let start = self.row_index(c) * self.words;
        self.rows.get(start..start + self.words).unwrap_or_default()
    }
}

/// Buffers reused across calls on one thread.
#[derive(Default)]
struct Scratch {
    tokens: Tokens,
    a: Vec<char>,
    b: Vec<char>,
    masks: MatchMasks,
    v: Vec<u64>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Length of the longest common subsequence of two code-point sequences.
#[cfg(test)]
fn lcs_len(a: &[char], b: &[char]) -> usize {
    lcs_len_with(a, b, &mut MatchMasks::default(), &mut Vec::new())
}

/// [`lcs_len`] with reused tables.
fn lcs_len_with(a: &[char], b: &[char], masks: &mut MatchMasks, v: &mut Vec<u64>) -> usize {
    // A common prefix and suffix are part of some longest common subsequence.
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    let (pattern, text) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if pattern.is_empty() {
        return prefix + suffix;
    }
    masks.fill(pattern);
    // V: a bit per pattern position, cleared where the LCS has used it.
    v.clear();
    v.resize(masks.words, u64::MAX);
    if let [v] = v.as_mut_slice() {
        for &c in text {
            let u = *v & masks.rows[masks.row_index(c)];
            *v = v.wrapping_add(u) | (*v - u);
        }
    } else {
        for &c in text {
            let mut carry = false;
            for (vw, &m) in v.iter_mut().zip(masks.row(c)) {
                let u = *vw & m;
                let (sum, c1) = vw.overflowing_add(u);
                let (sum, c2) = sum.overflowing_add(u64::from(carry));
                carry = c1 || c2;
                *vw = sum | (*vw - u);
            }
        }
    }
    // The LCS is the number of cleared bits among the pattern's positions (carries may
    // also clear the bits above them in the last word, which are not counted).
    let middle: usize = v
        .iter()
        .enumerate()
        .map(|(w, &vw)| {
            let valid = (pattern.len() - 64 * w).min(64);
            let mask = if valid == 64 {
                u64::MAX
            } else {
                (1u64 << valid) - 1
            };
            (!vw & mask).count_ones() as usize
        })
        .sum();
    prefix + suffix + middle
}

/// `int(round(100 * (1.0 - dist / lensum)))`, the float expression of python-Levenshtein
/// (rapidfuzz's normalized Indel similarity), rounded half to even like Python's `round`.
fn rounded_ratio(dist: usize, lensum: usize) -> u32 {
    let r = (100.0 * (1.0 - (dist as f64 / lensum as f64))).round_ties_even();
    // 0.0 <= r <= 100.0 by construction.
    r.clamp(0.0, 100.0) as u32
}

/// `fuzz.ratio` on already processed strings (with its decorators).
fn ratio(a: &[char], b: &[char], masks: &mut MatchMasks, v: &mut Vec<u64>) -> u32 {
    if a == b {
        return 100;
    }
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let lensum = a.len() + b.len();
    rounded_ratio(lensum - 2 * lcs_len_with(a, b, masks, v), lensum)
}

/// `fuzz.token_sort_ratio(a, b)` (0..=100).
pub fn token_sort_ratio(a: &str, b: &str) -> u32 {
    if a == b {
        return 100;
    }
    let score = |s: &mut Scratch| {
        process_and_sort_chars(a, &mut s.tokens, &mut s.a);
        process_and_sort_chars(b, &mut s.tokens, &mut s.b);
        ratio(&s.a, &s.b, &mut s.masks, &mut s.v)
    };
    SCRATCH
        .try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => score(&mut scratch),
            Err(_) => score(&mut Scratch::default()),
        })
        .unwrap_or_else(|_| score(&mut Scratch::default()))
}

/// Upstream `char_f1(y_pred, y_true) = fuzz.token_sort_ratio(y_pred, y_true) / 100.0`.
pub fn char_f1(pred: &str, gold: &str) -> f64 {
    f64::from(token_sort_ratio(pred, gold)) / 100.0
}

/// [`char_f1`] of each pair (the lists have the same length; the caller checks).
pub fn char_f1_batch<S: AsRef<str>>(preds: &[S], golds: &[S]) -> Vec<f64> {
    preds
        .iter()
        .zip(golds)
        .map(|(p, g)| char_f1(p.as_ref(), g.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive_lcs(a: &[char], b: &[char]) -> usize {
        let mut dp = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                dp[i][j] = if a[i - 1] == b[j - 1] {
                    dp[i - 1][j - 1] + 1
                } else {
                    dp[i - 1][j].max(dp[i][j - 1])
                };
            }
        }
        dp[a.len()][b.len()]
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
        assert_eq!(token_sort_ratio("abcd", "axxxxxxxxxxxxxx"), 11);
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
            let text: Vec<char> = (0..n + 7).map(|i| ['z', 'x', 'w', 'y'][i % 4]).collect();
            assert_eq!(lcs_len(&pattern, &text), naive_lcs(&pattern, &text), "{n}");
        }
    }

    #[test]
    fn batch_matches_single_calls() {
        let preds: Vec<String> = (0..9000).map(|i| format!("東京 {i}")).collect();
        let golds: Vec<String> = (0..9000).map(|i| format!("{} 東京都", i % 7)).collect();
        let single: Vec<f64> = preds
            .iter()
            .zip(&golds)
            .map(|(p, g)| char_f1(p, g))
            .collect();
        assert_eq!(char_f1_batch(&preds, &golds), single);
    }

    /// Characters that exercise every path of the tokenizer: ASCII, U+0080..U+00FF,
    /// U+03A3 and other Greek, 'İ' (two-code-point lower()), full-width, kana and kanji,
    /// combining marks, whitespace of all kinds, ZWJ emoji and code points above the BMP.
    const MIXED: &str = "[a-zA-Z0-9_ .,!?'\"\\-\u{80}-\u{FF}ΣσςΑΟΔİıßẞǅĳŉÅЖжＡＢｃ０１あいアイ日本東京\u{3000}\u{1C}-\u{1F}\u{2000}\u{200B}\u{301}\u{3099}\u{200D}\u{FE0F}😀👍🏽𠀋𝐀𝑎①Ⅻ½]";

    proptest! {
        #[test]
        fn code_point_path_matches_string_path(a in proptest::string::string_regex(&format!("{MIXED}{{0,90}}")).unwrap()) {
            let mut out = Vec::new();
            process_and_sort_chars(&a, &mut Tokens::default(), &mut out);
            prop_assert_eq!(out.into_iter().collect::<String>(), process_and_sort(&a));
        }

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
