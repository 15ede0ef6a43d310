//! Weighted random: a binary search over prefix sums of the weights.

use super::{scan_from_random, Candidate, Select, SelectKey};

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct WeightedRandom {
    /// `cumulative[i]` is the sum of weights `0..=i`.
    cumulative: Vec<u64>,
}

impl WeightedRandom {
    pub(crate) fn new(weights: &[u32]) -> Self {
        let cumulative = weights
            .iter()
            .scan(0u64, |sum, &w| {
                *sum += u64::from(w);
                Some(*sum)
            })
            .collect();
        Self { cumulative }
    }

    /// One weighted draw, ignoring health.
    pub(crate) fn draw(&self) -> Option<usize> {
        let total = *self.cumulative.last()?;
        let point = fastrand::u64(..total.max(1));
        Some(self.cumulative.partition_point(|&sum| sum <= point))
    }
}

impl Select for WeightedRandom {
    fn select<C: Candidate>(
        &self,
        backends: &[C],
        _key: SelectKey,
        accept: &mut dyn FnMut(usize) -> bool,
    ) -> Option<usize> {
        for _ in 0..backends.len().min(8) + 2 {
            match self.draw() {
                Some(index) if accept(index) => return Some(index),
                Some(_) => {}
                None => return None,
            }
        }
        scan_from_random(backends.len(), accept)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::fakes;
    use super::*;

    #[test]
    fn follows_weights() {
        let random = WeightedRandom::new(&[1, 3]);
        let backends = fakes(&[1, 3]);
        let n = 20_000;
        let heavy = (0..n)
            .filter(|_| random.select(&backends, SelectKey::default(), &mut |_| true) == Some(1))
            .count();
        let share = heavy as f64 / n as f64;
        assert!((share - 0.75).abs() < 0.02, "share {share}");
    }

    #[test]
    fn finds_the_only_accepted_backend() {
        let random = WeightedRandom::new(&[1000, 1000, 1]);
        let backends = fakes(&[1000, 1000, 1]);
        for _ in 0..100 {
            let pick = random.select(&backends, SelectKey::default(), &mut |i| i == 2);
            assert_eq!(pick, Some(2));
        }
    }
}
