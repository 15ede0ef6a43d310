//! A rolling window of counts: lock-free and allocation-free.
//!
//! # Design
//! The window is [`BUCKETS`] fixed time buckets. Time since the owner's base is cut
//! into epochs one bucket wide (epoch `n` covers `[(n-1)·width, n·width)`; epoch 0
//! means "empty"), and epoch `n` lives in slot `n % BUCKETS`. A slot is two atomics:
//! the epoch it holds and its counts, two `u32` halves of one `u64` (requests, and
//! the events of interest: failures or retries) so one `fetch_add` records both.
//!
//! A writer that finds its slot holding an older epoch claims it with a
//! `compare_exchange` to [`RESETTING`], zeroes the counts and publishes the new
//! epoch; exactly one writer resets a slot per epoch. Writers that see `RESETTING`
//! spin briefly and then drop their sample: the window is a statistic, not a
//! ledger, and a sample racing a bucket reset (two stores wide) is not worth a lock.
//! A sample whose slot already holds a *newer* epoch is a full window late and is
//! dropped as outside the window.
//!
//! A reader sums the slots whose epoch is one of the last [`BUCKETS`] epochs, so the
//! window covers between `BUCKETS - 1` and `BUCKETS` bucket widths: a sample older
//! than the configured span never counts.

use std::hint::spin_loop;
use std::sync::atomic::{AtomicU64, Ordering::*};
use std::time::Duration;

use crate::clock::saturating_nanos;

/// Buckets per window: the window advances in tenths of its span.
pub(crate) const BUCKETS: usize = 10;
/// The epoch of a slot that holds nothing.
const EMPTY: u64 = 0;
/// The epoch of a slot being reset by one writer.
const RESETTING: u64 = u64::MAX;
/// How often a writer re-reads a slot another writer is resetting before giving up.
const SPINS: u32 = 64;

/// Sums over the window: requests, and the events counted beside them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Requests seen.
    pub(crate) requests: u64,
    /// Failures (breaker) or retries (budget).
    pub(crate) events: u64,
}

impl Counts {
    /// One request, an event or not.
    pub(crate) fn request(event: bool) -> Self {
        Self {
            requests: 1,
            events: u64::from(event),
        }
    }

    /// One event without a request (a retry).
    pub(crate) fn event() -> Self {
        Self {
            requests: 0,
            events: 1,
        }
    }

    fn pack(self) -> u64 {
        (self.events << 32) | (self.requests & u64::from(u32::MAX))
    }

    fn unpack(word: u64) -> Self {
        Self {
            requests: word & u64::from(u32::MAX),
            events: word >> 32,
        }
    }

    pub(crate) fn plus(self, other: Self) -> Self {
        Self {
            requests: self.requests + other.requests,
            events: self.events + other.events,
        }
    }
}

#[derive(Debug, Default)]
struct Bucket {
    epoch: AtomicU64,
    counts: AtomicU64,
}

/// [`BUCKETS`] buckets covering one span of time; times are nanoseconds since the
/// owner's base.
#[derive(Debug)]
pub(crate) struct Window {
    bucket_nanos: u64,
    buckets: [Bucket; BUCKETS],
}

impl Window {
    /// An empty window spanning `span` (at least `BUCKETS` nanoseconds).
    pub(crate) fn new(span: Duration) -> Self {
        Self {
            bucket_nanos: (saturating_nanos(span) / BUCKETS as u64).max(1),
            buckets: Default::default(),
        }
    }

    /// Records `delta` at time `nanos`.
    pub(crate) fn add(&self, nanos: u64, delta: Counts) {
        if let Some((bucket, _)) = self.claim(self.epoch(nanos)) {
            // SeqCst, like the loads in `sum`: see `ShardedWindow::may_hold_events`.
            bucket.counts.fetch_add(delta.pack(), SeqCst);
        }
    }

    /// Records `delta` at time `nanos` only if `admit` accepts the window's sums as
    /// they are just before; the check and the add are one `compare_exchange`, so
    /// concurrent callers cannot both slip past a limit. Returns whether it was added.
    pub(crate) fn add_if(&self, nanos: u64, delta: Counts, admit: impl Fn(Counts) -> bool) -> bool {
        let epoch = self.epoch(nanos);
        loop {
            let Some((bucket, held)) = self.claim(epoch) else {
                return false;
            };
            let current = bucket.counts.load(Acquire);
            let sums = self
                .sum(held, Some(slot(held)))
                .plus(Counts::unpack(current));
            if !admit(sums) {
                return false;
            }
            let next = current.wrapping_add(delta.pack());
            if bucket
                .counts
                .compare_exchange_weak(current, next, AcqRel, Acquire)
                .is_ok()
            {
                return true;
            }
        }
    }

    /// The sums over the window that ends at `nanos`.
    pub(crate) fn totals(&self, nanos: u64) -> Counts {
        self.sum(self.epoch(nanos), None)
    }

    /// Forgets every sample (a breaker that closes starts afresh).
    pub(crate) fn clear(&self) {
        for bucket in &self.buckets {
            bucket.epoch.store(EMPTY, Release);
        }
    }

    pub(crate) fn epoch(&self, nanos: u64) -> u64 {
        // +1 keeps epoch 0 free to mean EMPTY; RESETTING is beyond reach (584 years).
        (nanos / self.bucket_nanos)
            .saturating_add(1)
            .min(RESETTING - 1)
    }

    /// The bucket for `epoch`, reset first if it holds an older one, with the epoch
    /// it holds; `None` when the sample is too late or the slot is busy resetting.
    fn claim(&self, epoch: u64) -> Option<(&Bucket, u64)> {
        let bucket = &self.buckets[slot(epoch)];
        for _ in 0..SPINS {
            let held = bucket.epoch.load(Acquire);
            if held == RESETTING {
                spin_loop();
                continue;
            }
            if held >= epoch {
                return (held == epoch).then_some((bucket, held));
            }
            if bucket
                .epoch
                .compare_exchange(held, RESETTING, AcqRel, Acquire)
                .is_ok()
            {
                bucket.counts.store(0, Release);
                bucket.epoch.store(epoch, Release);
                return Some((bucket, epoch));
            }
        }
        None
    }

    /// Sums the buckets within the window ending at epoch `now`, except `skip`.
    fn sum(&self, now: u64, skip: Option<usize>) -> Counts {
        let mut sums = Counts::default();
        for (index, bucket) in self.buckets.iter().enumerate() {
            let held = bucket.epoch.load(Acquire);
            // A bucket newer than `now` belongs to a caller whose clock read later.
            let live =
                held != EMPTY && held != RESETTING && now.saturating_sub(held) < BUCKETS as u64;
            if live && skip != Some(index) {
                sums = sums.plus(Counts::unpack(bucket.counts.load(SeqCst)));
            }
        }
        sums
    }
}

fn slot(epoch: u64) -> usize {
    (epoch % BUCKETS as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn sums_within_the_span_and_forgets_older_samples() {
        let window = Window::new(Duration::from_secs(10));
        window.add(0, Counts::request(true));
        window.add(5 * SEC, Counts::request(false));
        assert_eq!(
            window.totals(9 * SEC),
            Counts {
                requests: 2,
                events: 1
            }
        );
        // At 10 s the bucket of 0 s has left the window; the one of 5 s has not.
        assert_eq!(window.totals(10 * SEC), Counts::request(false));
        assert_eq!(window.totals(15 * SEC), Counts::default());
    }

    #[test]
    fn a_reused_slot_starts_from_zero() {
        let window = Window::new(Duration::from_secs(10));
        window.add(SEC, Counts::request(true));
        window.add(11 * SEC, Counts::request(false));
        assert_eq!(window.totals(11 * SEC), Counts::request(false));
    }

    #[test]
    fn a_sample_a_whole_window_late_is_dropped() {
        let window = Window::new(Duration::from_secs(10));
        window.add(11 * SEC, Counts::request(false));
        window.add(SEC, Counts::request(true));
        assert_eq!(window.totals(11 * SEC), Counts::request(false));
    }

    #[test]
    fn add_if_checks_and_adds_at_once() {
        let window = Window::new(Duration::from_secs(10));
        let under_two = |sums: Counts| sums.events < 2;
        assert!(window.add_if(0, Counts::event(), under_two));
        assert!(window.add_if(3 * SEC, Counts::event(), under_two));
        assert!(!window.add_if(4 * SEC, Counts::event(), under_two));
        assert_eq!(window.totals(4 * SEC).events, 2);
    }

    #[test]
    fn clear_forgets_everything() {
        let window = Window::new(Duration::from_secs(1));
        window.add(0, Counts::request(true));
        window.clear();
        assert_eq!(window.totals(0), Counts::default());
        window.add(0, Counts::request(false));
        assert_eq!(window.totals(0), Counts::request(false));
    }
}
