//! The data plane's worker threads: each runs a current-thread runtime that owns its
//! own listening sockets (`SO_REUSEPORT`, the kernel spreads connections) and the
//! upstream connections it opens. A request then stays on one thread from accept to
//! response, with no cross-thread wakeups and no contention on shared queues.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

use crate::per_worker::Padded;

thread_local! {
    /// This thread's worker index; 0 on threads that are not workers.
    static WORKER: Cell<usize> = const { Cell::new(0) };
}

/// The index of the worker running the caller (0 elsewhere).
pub(crate) fn current() -> usize {
    WORKER.with(Cell::get)
}

/// The worker threads. Dropping this stops them once their tasks are abandoned.
pub(crate) struct Workers {
    handles: Arc<[Handle]>,
    load: Arc<Load>,
    done: CancellationToken,
}

impl Workers {
    /// Starts `count` worker threads (at least one).
    pub(crate) fn start(count: usize) -> std::io::Result<Self> {
        let done = CancellationToken::new();
        let mut handles = Vec::new();
        for index in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            handles.push(runtime.handle().clone());
            let done = done.clone();
            std::thread::Builder::new()
                .name(format!("portcullis-worker-{index}"))
                .spawn(move || {
                    WORKER.with(|w| w.set(index));
                    portcullis_breaker::pin_thread_shard(index);
                    runtime.block_on(done.cancelled());
                })?;
        }
        let load = Arc::new(Load::new(handles.len()));
        Ok(Self {
            handles: handles.into(),
            load,
            done,
        })
    }

    /// Each worker's runtime, by index.
    pub(crate) fn handles(&self) -> &Arc<[Handle]> {
        &self.handles
    }

    /// The client connections open on each worker.
    pub(crate) fn load(&self) -> &Arc<Load> {
        &self.load
    }

    /// How many workers run.
    pub(crate) fn count(&self) -> usize {
        self.handles.len()
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.done.cancel();
    }
}

/// Client connections open on each worker. A new connection goes to the worker with
/// the fewest, wherever the kernel queued it: `SO_REUSEPORT` spreads connections by a
/// hash of their addresses, which can leave one worker with most of a few long-lived
/// connections and the other idle. As in HAProxy, a worker that accepts a connection
/// hands it to a less busy one.
#[derive(Debug)]
pub(crate) struct Load(Box<[Padded<AtomicUsize>]>);

impl Load {
    fn new(workers: usize) -> Self {
        Self((0..workers.max(1)).map(|_| Padded::default()).collect())
    }

    /// The worker with the fewest open connections; `preferred` (the one that
    /// accepted, which need not hand anything over) wins ties.
    pub(crate) fn least_busy(&self, preferred: usize) -> usize {
        let open = |i: usize| self.0[i].0.load(Ordering::Relaxed);
        let mut best = preferred % self.0.len();
        for i in 0..self.0.len() {
            if open(i) < open(best) {
                best = i;
            }
        }
        best
    }

    /// Counts a connection on `worker` until the guard drops.
    pub(crate) fn open(self: &Arc<Self>, worker: usize) -> OnWorker {
        self.0[worker].0.fetch_add(1, Ordering::Relaxed);
        OnWorker(Arc::clone(self), worker)
    }

    #[cfg(test)]
    pub(crate) fn open_on(&self, worker: usize) -> usize {
        self.0[worker].0.load(Ordering::Relaxed)
    }
}

/// A connection counted on a worker; see [`Load::open`].
#[derive(Debug)]
pub(crate) struct OnWorker(Arc<Load>, usize);

impl Drop for OnWorker {
    fn drop(&mut self) {
        self.0 .0[self.1].0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `server.workers`, with 0 meaning one per CPU.
pub(crate) fn resolve(configured: usize) -> usize {
    match configured {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_busy_worker_is_picked_and_the_acceptor_wins_ties() {
        let load = Arc::new(Load::new(3));
        let a = load.open(0);
        let _b = load.open(0);
        let _c = load.open(1);
        assert_eq!(load.least_busy(0), 2);
        let _d = load.open(2);
        assert_eq!(load.least_busy(2), 2, "1 and 2 tie; 2 accepted");
        assert_eq!(load.least_busy(1), 1);
        drop(a);
        assert_eq!(load.least_busy(0), 0, "a closed connection frees its place");
    }
}
