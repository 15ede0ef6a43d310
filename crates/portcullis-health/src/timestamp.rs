//! An optional `tokio::time::Instant` in one `AtomicU64`, so the request path
//! reads deadlines without a lock.
//!
//! Stored as nanoseconds since an epoch, plus one, with 0 meaning "none". The
//! epoch is not stored here: the owner keeps one for all its timestamps and
//! passes it to every call, so several timestamps cost one `Instant`, not one
//! each. `tokio::time::Instant` keeps paused-time tests honest.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// An `Option<Instant>` readable and writable through a shared reference. Every
/// call on one value must pass the same `epoch`; instants before it are stored as
/// the epoch.
#[derive(Debug, Default)]
pub(crate) struct AtomicTime {
    encoded: AtomicU64,
}

impl AtomicTime {
    /// The stored instant, if any.
    pub(crate) fn load(&self, epoch: Instant) -> Option<Instant> {
        let nanos = self.encoded.load(Ordering::Acquire).checked_sub(1)?;
        Some(epoch + Duration::from_nanos(nanos))
    }

    /// Replaces the stored instant.
    pub(crate) fn store(&self, epoch: Instant, at: Option<Instant>) {
        self.encoded.store(encode(epoch, at), Ordering::Release);
    }

    /// Clears the stored instant if it is still `expected`; true if it was.
    pub(crate) fn clear_if(&self, epoch: Instant, expected: Instant) -> bool {
        let current = encode(epoch, Some(expected));
        self.encoded
            .compare_exchange(current, 0, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

fn encode(epoch: Instant, at: Option<Instant>) -> u64 {
    match at {
        None => 0,
        Some(at) => {
            let nanos = at.saturating_duration_since(epoch).as_nanos();
            u64::try_from(nanos).unwrap_or(u64::MAX - 1) + 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn round_trips_and_clears_only_the_expected_value() {
        let epoch = Instant::now();
        let time = AtomicTime::default();
        assert_eq!(time.load(epoch), None);
        time.store(epoch, Some(epoch));
        assert_eq!(time.load(epoch), Some(epoch));
        let later = epoch + Duration::from_millis(1500);
        time.store(epoch, Some(later));
        assert!(!time.clear_if(epoch, epoch));
        assert_eq!(time.load(epoch), Some(later));
        assert!(time.clear_if(epoch, later));
        assert_eq!(time.load(epoch), None);
    }
}
