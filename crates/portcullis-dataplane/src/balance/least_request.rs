//! Least request by the power of two choices: draw two backends by weight and take the
//! one with fewer requests in flight relative to its weight. Nearly as good as a full
//! scan, at O(1), and with no herd onto a single "least loaded" backend.
//!
//! Requests in flight are counted per worker, as nginx's `least_conn` counts them per
//! worker process unless given a shared zone: a worker weighs the requests it sent
//! itself. A pick then reads counts only its own core writes; reading every worker's
//! would cost a cache miss per worker per draw.
//!
//! When both have the same number of requests in flight, the first draw wins. The draw
//! is already weighted; preferring the heavier backend on top of it would count the
//! weight twice, and an idle cluster (everything at 0) would send a weight-3 backend
//! 15 requests in 16 instead of 3 in 4.

use super::{scan_from_random, Candidate, Select, SelectKey, WeightedRandom};

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct LeastRequest {
    draws: WeightedRandom,
}

impl LeastRequest {
    pub(crate) fn new(weights: &[u32]) -> Self {
        Self {
            draws: WeightedRandom::new(weights),
        }
    }

    fn accepted_draw(&self, accept: &mut dyn FnMut(usize) -> bool) -> Option<usize> {
        (0..4).find_map(|_| self.draws.draw().filter(|&i| accept(i)))
    }
}

/// `a` is less loaded than `b`: (in_flight + 1) / weight compared without division.
/// Equal in-flight counts keep `a`, the first (weighted) draw: see the module docs.
fn lighter<C: Candidate>(a: &C, b: &C) -> bool {
    let (in_a, in_b) = (a.in_flight(), b.in_flight());
    if in_a == in_b {
        return true;
    }
    let load_a = (in_a as u64 + 1) * u64::from(b.weight());
    let load_b = (in_b as u64 + 1) * u64::from(a.weight());
    load_a <= load_b
}

impl Select for LeastRequest {
    fn select<C: Candidate>(
        &self,
        backends: &[C],
        _key: SelectKey,
        accept: &mut dyn FnMut(usize) -> bool,
    ) -> Option<usize> {
        let first = self.accepted_draw(accept);
        let second = self.accepted_draw(accept);
        match (first, second) {
            (Some(a), Some(b)) => Some(if lighter(&backends[a], &backends[b]) {
                a
            } else {
                b
            }),
            (Some(one), None) | (None, Some(one)) => Some(one),
            (None, None) => scan_from_random(backends.len(), accept),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::fakes;
    use super::*;

    #[test]
    fn prefers_the_less_loaded_of_two() {
        let mut backends = fakes(&[1, 1]);
        backends[0].in_flight = 10;
        let lr = LeastRequest::new(&[1, 1]);
        let picks = (0..1000)
            .filter(|_| lr.select(&backends, SelectKey::default(), &mut |_| true) == Some(1))
            .count();
        // Backend 1 wins whenever it is drawn at least once: about 3 draws in 4.
        assert!(picks > 650, "picked the idle backend {picks} times of 1000");
    }

    #[test]
    fn equal_load_follows_the_weighted_draw() {
        let backends = fakes(&[1, 3]);
        let lr = LeastRequest::new(&[1, 3]);
        let n = 20_000;
        let heavy = (0..n)
            .filter(|_| lr.select(&backends, SelectKey::default(), &mut |_| true) == Some(1))
            .count();
        let share = heavy as f64 / n as f64;
        assert!((share - 0.75).abs() < 0.02, "share {share}");
    }

    #[test]
    fn weight_scales_load() {
        let mut backends = fakes(&[10, 1]);
        backends[0].in_flight = 5; // 6/10 per weight unit, versus 1/1
        assert!(lighter(&backends[0], &backends[1]));
    }
}
