//! State kept once per thread slot, each copy alone on its cache lines (two, for
//! adjacent-line prefetch): what one worker writes on every request then never pulls
//! a line away from another worker's core. Readers that need the whole sum the copies.
//!
//! Here, below the breakers and the data plane both, so that one thread-local decides
//! which copy a thread writes: each worker thread calls [`pin_thread`] with its index
//! once, and every per-thread value in the process then agrees on its slot.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::OnceLock;

/// A value alone on its cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Padded<T>(pub T);

/// One `T` per thread slot: one slot per CPU, as workers default to one per CPU. A
/// thread whose slot is beyond shares a copy, which stays correct, only slower.
#[derive(Debug)]
pub struct PerThread<T>(Box<[Padded<T>]>);

impl<T: Default> Default for PerThread<T> {
    fn default() -> Self {
        Self::new_with(T::default)
    }
}

impl<T> PerThread<T> {
    /// One copy per slot, each made by `make`.
    pub fn new_with(mut make: impl FnMut() -> T) -> Self {
        Self((0..slots()).map(|_| Padded(make())).collect())
    }

    /// The calling thread's copy.
    pub fn mine(&self) -> &T {
        &self.0[thread_slot() % self.0.len()].0
    }

    /// Every copy.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.0.iter().map(|slot| &slot.0)
    }
}

fn slots() -> usize {
    static SLOTS: OnceLock<usize> = OnceLock::new();
    *SLOTS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 64)))
}

thread_local! {
    /// This thread's slot, once known.
    static SLOT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Makes the calling thread use slot `index` (modulo the copies there are): each
/// worker thread calls it with its own index, so no two workers share a copy.
pub fn pin_thread(index: usize) {
    SLOT.with(|slot| slot.set(Some(index)));
}

/// The calling thread's slot: its pinned one, else the next in turn, kept from then on
/// (threads that are not workers spread over the copies too).
pub fn thread_slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    SLOT.with(|slot| match slot.get() {
        Some(index) => index,
        None => {
            let index = NEXT.fetch_add(1, Relaxed);
            slot.set(Some(index));
            index
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_thread_writes_its_own_copy() {
        let values: PerThread<AtomicUsize> = PerThread::default();
        let copies = values.iter().count();
        std::thread::scope(|scope| {
            for index in 0..copies {
                let values = &values;
                scope.spawn(move || {
                    pin_thread(index);
                    assert_eq!(thread_slot(), index);
                    values.mine().fetch_add(index + 1, Relaxed);
                });
            }
        });
        let seen: Vec<usize> = values.iter().map(|v| v.load(Relaxed)).collect();
        assert_eq!(seen, (1..=copies).collect::<Vec<_>>());
    }

    #[test]
    fn an_unpinned_thread_keeps_the_slot_it_was_given() {
        let first = std::thread::spawn(|| (thread_slot(), thread_slot()));
        let (a, b) = first.join().unwrap();
        assert_eq!(a, b);
    }
}
