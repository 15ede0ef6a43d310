//! Smooth weighted round robin, as nginx does it: weights 5,1,1 give `a a b a c a a`,
//! not `a a a a a b c`. The sequence of one period is computed when the configuration
//! is built; a request takes the next slot with one atomic add, so no lock is taken.
//! Each worker walks the sequence with a cursor of its own from a random start, as
//! each nginx worker does: one cursor shared by all would be a cache line every
//! request on every worker writes.
//! A slot whose backend is not accepted is consumed and the next slot taken, which keeps
//! the remaining backends in proportion to their weights.

use std::sync::atomic::{AtomicUsize, Ordering};

use portcullis_breaker::per_thread::PerThread;

use super::{scan, Candidate, Select, SelectKey};

/// Build-time work bound: one period costs `period × backends` steps.
const MAX_BUILD_STEPS: u64 = 16_000_000;

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct SmoothRoundRobin {
    sequence: Vec<u32>,
    cursors: PerThread<AtomicUsize>,
}

impl SmoothRoundRobin {
    pub(crate) fn new(weights: &[u32]) -> Self {
        let sequence = smooth_sequence(&reduce(weights));
        let start = || AtomicUsize::new(fastrand::usize(..sequence.len().max(1)));
        Self {
            cursors: PerThread::new_with(start),
            sequence,
        }
    }
}

/// Weights divided by their gcd, then scaled down (each keeping at least 1) when one
/// period would cost more than `MAX_BUILD_STEPS` to compute.
fn reduce(weights: &[u32]) -> Vec<u64> {
    let gcd = weights
        .iter()
        .fold(0u64, |g, &w| gcd(g, u64::from(w)))
        .max(1);
    let reduced: Vec<u64> = weights.iter().map(|&w| u64::from(w) / gcd).collect();
    let total: u64 = reduced.iter().sum();
    let n = reduced.len().max(1) as u64;
    let max_period = (MAX_BUILD_STEPS / n).max(n);
    if total <= max_period {
        return reduced;
    }
    reduced
        .iter()
        .map(|&w| (w * max_period / total).max(1))
        .collect()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// One period of nginx's smooth weighted round robin: every step each backend's
/// current weight grows by its weight, the largest is picked (first on ties) and
/// loses the total.
fn smooth_sequence(weights: &[u64]) -> Vec<u32> {
    let total: i64 = weights.iter().sum::<u64>() as i64;
    let mut current = vec![0i64; weights.len()];
    let mut sequence = Vec::with_capacity(total as usize);
    for _ in 0..total {
        let mut best = 0;
        for (i, &w) in weights.iter().enumerate() {
            current[i] += w as i64;
            if current[i] > current[best] {
                best = i;
            }
        }
        current[best] -= total;
        sequence.push(best as u32);
    }
    sequence
}

impl Select for SmoothRoundRobin {
    fn select<C: Candidate>(
        &self,
        backends: &[C],
        _key: SelectKey,
        accept: &mut dyn FnMut(usize) -> bool,
    ) -> Option<usize> {
        let period = self.sequence.len();
        if period == 0 {
            return None;
        }
        let bound = period.min(2 * backends.len() + 2);
        let cursor = self.cursors.mine();
        for _ in 0..bound {
            let slot = cursor.fetch_add(1, Ordering::Relaxed) % period;
            let index = self.sequence[slot] as usize;
            if accept(index) {
                return Some(index);
            }
        }
        scan(backends.len(), cursor.load(Ordering::Relaxed), accept)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::fakes;
    use super::*;

    fn picks(weights: &[u32], n: usize, accept: impl Fn(usize) -> bool) -> Vec<usize> {
        let rr = SmoothRoundRobin::new(weights);
        rr.cursors.mine().store(0, Ordering::Relaxed);
        let backends = fakes(weights);
        (0..n)
            .map(|_| {
                rr.select(&backends, SelectKey::default(), &mut |i| accept(i))
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn interleaves_smoothly() {
        assert_eq!(picks(&[5, 1, 1], 7, |_| true), [0, 0, 1, 0, 2, 0, 0]);
        assert_eq!(picks(&[1, 1, 1], 6, |_| true), [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn skipping_a_backend_keeps_the_others_in_proportion() {
        let chosen = picks(&[1, 1, 2], 3000, |i| i != 1);
        let count = |b| chosen.iter().filter(|&&c| c == b).count();
        assert_eq!(count(1), 0);
        assert!((count(2) as f64 / count(0) as f64 - 2.0).abs() < 0.05);
    }

    #[test]
    fn huge_weight_sums_are_scaled_not_dropped() {
        let weights: Vec<u32> = (1..=1000).collect();
        let rr = SmoothRoundRobin::new(&weights);
        assert!(rr.sequence.len() as u64 <= MAX_BUILD_STEPS / 1000 + 1000);
        assert!(rr.sequence.contains(&0), "every backend keeps a slot");
    }

    #[test]
    fn none_when_nothing_is_accepted() {
        let rr = SmoothRoundRobin::new(&[1, 2]);
        assert_eq!(
            rr.select(&fakes(&[1, 2]), SelectKey::default(), &mut |_| false),
            None
        );
    }
}
