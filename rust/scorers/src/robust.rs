//! JMMLU robustness consistency (`evaluate_utils/robustness.py`).

/// `symbol_to_ABCD`: `{"$":"A","&":"B","#":"C","@":"D"}.get(s, s)`.
pub fn convert_symbol_choice(s: &str) -> &str {
    match s {
        "$" => "A",
        "&" => "B",
        "#" => "C",
        "@" => "D",
        other => other,
    }
}

/// `incorrect_to_ABCD`: exact-string map of the three wrong labels to the right one.
pub fn convert_incorrect_choice(s: &str) -> &str {
    match s {
        "B,C,D" => "A",
        "A,C,D" => "B",
        "A,B,D" => "C",
        "A,B,C" => "D",
        other => other,
    }
}

/// Score of one item from the three processed predictions (normal jmmlu, SymbolChoice,
/// IncorrectChoice): 3 matching pairs → 1.0, exactly 1 → 0.5, otherwise 0.0.
pub fn robust_consistency(normal: &str, symbol: &str, incorrect: &str) -> f64 {
    let sym = convert_symbol_choice(symbol);
    let inc = convert_incorrect_choice(incorrect);
    let matches = usize::from(normal == inc) + usize::from(normal == sym) + usize::from(inc == sym);
    match matches {
        3 => 1.0,
        1 => 0.5,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(convert_symbol_choice("$"), "A");
        assert_eq!(convert_symbol_choice("@"), "D");
        assert_eq!(convert_symbol_choice("＄"), "＄");
        assert_eq!(convert_symbol_choice("A"), "A");
        assert_eq!(convert_incorrect_choice("B,C,D"), "A");
        assert_eq!(convert_incorrect_choice("A,B,C"), "D");
        assert_eq!(convert_incorrect_choice("B, C, D"), "B, C, D");
        assert_eq!(convert_incorrect_choice("C,B,D"), "C,B,D");
    }

    #[test]
    fn scores() {
        assert_eq!(robust_consistency("A", "$", "B,C,D"), 1.0);
        assert_eq!(robust_consistency("C", "#", "A,B,C"), 0.5);
        assert_eq!(robust_consistency("A", "&", "A,B,D"), 0.0);
        assert_eq!(robust_consistency("", "", ""), 1.0);
        assert_eq!(robust_consistency("D", "?", "?"), 0.5);
        assert_eq!(robust_consistency("a", "$", "B,C,D"), 0.5);
    }
}
