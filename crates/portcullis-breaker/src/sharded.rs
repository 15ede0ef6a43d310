//! A rolling window split by thread, for counts every request adds to.
//!
//! One window shared by every worker is a cache line each request on each worker
//! writes. Here a thread adds to a copy of its own, alone on its cache lines, and a
//! reader sums the copies: reading is the rare part (a failure, a retry).

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use crate::per_thread::PerThread;
use crate::window::{Counts, Window, BUCKETS};

/// See the module documentation.
#[derive(Debug)]
pub(crate) struct ShardedWindow {
    shards: PerThread<Window>,
    /// The latest epoch an event was added in (0: none yet): lets a reader skip
    /// summing a window that cannot hold any. Written only with an event.
    last_event: AtomicU64,
}

impl ShardedWindow {
    /// Empty, one copy per thread slot.
    pub(crate) fn new(span: Duration) -> Self {
        Self {
            shards: PerThread::new_with(|| Window::new(span)),
            last_event: AtomicU64::new(0),
        }
    }

    /// Records `delta` at time `nanos` in the calling thread's copy.
    pub(crate) fn add(&self, nanos: u64, delta: Counts) {
        let shard = self.shards.mine();
        shard.add(nanos, delta);
        if delta.events > 0 {
            self.last_event.fetch_max(shard.epoch(nanos), SeqCst);
        }
    }

    /// The sums over every copy of the window that ends at `nanos`.
    pub(crate) fn totals(&self, nanos: u64) -> Counts {
        let sums = self.shards.iter().map(|shard| shard.totals(nanos));
        sums.fold(Counts::default(), Counts::plus)
    }

    /// Whether the window at `nanos` may hold an event: one load, where summing reads
    /// every bucket of every copy. May say yes for an event a `clear` forgot.
    ///
    /// It can say no while an event is being added on another thread. A caller that
    /// added its own sample first is still covered: the add, this load, the event's
    /// note and the event thread's sum are all sequentially consistent, so either this
    /// load sees the note or that sum sees this caller's sample.
    pub(crate) fn may_hold_events(&self, nanos: u64) -> bool {
        let last = self.last_event.load(SeqCst);
        let now = self.shards.mine().epoch(nanos);
        last != 0 && now.saturating_sub(last) < BUCKETS as u64
    }

    /// Forgets every sample.
    pub(crate) fn clear(&self) {
        self.shards.iter().for_each(Window::clear);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn sums_what_every_thread_added() {
        let window = std::sync::Arc::new(ShardedWindow::new(Duration::from_secs(10)));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let window = std::sync::Arc::clone(&window);
                std::thread::spawn(move || window.add(SEC, Counts::request(true)))
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let sums = window.totals(2 * SEC);
        assert_eq!((sums.requests, sums.events), (4, 4));
        window.clear();
        assert_eq!(window.totals(2 * SEC), Counts::default());
    }

    #[test]
    fn may_hold_events_while_an_event_is_in_the_window() {
        let window = ShardedWindow::new(Duration::from_secs(10));
        window.add(0, Counts::request(false));
        assert!(!window.may_hold_events(SEC), "requests alone are no events");
        window.add(2 * SEC, Counts::request(true));
        assert!(window.may_hold_events(2 * SEC));
        let still = window.may_hold_events(11 * SEC);
        assert!(still, "the 2 s bucket is still summed");
        assert_eq!(window.totals(12 * SEC), Counts::default());
        let gone = !window.may_hold_events(12 * SEC);
        assert!(gone, "gone when the sums lose it");
    }
}
