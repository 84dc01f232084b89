//! Prompt-side serialisation, as upstream `arc_agi.py` does it.
//!
//! * [`pretty_print_json`]: `json.dumps(grid)` then, in this order, `"[["→"[\n  ["`,
//!   `"]]"→"]\n]"`, `"], ["→"],\n  ["`, `", "→","` — string replacements, so e.g. a
//!   one-row grid `[[0, 1]]` becomes `"[\n  [0,1]\n]"`.
//! * [`pretty_print_tile`]: rows of space-separated values (the logged `input` column).
//! * [`format_prompt`]: the single user message (spec §4.2).

/// Text before `{training_examples}` in upstream's `PROMPT_TEMPLATE`.
const PROMPT_HEAD: &str = "あなたはパズルを解くコンテストに参加しています。あなたはパズルを解く専門家です。\n以下は、入力と出力のペアのリストです。あなたの目標は、トレーニング例における入力から出力へのマッピングを行うためのパターンや変換を特定し、そのパターンをテスト入力に適用して最終的な出力を生成することです。\n\n以下のトレーニング出力例のフォーマットで出力してください。\n\n--トレーニング例--\n";
/// Text between `{training_examples}` and `{test_input}`.
const PROMPT_MIDDLE: &str = "\n--トレーニング例ここまで--\n\n--テスト入力--\n";
/// Text after `{test_input}`.
const PROMPT_TAIL: &str = "\n--テスト入力ここまで--\n";

/// `json.dumps(grid)` for a list of lists of ints: `[[0, 1], [2, 3]]`.
pub fn json_dumps<R: AsRef<[i64]>>(grid: &[R]) -> String {
    let row = |r: &R| format!("[{}]", join(r.as_ref(), ", "));
    format!("[{}]", join(grid.iter().map(row), ", "))
}

/// Python's `sep.join(str(x) for x in items)`.
fn join<T: ToString>(items: impl IntoIterator<Item = T>, sep: &str) -> String {
    let strs: Vec<String> = items.into_iter().map(|x| x.to_string()).collect();
    strs.join(sep)
}

/// Upstream `pretty_print_json(tile)`.
pub fn pretty_print_json<R: AsRef<[i64]>>(grid: &[R]) -> String {
    json_dumps(grid)
        .replace("[[", "[\n  [")
        .replace("]]", "]\n]")
        .replace("], [", "],\n  [")
        .replace(", ", ",")
}

/// Upstream `pretty_print_tile(tile)`: `"\n".join(" ".join(str(e) for e in line) ...)`.
pub fn pretty_print_tile<R: AsRef<[i64]>>(grid: &[R]) -> String {
    join(grid.iter().map(|row| join(row.as_ref(), " ")), "\n")
}

/// Upstream `convert_task_pairs_to_prompt(train, test)[0]["content"]`: `train` holds the
/// `(input, output)` grids of the training pairs, in file order.
pub fn format_prompt<R: AsRef<[i64]>, G: AsRef<[R]>>(train: &[(G, G)], test_input: &[R]) -> String {
    let pretty = |g: &G| pretty_print_json(g.as_ref());
    let mut out = String::from(PROMPT_HEAD);
    for (i, (input, output)) in train.iter().enumerate() {
        let (input, output) = (pretty(input), pretty(output));
        out += &format!("--例 {i}-- \n\n 入力: \n\n{input}\n\n出力: \n\n{output}\n\n");
    }
    out + PROMPT_MIDDLE + &pretty_print_json(test_input) + PROMPT_TAIL
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{grid::cast_rows, parse::backscan};
    use proptest::prelude::*;

    #[test]
    fn pretty_print() {
        let cases: [(&[Vec<i64>], &str); 6] = [
            (&[vec![0, 1], vec![2, 3]], "[\n  [0,1],\n  [2,3]\n]"),
            (&[vec![0, 1]], "[\n  [0,1]\n]"),
            (&[vec![7]], "[\n  [7]\n]"),
            (&[vec![1], vec![2], vec![3]], "[\n  [1],\n  [2],\n  [3]\n]"),
            (&[], "[]"),
            (&[vec![]], "[\n  []\n]"),
        ];
        for (grid, pretty) in cases {
            assert_eq!(pretty_print_json(grid), pretty, "{grid:?}");
        }
        assert_eq!(json_dumps(&[[0i64, 1], [2, 3]]), "[[0, 1], [2, 3]]");
        assert_eq!(pretty_print_tile(&[[0i64, 1], [2, 3]]), "0 1\n2 3");
    }

    #[test]
    fn prompt() {
        let train = [(vec![vec![1i64]], vec![vec![2i64, 3]])];
        let p = format_prompt(&train, &[vec![4i64]]);
        assert!(p.starts_with("あなたはパズルを解くコンテストに参加しています。"));
        assert!(p.contains(
            "--トレーニング例--\n--例 0-- \n\n 入力: \n\n[\n  [1]\n]\n\n出力: \n\n[\n  [2,3]\n]\n\n\n--トレーニング例ここまで--\n\n--テスト入力--\n[\n  [4]\n]\n--テスト入力ここまで--\n"
        ));
        assert!(p.ends_with("--テスト入力ここまで--\n"));
    }

    fn grid_strategy() -> impl Strategy<Value = Vec<Vec<i64>>> {
        (1usize..=30, 1usize..=30).prop_flat_map(|(h, w)| {
            proptest::collection::vec(proptest::collection::vec(-300i64..300, w), h)
        })
    }

    /// What `np.array(g, np.int8)` makes of the grid.
    fn wrapped(g: &[Vec<i64>]) -> Vec<Vec<i8>> {
        g.iter()
            .map(|r| r.iter().map(|&v| v as i8).collect())
            .collect()
    }

    fn parsed(text: &str) -> Vec<Vec<i8>> {
        cast_rows(&backscan(text).unwrap()).unwrap().to_rows()
    }

    proptest! {
        #[test]
        fn serialize_then_parse_round_trips(g in grid_strategy()) {
            prop_assert_eq!(parsed(&pretty_print_json(&g)), wrapped(&g));
            prop_assert_eq!(parsed(&json_dumps(&g)), wrapped(&g));
        }

        #[test]
        fn grid_in_prose_is_found(
            g in grid_strategy(),
            before in "\\PC{0,80}",
            after in "[^\\]}]{0,80}",
        ) {
            let text = format!("{before}\n{}\n{after}", pretty_print_json(&g));
            prop_assert_eq!(parsed(&text), wrapped(&g));
        }
    }
}
