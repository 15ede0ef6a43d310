//! The data plane's worker threads: each runs a current-thread runtime that owns its
//! own listening sockets (`SO_REUSEPORT`, the kernel spreads connections) and the
//! upstream connections it opens. A request then stays on one thread from accept to
//! response, with no cross-thread wakeups and no contention on shared queues.
//!
//! When the workers exactly fill the CPUs this process may run on (the default, one
//! per CPU), each is pinned to its own CPU, as nginx's `worker_cpu_affinity auto` and
//! HAProxy's automatic CPU binding do. Unpinned, the scheduler sometimes queues two
//! busy workers on one CPU, and the one waiting waits for the next timer tick (4 ms
//! at 250 Hz) while its requests sit: on a two-CPU machine under wrk that was most of
//! the p99 latency. Fewer or more workers than CPUs stay unpinned, so that, for example,
//! a container given two CPUs' worth of quota on a larger machine does not pile them
//! onto two CPUs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use portcullis_breaker::per_thread::{self, Padded};
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

/// The index of the worker running the caller; on other threads, a slot of their own
/// (see `portcullis_breaker::per_thread`). Take it modulo what it indexes.
pub(crate) fn current() -> usize {
    per_thread::thread_slot()
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
        let count = count.max(1);
        let cpus = pinning(core_affinity::get_core_ids().unwrap_or_default(), count);
        let mut handles = Vec::new();
        for index in 0..count {
            let cpu = cpus.as_ref().map(|cpus| cpus[index]);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            handles.push(runtime.handle().clone());
            let done = done.clone();
            std::thread::Builder::new()
                .name(format!("portcullis-worker-{index}"))
                .spawn(move || {
                    if let Some(cpu) = cpu {
                        if !core_affinity::set_for_current(cpu) {
                            tracing::debug!(worker = index, cpu = cpu.id, "cannot pin worker");
                        }
                    }
                    per_thread::pin_thread(index);
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

/// The CPU for each of `workers` workers, given the CPUs this process may run on: one
/// each, in order, when there are as many workers as CPUs (and more than one);
/// otherwise none, and the scheduler places them.
fn pinning<Cpu>(allowed: Vec<Cpu>, workers: usize) -> Option<Vec<Cpu>> {
    (workers > 1 && allowed.len() == workers).then_some(allowed)
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

    #[test]
    fn workers_are_pinned_only_when_they_fill_the_allowed_cpus() {
        assert_eq!(pinning(vec![2, 5], 2), Some(vec![2, 5]));
        assert_eq!(
            pinning(vec![0, 1, 2, 3], 2),
            None,
            "fewer workers than CPUs"
        );
        assert_eq!(pinning(vec![0, 1], 3), None, "more workers than CPUs");
        assert_eq!(pinning(vec![0], 1), None, "one worker, nothing to spread");
    }

    /// The CPUs the worker threads of `workers` may run on, as each reports them.
    fn cpus_of_each_worker(workers: &Workers) -> Vec<Vec<usize>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        workers
            .handles()
            .iter()
            .map(|worker| {
                let mask = worker.spawn(async {
                    let cpus = core_affinity::get_core_ids().unwrap_or_default();
                    cpus.into_iter().map(|cpu| cpu.id).collect::<Vec<_>>()
                });
                runtime.block_on(mask).unwrap()
            })
            .collect()
    }

    #[test]
    fn one_worker_per_allowed_cpu_runs_each_on_its_own_cpu() {
        let allowed: Vec<usize> = core_affinity::get_core_ids()
            .unwrap()
            .into_iter()
            .map(|cpu| cpu.id)
            .collect();
        let workers = Workers::start(allowed.len()).unwrap();
        let seen = cpus_of_each_worker(&workers);
        if allowed.len() == 1 {
            // One CPU: one worker, left where it is.
            assert_eq!(seen, vec![allowed]);
            return;
        }
        let pinned: Vec<Vec<usize>> = allowed.iter().map(|&cpu| vec![cpu]).collect();
        assert_eq!(seen, pinned, "worker i runs only on the i-th allowed CPU");

        let more = Workers::start(allowed.len() + 1).unwrap();
        let seen = cpus_of_each_worker(&more);
        assert!(
            seen.iter().all(|cpus| *cpus == allowed),
            "more workers than CPUs stay free to move: {seen:?}"
        );
    }
}
