//! The data plane's worker threads: each runs a current-thread runtime that owns its
//! own listening sockets (`SO_REUSEPORT`, the kernel spreads connections) and the
//! upstream connections it opens. A request then stays on one thread from accept to
//! response, with no cross-thread wakeups and no contention on shared queues.

use std::cell::Cell;

use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

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
    handles: Vec<Handle>,
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
                    runtime.block_on(done.cancelled());
                })?;
        }
        Ok(Self { handles, done })
    }

    /// Each worker's runtime, by index.
    pub(crate) fn handles(&self) -> &[Handle] {
        &self.handles
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

/// `server.workers`, with 0 meaning one per CPU.
pub(crate) fn resolve(configured: usize) -> usize {
    match configured {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}
