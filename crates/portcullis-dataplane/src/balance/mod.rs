//! Load-balancing algorithms. Each is built once per configuration and read by every
//! request; picking walks candidates with an `accept` predicate (healthy, not ejected,
//! breaker closed) and a bound, instead of rebuilding anything per request.

mod consistent_hash;
mod least_request;
mod random;
mod round_robin;

use portcullis_config::Balance;

pub(crate) use consistent_hash::{hash_bytes, ConsistentHash};
pub(crate) use least_request::LeastRequest;
pub(crate) use random::WeightedRandom;
pub(crate) use round_robin::SmoothRoundRobin;

/// What an algorithm may know about a backend.
pub(crate) trait Candidate {
    /// Relative share, 1..=1000.
    fn weight(&self) -> u32;
    /// Requests in flight right now, as the calling worker counts them.
    fn in_flight(&self) -> usize;
}

/// What an algorithm may know about a request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SelectKey {
    /// The `hash_on` value's hash; only `consistent_hash` reads it.
    pub hash: u64,
}

/// A load-balancing algorithm over a fixed list of backends.
pub(crate) trait Select: Send + Sync {
    /// The index of the backend to use, among those `accept` takes; `None` if it takes
    /// none. Every call is bounded.
    fn select<C: Candidate>(
        &self,
        backends: &[C],
        key: SelectKey,
        accept: &mut dyn FnMut(usize) -> bool,
    ) -> Option<usize>;
}

/// The algorithm a cluster uses, chosen by `balance`.
#[derive(Debug)]
pub(crate) enum Balancer {
    RoundRobin(SmoothRoundRobin),
    LeastRequest(LeastRequest),
    Random(WeightedRandom),
    ConsistentHash(ConsistentHash),
}

impl Balancer {
    /// Builds the algorithm for backends with these identities and weights.
    pub(crate) fn new(kind: Balance, backends: &[(&str, u32)]) -> Self {
        let weights: Vec<u32> = backends.iter().map(|(_, w)| *w).collect();
        match kind {
            Balance::RoundRobin => Self::RoundRobin(SmoothRoundRobin::new(&weights)),
            Balance::LeastRequest => Self::LeastRequest(LeastRequest::new(&weights)),
            Balance::Random => Self::Random(WeightedRandom::new(&weights)),
            Balance::ConsistentHash => Self::ConsistentHash(ConsistentHash::new(backends)),
        }
    }

    /// See [`Select::select`].
    pub(crate) fn select<C: Candidate>(
        &self,
        backends: &[C],
        key: SelectKey,
        accept: &mut dyn FnMut(usize) -> bool,
    ) -> Option<usize> {
        match self {
            Self::RoundRobin(s) => s.select(backends, key, accept),
            Self::LeastRequest(s) => s.select(backends, key, accept),
            Self::Random(s) => s.select(backends, key, accept),
            Self::ConsistentHash(s) => s.select(backends, key, accept),
        }
    }
}

/// The last resort of every algorithm: the first accepted backend from `start` on.
fn scan(len: usize, start: usize, accept: &mut dyn FnMut(usize) -> bool) -> Option<usize> {
    (0..len).map(|i| (start + i) % len).find(|&i| accept(i))
}

/// [`scan`] from a random start, so a fallback does not always favour the first.
fn scan_from_random(len: usize, accept: &mut dyn FnMut(usize) -> bool) -> Option<usize> {
    scan(len, fastrand::usize(..len.max(1)), accept)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::Candidate;

    /// A backend stand-in for algorithm tests.
    pub(crate) struct Fake {
        pub weight: u32,
        pub in_flight: usize,
    }

    impl Candidate for Fake {
        fn weight(&self) -> u32 {
            self.weight
        }
        fn in_flight(&self) -> usize {
            self.in_flight
        }
    }

    pub(crate) fn fakes(weights: &[u32]) -> Vec<Fake> {
        weights
            .iter()
            .map(|&weight| Fake {
                weight,
                in_flight: 0,
            })
            .collect()
    }
}
