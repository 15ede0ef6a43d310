//! Concurrency limits: `max_requests` per cluster and `max_requests_per_backend`.
//!
//! A counter and a ceiling, nothing more. There is no queue on purpose: at the edge a
//! request over the limit is better answered at once (`overloaded`, 502) than parked
//! while the client's own timeout runs out.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::*};
use std::sync::Arc;

/// A concurrency limit: at most `max` guards alive at once.
#[derive(Debug)]
pub struct ConcurrencyLimit {
    max: usize,
    in_flight: AtomicUsize,
}

/// One admitted request; dropping it frees its place.
#[must_use = "the place is freed as soon as the guard is dropped"]
pub struct LimitGuard {
    limit: Arc<ConcurrencyLimit>,
}

impl ConcurrencyLimit {
    /// A limit of `max` requests in flight. `max == 0` admits nothing; a cap that is
    /// off (`max_requests_per_backend = 0`) is no `ConcurrencyLimit` at all.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            in_flight: AtomicUsize::new(0),
        }
    }

    /// Takes a place, or `None` when `max` requests are in flight. Never waits.
    pub fn try_acquire(self: &Arc<Self>) -> Option<LimitGuard> {
        self.in_flight
            .fetch_update(AcqRel, Acquire, |n| (n < self.max).then_some(n + 1))
            .ok()?;
        Some(LimitGuard {
            limit: Arc::clone(self),
        })
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Acquire)
    }

    /// The ceiling this limit was made with.
    pub fn max(&self) -> usize {
        self.max
    }
}

impl Drop for LimitGuard {
    fn drop(&mut self) {
        self.limit.in_flight.fetch_sub(1, AcqRel);
    }
}

impl fmt::Debug for LimitGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LimitGuard")
            .field("in_flight", &self.limit.in_flight())
            .field("max", &self.limit.max)
            .finish()
    }
}
