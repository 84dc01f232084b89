//! Jaster answer post-processing (`evaluate_utils/formatter.py` + the `jaster.py` pipe).

use crate::nfkc::nfkc;
use crate::pystr;

const JA_PREFIXES: [&str; 3] = ["応答:", "回答:", "答え:"];
const EN_PREFIXES: [&str; 2] = ["ANSWER:", "RESPONSE:"];

fn remove_all(s: &str, patterns: &[&str]) -> String {
    let mut out = s.to_owned();
    for p in patterns {
        // sequential str.replace(p, "") calls, in upstream order
        if out.contains(p) {
            out = out.replace(p, "");
        }
    }
    out
}

/// Upstream `text_formatter(input_str, dataset)`: first matching branch wins.
///
/// Quirk kept on purpose: plain `jmmlu` does not start with `"jmmlu_"` and therefore
/// falls through to "unchanged".
pub fn text_formatter(s: &str, task: &str) -> String {
    match task {
        "jamp" | "janli" | "jnli" | "jsem" | "jsick" => pystr::lower(pystr::strip(s)),
        "jcommonsenseqa" | "commonsensemoralja" | "mawps" => pystr::strip(s).to_owned(),
        "jemhopqa" | "jsquad" | "niilc" => pystr::lower(pystr::strip(&remove_all(s, &JA_PREFIXES))),
        // `startswith("jmmlu_IncorrectChoice")` and `startswith("jmmlu_")` do the same thing.
        _ if task.starts_with("jmmlu_") => pystr::upper(pystr::strip(&remove_all(s, &JA_PREFIXES))),
        _ if task.starts_with("mmlu_en_") => {
            pystr::upper(pystr::strip(&remove_all(s, &EN_PREFIXES)))
        }
        _ => s.to_owned(),
    }
}

/// The processed prediction of every jaster task except jhumaneval:
/// `text_formatter` → `split("\n\n")[0]` → `strip()` → `strip("'")` → `strip('"')`
/// → `strip()` → NFKC.
pub fn normalize_prediction(raw: &str, task: &str) -> String {
    let formatted = text_formatter(raw, task);
    let first_block = formatted.split("\n\n").next().unwrap_or("");
    let y = pystr::strip(first_block);
    let y = pystr::strip_char(y, '\'');
    let y = pystr::strip_char(y, '"');
    let y = pystr::strip(y);
    nfkc(y)
}

/// The gold answer: `unicodedata.normalize("NFKC", sample["output"])`.
pub fn normalize_reference(s: &str) -> String {
    nfkc(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formatter_branches() {
        assert_eq!(text_formatter("  Entailment ", "jnli"), "entailment");
        assert_eq!(text_formatter("  1 ", "jcommonsenseqa"), "1");
        assert_eq!(text_formatter(" 回答: 東京 ", "jsquad"), "東京");
        assert_eq!(text_formatter("答え:ABC", "niilc"), "abc");
        assert_eq!(text_formatter("回応答:答:x", "jemhopqa"), "x");
        assert_eq!(
            text_formatter(" 回答: a,b,c ", "jmmlu_IncorrectChoice"),
            "A,B,C"
        );
        assert_eq!(text_formatter("答え:＄", "jmmlu_SymbolChoice"), "＄");
        assert_eq!(text_formatter(" ANSWER: b", "mmlu_en_x"), "B");
        // quirk: plain jmmlu is unchanged
        assert_eq!(text_formatter(" 回答: a ", "jmmlu"), " 回答: a ");
        assert_eq!(text_formatter(" x ", "mgsm"), " x ");
        assert_eq!(text_formatter(" x ", "unknown-task"), " x ");
        assert_eq!(text_formatter("straße", "jmmlu_SymbolChoice"), "STRASSE");
    }

    #[test]
    fn prediction_pipeline() {
        assert_eq!(normalize_prediction("\n\n0", "commonsensemoralja"), "0");
        assert_eq!(normalize_prediction("\n\n0", "jmmlu"), "");
        assert_eq!(normalize_prediction("\"'1'\"", "commonsensemoralja"), "'1'");
        assert_eq!(normalize_prediction("'\"1\"'", "jcola-in-domain"), "1");
        assert_eq!(normalize_prediction("  1  ", "jblimp"), "1");
        assert_eq!(normalize_prediction("ｂ\n\n理由", "jblimp"), "b");
        assert_eq!(normalize_prediction("a", "jmmlu"), "a");
        assert_eq!(normalize_prediction("＄", "jmmlu_SymbolChoice"), "$");
        assert_eq!(
            normalize_prediction("Ｅｎｔａｉｌｍｅｎｔ", "jnli"),
            "entailment"
        );
        assert_eq!(normalize_prediction("\u{3000}１２\u{3000}", "mgsm"), "12");
        assert_eq!(normalize_prediction("", "jsquad"), "");
        assert_eq!(normalize_prediction("😀\n\n", "aio"), "😀");
        assert_eq!(normalize_prediction("x\n \ny", "aio"), "x\n \ny");
        assert_eq!(normalize_reference("ＡＢ１"), "AB1");
    }

    proptest! {
        #[test]
        fn never_panics(raw in "\\PC*", task in "(jnli|jsquad|jmmlu|jmmlu_SymbolChoice|mawps|mmlu_en_a|\\PC{0,8})") {
            let _ = normalize_prediction(&raw, &task);
        }

        #[test]
        fn idempotent_for_unchanged_tasks(raw in "\\PC{0,30}") {
            let once = normalize_prediction(&raw, "aio");
            // a second pass can only strip more quotes; it never panics and never grows
            let twice = normalize_prediction(&once, "aio");
            prop_assert!(twice.chars().count() <= once.chars().count());
        }
    }
}
