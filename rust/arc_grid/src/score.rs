//! Upstream ARC-AGI aggregation (pandas):
//!
//! ```text
//! score_df = output_df.groupby(['task_id', 'test_example_id']).agg({'correct': 'max'})  # pass@k
//! score_df = score_df.groupby('task_id').agg({'correct': 'mean'})
//! total_score = score_df['correct'].mean()
//! ```
//!
//! `groupby(...).mean()` is pandas' Cython `group_mean` (Kahan-compensated sum / count);
//! `Series.mean()` is `values.sum() / count`, numpy's pairwise sum. Groups are sorted by
//! key (task ids in code-point order). The leaderboard `AVG` is `(v1 + v2) / 2`.

use std::collections::BTreeMap;

/// pass@k of one test example: `max` over its attempts (`None` for no attempts — pandas
/// would have no such group).
pub fn pass_at_k(attempts: &[bool]) -> Option<f64> {
    (!attempts.is_empty()).then(|| f64::from(u8::from(attempts.contains(&true))))
}

/// pandas `group_mean` for one group: Kahan-compensated sum divided by the count.
pub fn kahan_mean(values: &[f64]) -> f64 {
    let mut sum = 0.0f64;
    let mut compensation = 0.0f64;
    for &v in values {
        let y = v - compensation;
        let t = sum + y;
        compensation = t - sum - y;
        if compensation.is_nan() {
            compensation = 0.0;
        }
        sum = t;
    }
    sum / values.len() as f64
}

/// numpy's float64 `add.reduce` (pairwise summation, 8-way unrolled blocks of ≤ 128).
pub fn numpy_sum(values: &[f64]) -> f64 {
    0.0 + pairwise_sum(values)
}

fn pairwise_sum(a: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |acc, &x| acc + x)
    } else if n <= BLOCK {
        // numpy's unrolled loop: accumulator k takes every element at k mod 8 of the whole
        // blocks, and the last n % 8 elements are added after the accumulators are combined.
        let (blocks, tail) = a.split_at(n - n % 8);
        let mut chunks = blocks.chunks_exact(8);
        let first = chunks.next().and_then(|c| <[f64; 8]>::try_from(c).ok());
        let mut r = first.unwrap_or_default();
        for chunk in chunks {
            for (acc, &x) in r.iter_mut().zip(chunk) {
                *acc += x;
            }
        }
        let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        tail.iter().fold(res, |acc, &x| acc + x)
    } else {
        let (lo, hi) = a.split_at(n / 2 - n / 2 % 8);
        pairwise_sum(lo) + pairwise_sum(hi)
    }
}

/// `Series.mean()` of float64 values: numpy sum / count (`NaN` when empty).
pub fn numpy_mean(values: &[f64]) -> f64 {
    numpy_sum(values) / values.len() as f64
}

/// Score of one task: mean over its test examples of pass@k. Examples without attempts
/// are skipped; `None` if none remain.
pub fn task_score(examples: &[Vec<bool>]) -> Option<f64> {
    let passes: Vec<f64> = examples.iter().filter_map(|a| pass_at_k(a)).collect();
    (!passes.is_empty()).then(|| kahan_mean(&passes))
}

/// Version score (`arc-agi-1` / `arc-agi-2` column): mean over tasks, in task-id order,
/// of [`task_score`]. `NaN` when no task has an attempt.
pub fn version_score(tasks: &BTreeMap<String, Vec<Vec<bool>>>) -> f64 {
    let scores: Vec<f64> = tasks.values().filter_map(|t| task_score(t)).collect();
    numpy_mean(&scores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pass_at_2() {
        let cases: [(&[bool], _); 4] = [
            (&[false, true], Some(1.0)),
            (&[false, false], Some(0.0)),
            (&[true], Some(1.0)),
            (&[], None),
        ];
        for (attempts, pass) in cases {
            assert_eq!(pass_at_k(attempts), pass, "{attempts:?}");
        }
    }

    #[test]
    fn golden_shape() {
        // arc-agi-1 golden: 10 tasks, 5 solved → 0.5
        let tasks = (0..10).map(|i| (format!("t{i}"), vec![vec![i % 2 == 0, false]]));
        assert_eq!(version_score(&tasks.collect()), 0.5);
        assert!(version_score(&BTreeMap::new()).is_nan());
        let mixed = BTreeMap::from([
            ("a".to_owned(), vec![vec![true], vec![false], vec![false]]),
            ("b".to_owned(), vec![vec![], vec![true]]),
            ("c".to_owned(), vec![vec![]]),
        ]);
        assert_eq!(version_score(&mixed), (1.0 / 3.0 + 1.0) / 2.0);
    }

    #[test]
    fn numpy_pairwise_rounding() {
        // 0.1 * 10: numpy's unrolled sum gives 1.0, naive left-to-right gives 0.9999999999999999
        let v = [0.1f64; 10];
        assert_eq!(numpy_sum(&v), 1.0);
        assert_eq!(v.iter().sum::<f64>(), 0.9999999999999999);
        assert_eq!(numpy_sum(&[]), 0.0);
    }

    proptest! {
        #[test]
        fn pairwise_close_to_naive(v in proptest::collection::vec(0.0f64..1.0, 0..600)) {
            let naive: f64 = v.iter().sum();
            prop_assert!((numpy_sum(&v) - naive).abs() <= 1e-9);
        }

        #[test]
        fn binary_scores_are_exact(v in proptest::collection::vec(any::<bool>(), 1..400)) {
            let f: Vec<f64> = v.iter().map(|&b| f64::from(u8::from(b))).collect();
            let ones = v.iter().filter(|&&b| b).count() as f64;
            prop_assert_eq!(numpy_sum(&f), ones);
            prop_assert_eq!(kahan_mean(&f), ones / v.len() as f64);
        }
    }
}
