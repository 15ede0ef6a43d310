//! Time as integers: nanoseconds since a per-owner base [`Instant`], so state fits in
//! atomics. `tokio::time::Instant` (not `std`) so tests can pause and advance time.

use std::time::Duration;
use tokio::time::Instant;

/// Converts instants to nanoseconds or milliseconds since the moment it was made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    base: Instant,
}

impl Clock {
    /// A clock whose zero is now.
    pub(crate) fn new() -> Self {
        Self {
            base: Instant::now(),
        }
    }

    /// Nanoseconds from the base to `now`; zero before the base, saturating after
    /// ~584 years.
    pub(crate) fn nanos(&self, now: Instant) -> u64 {
        saturating_nanos(now.saturating_duration_since(self.base))
    }
}

/// `d` in nanoseconds, saturating at `u64::MAX`.
pub(crate) fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Nanoseconds in one millisecond.
pub(crate) const NANOS_PER_MILLI: u64 = 1_000_000;
