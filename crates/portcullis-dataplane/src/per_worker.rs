//! Counts kept once per worker (see `portcullis_breaker::per_thread`, which decides
//! which copy a thread writes): what one worker writes on every request then never
//! pulls a cache line away from another worker's core.

use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use portcullis_breaker::per_thread::PerThread;

/// A count that goes up and down (requests in flight), kept per worker.
#[derive(Debug, Default)]
pub(crate) struct UpDown(PerThread<AtomicIsize>);

impl UpDown {
    pub(crate) fn up(&self) {
        self.0.mine().fetch_add(1, Relaxed);
    }

    pub(crate) fn down(&self) {
        self.0.mine().fetch_sub(1, Relaxed);
    }

    /// The sum over every worker: a copy may be negative when a count went up on one
    /// worker and down on another.
    pub(crate) fn get(&self) -> usize {
        let sum: isize = self.0.iter().map(|count| count.load(Relaxed)).sum();
        usize::try_from(sum).unwrap_or(0)
    }

    /// The calling worker's own count.
    pub(crate) fn here(&self) -> usize {
        usize::try_from(self.0.mine().load(Relaxed)).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_down_sums_every_worker() {
        let count = UpDown::default();
        count.up();
        count.up();
        count.down();
        assert_eq!(count.get(), 1);
        count.0.iter().last().unwrap().fetch_sub(5, Relaxed);
        assert_eq!(count.get(), 0, "never below zero");
    }

    /// Runs `f` on a thread pinned as worker `index`.
    fn on_worker(index: usize, f: impl FnOnce() + Send) {
        std::thread::scope(|scope| {
            scope.spawn(|| {
                portcullis_breaker::per_thread::pin_thread(index);
                f();
            });
        });
    }

    #[test]
    fn here_is_the_calling_workers_own_count() {
        let count = UpDown::default();
        // With one CPU there is one copy, which both workers share.
        let shared = count.0.iter().count() == 1;
        on_worker(0, || {
            count.up();
            count.up();
        });
        on_worker(1, || {
            count.up();
            assert_eq!(count.here(), if shared { 3 } else { 1 });
        });
        on_worker(0, || assert_eq!(count.here(), if shared { 3 } else { 2 }));
        assert_eq!(count.get(), 3, "the sum is every worker's");
    }
}
