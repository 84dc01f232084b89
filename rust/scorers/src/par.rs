//! Splitting a batch over the cores: contiguous index ranges, one scoped thread each.

use std::ops::Range;
use std::sync::OnceLock;

fn cores() -> usize {
    // `available_parallelism` reads the affinity mask and cgroup limits: once is enough.
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// `score` over contiguous ranges covering `0..n`, concatenated in index order. From
/// `2 * per_thread` items on, the ranges run on up to all cores (the first on the calling
/// thread); the error returned is then still the one of the lowest range that failed,
/// so a scorer that stops at its first bad item reports the first bad index overall.
pub fn map_ranges<R: Send, E: Send>(
    n: usize,
    per_thread: usize,
    score: impl Fn(Range<usize>) -> Result<Vec<R>, E> + Sync,
) -> Result<Vec<R>, E> {
    let threads = if n < 2 * per_thread {
        1
    } else {
        cores().min(n / per_thread).max(1)
    };
    if threads == 1 {
        return score(0..n);
    }
    let chunk = n.div_ceil(threads);
    let ranges: Vec<Range<usize>> = (0..n)
        .step_by(chunk)
        .map(|start| start..(start + chunk).min(n))
        .collect();
    let score = &score;
    let parts = std::thread::scope(|scope| {
        let (first, rest) = ranges
            .split_first()
            .map_or((None, &[][..]), |(f, r)| (Some(f), r));
        let handles: Vec<_> = rest
            .iter()
            .map(|r| {
                let r = r.clone();
                scope.spawn(move || score(r))
            })
            .collect();
        let mut parts = Vec::with_capacity(ranges.len());
        if let Some(r) = first {
            parts.push(score(r.clone()));
        }
        for handle in handles {
            match handle.join() {
                Ok(part) => parts.push(part),
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        parts
    });
    let mut out = Vec::with_capacity(n);
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_every_index_once_in_order_and_reports_the_lowest_error() {
        for n in [0, 1, 7, 99, 100, 1000, 4321] {
            let got = map_ranges(n, 10, |r| Ok::<_, usize>(r.collect()));
            assert_eq!(got, Ok((0..n).collect::<Vec<_>>()));
        }
        let fail_at = |bad: &'static [usize]| {
            move |r: Range<usize>| match r.clone().find(|i| bad.contains(i)) {
                Some(i) => Err(i),
                None => Ok(r.collect::<Vec<_>>()),
            }
        };
        assert_eq!(map_ranges(5000, 10, fail_at(&[3100, 4900])), Err(3100));
        assert_eq!(map_ranges(5000, 10, fail_at(&[4900, 12])), Err(12));
    }
}
