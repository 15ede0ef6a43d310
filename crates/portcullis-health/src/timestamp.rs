//! An optional `tokio::time::Instant` in one `AtomicU64`, so the request path
//! reads deadlines without a lock.
//!
//! Stored as nanoseconds since an epoch taken when the owner was made, plus one,
//! with 0 meaning "none". `tokio::time::Instant` keeps paused-time tests honest.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// An `Option<Instant>` readable and writable through a shared reference.
#[derive(Debug)]
pub(crate) struct AtomicTime {
    epoch: Instant,
    encoded: AtomicU64,
}

impl AtomicTime {
    /// Empty, measuring from `epoch` (instants before it are stored as the epoch).
    pub(crate) fn new(epoch: Instant) -> Self {
        Self {
            epoch,
            encoded: AtomicU64::new(0),
        }
    }

    /// The stored instant, if any.
    pub(crate) fn load(&self) -> Option<Instant> {
        self.decode(self.encoded.load(Ordering::Acquire))
    }

    /// Replaces the stored instant.
    pub(crate) fn store(&self, at: Option<Instant>) {
        self.encoded.store(self.encode(at), Ordering::Release);
    }

    /// Clears the stored instant if it is still `expected`; true if it was.
    pub(crate) fn clear_if(&self, expected: Instant) -> bool {
        let current = self.encode(Some(expected));
        self.encoded
            .compare_exchange(current, 0, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn encode(&self, at: Option<Instant>) -> u64 {
        match at {
            None => 0,
            Some(at) => {
                let nanos = at.saturating_duration_since(self.epoch).as_nanos();
                u64::try_from(nanos).unwrap_or(u64::MAX - 1) + 1
            }
        }
    }

    fn decode(&self, encoded: u64) -> Option<Instant> {
        let nanos = encoded.checked_sub(1)?;
        Some(self.epoch + Duration::from_nanos(nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn round_trips_and_clears_only_the_expected_value() {
        let epoch = Instant::now();
        let time = AtomicTime::new(epoch);
        assert_eq!(time.load(), None);
        time.store(Some(epoch));
        assert_eq!(time.load(), Some(epoch));
        let later = epoch + Duration::from_millis(1500);
        time.store(Some(later));
        assert!(!time.clear_if(epoch));
        assert_eq!(time.load(), Some(later));
        assert!(time.clear_if(later));
        assert_eq!(time.load(), None);
    }
}
