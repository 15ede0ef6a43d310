//! State kept once per worker, each copy alone on its cache lines (two, for
//! adjacent-line prefetch): what one worker writes on every request then never pulls
//! a line away from another worker's core. Readers that need the whole sum the copies.

use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::sync::OnceLock;

/// A value alone on its cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub T);

/// One `T` per worker slot.
#[derive(Debug)]
pub(crate) struct PerWorker<T>(Box<[Padded<T>]>);

impl<T: Default> Default for PerWorker<T> {
    fn default() -> Self {
        Self::new_with(T::default)
    }
}

impl<T> PerWorker<T> {
    pub(crate) fn new_with(mut make: impl FnMut() -> T) -> Self {
        Self((0..slots()).map(|_| Padded(make())).collect())
    }

    /// The calling worker's copy.
    pub(crate) fn mine(&self) -> &T {
        &self.0[crate::server::current_worker() % self.0.len()].0
    }

    /// Every worker's copy.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.0.iter().map(|slot| &slot.0)
    }
}

/// Slots per value: one per CPU, as workers default to one per CPU. A worker whose
/// index is beyond shares a slot, which stays correct, only slower.
fn slots() -> usize {
    static SLOTS: OnceLock<usize> = OnceLock::new();
    *SLOTS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 64)))
}

/// A count that goes up and down (requests in flight), kept per worker.
#[derive(Debug, Default)]
pub(crate) struct UpDown(PerWorker<AtomicIsize>);

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
}
