//! Jaster Control checks (`controllability_dict` in upstream `evaluate_utils`).

use crate::pyfloat::parse_py_float;

/// What a task's control check verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlRule {
    /// `is_all_digit`: `float(y)` succeeds.
    AllDigit,
    /// `is_one_of_ABCD`.
    OneOfAbcd,
    /// `is_a_b`.
    AB,
    /// `is_0_4`.
    ZeroToFour,
    /// `is_0_3`.
    ZeroToThree,
    /// `is_0_1`.
    ZeroOne,
    /// `is_entailment2_format`.
    Entailment2,
    /// `is_entailment3_format`.
    Entailment3,
    /// `is_jsem_format`.
    Jsem,
    /// `no_check`: returns None.
    NoCheck,
}

/// Upstream `task.replace("_IncorrectChoice", "").replace("_SymbolChoice", "")`.
pub fn task_without_robust_suffix(task: &str) -> String {
    task.replace("_IncorrectChoice", "")
        .replace("_SymbolChoice", "")
}

/// The rule for a task (after removing the robustness suffix); `None` if unknown.
pub fn control_rule(task: &str) -> Option<ControlRule> {
    use ControlRule::*;
    let rule = match task_without_robust_suffix(task).as_str() {
        "aio" | "alt-e-to-j" | "alt-j-to-e" | "jemhopqa" | "jhumaneval" | "jsquad" | "niilc" => {
            NoCheck
        }
        "commonsensemoralja" | "jcola-in-domain" | "jcola-out-of-domain" => ZeroOne,
        "jamp" | "jnli" | "jsick" => Entailment3,
        "janli" => Entailment2,
        "jblimp" => AB,
        "jcommonsenseqa" => ZeroToFour,
        "jsem" => Jsem,
        "jmmlu" | "mmlu_prox_ja" | "mmlu_en" => OneOfAbcd,
        "kuci" => ZeroToThree,
        "mawps" | "mgsm" => AllDigit,
        _ => return None,
    };
    Some(rule)
}

/// Apply a rule to a processed prediction: `Some(1.0)`, `Some(0.0)` or `None` (no_check).
pub fn apply_rule(rule: ControlRule, y: &str) -> Option<f64> {
    use ControlRule::*;
    let ok = match rule {
        AllDigit => parse_py_float(y).is_some(),
        OneOfAbcd => matches!(y, "A" | "B" | "C" | "D"),
        AB => matches!(y, "a" | "b"),
        ZeroToFour => matches!(y, "0" | "1" | "2" | "3" | "4"),
        ZeroToThree => matches!(y, "0" | "1" | "2" | "3"),
        ZeroOne => matches!(y, "0" | "1"),
        Entailment2 => matches!(y, "entailment" | "non-entailment"),
        Entailment3 => matches!(y, "entailment" | "contradiction" | "neutral"),
        Jsem => matches!(y, "yes" | "no" | "unknown" | "undef"),
        NoCheck => return None,
    };
    Some(if ok { 1.0 } else { 0.0 })
}

/// Error for a task that upstream's `controllability_dict` does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTask(pub String);

impl std::fmt::Display for UnknownTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown jaster task for control check: {:?}", self.0)
    }
}

impl std::error::Error for UnknownTask {}

/// `controllability_dict[task_without_robust_suffix](y_pred)`.
pub fn control_check(task: &str, pred: &str) -> Result<Option<f64>, UnknownTask> {
    let rule = control_rule(task).ok_or_else(|| UnknownTask(task.to_owned()))?;
    Ok(apply_rule(rule, pred))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(control_check("mawps", "12"), Ok(Some(1.0)));
        assert_eq!(control_check("mgsm", "1_000"), Ok(Some(1.0)));
        assert_eq!(control_check("mgsm", "nan"), Ok(Some(1.0)));
        assert_eq!(control_check("mgsm", "12個"), Ok(Some(0.0)));
        assert_eq!(control_check("jmmlu", "A"), Ok(Some(1.0)));
        assert_eq!(control_check("jmmlu", "a"), Ok(Some(0.0)));
        assert_eq!(control_check("jmmlu_SymbolChoice", "B"), Ok(Some(1.0)));
        assert_eq!(
            control_check("jmmlu_IncorrectChoice", "A,B,C"),
            Ok(Some(0.0))
        );
        assert_eq!(control_check("jblimp", "b"), Ok(Some(1.0)));
        assert_eq!(control_check("jcommonsenseqa", "4"), Ok(Some(1.0)));
        assert_eq!(control_check("kuci", "4"), Ok(Some(0.0)));
        assert_eq!(control_check("commonsensemoralja", "1"), Ok(Some(1.0)));
        assert_eq!(control_check("janli", "non-entailment"), Ok(Some(1.0)));
        assert_eq!(control_check("jnli", "non-entailment"), Ok(Some(0.0)));
        assert_eq!(control_check("jsem", "undef"), Ok(Some(1.0)));
        assert_eq!(control_check("mmlu_prox_ja", "D"), Ok(Some(1.0)));
        assert_eq!(control_check("jsquad", "anything"), Ok(None));
        assert_eq!(control_check("jhumaneval", ""), Ok(None));
        assert_eq!(control_check("jcola-out-of-domain", ""), Ok(Some(0.0)));
    }

    #[test]
    fn unknown_task() {
        let err = control_check("no-such-task", "A");
        assert_eq!(err, Err(UnknownTask("no-such-task".into())));
        let msg = UnknownTask("no-such-task".into()).to_string();
        assert!(msg.contains("no-such-task"));
        assert!(control_check("", "A").is_err());
        assert!(control_check("jmmlu_", "A").is_err());
    }

    #[test]
    fn suffix_removal() {
        assert_eq!(task_without_robust_suffix("jmmlu_IncorrectChoice"), "jmmlu");
        assert_eq!(task_without_robust_suffix("jmmlu_SymbolChoice"), "jmmlu");
        assert_eq!(task_without_robust_suffix("jnli"), "jnli");
    }
}
