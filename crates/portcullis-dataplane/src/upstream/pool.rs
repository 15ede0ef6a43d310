//! Idle keep-alive connections of one backend, in a lock-free bounded queue: the
//! request path takes and returns connections without a lock.

use std::time::Duration;

use crossbeam_queue::ArrayQueue;
use tokio::time::Instant;

use super::conn::UpstreamConn;

/// The idle connections of one backend. At most `pool_max_idle`; each is retired at
/// its own deadline (the pool's idle timeout, or earlier if the origin said so).
#[derive(Debug)]
pub(crate) struct Pool {
    idle: Option<ArrayQueue<Idle>>,
}

#[derive(Debug)]
struct Idle {
    conn: UpstreamConn,
    expires: Instant,
}

impl Pool {
    /// A pool keeping at most `max_idle` connections; 0 disables pooling.
    pub(crate) fn new(max_idle: usize) -> Self {
        Self {
            idle: (max_idle > 0).then(|| ArrayQueue::new(max_idle)),
        }
    }

    /// A live idle connection at `now`, if any; expired and closed ones are dropped on
    /// the way.
    pub(crate) fn take(&self, now: Instant) -> Option<UpstreamConn> {
        let idle = self.idle.as_ref()?;
        while let Some(entry) = idle.pop() {
            if entry.expires > now && entry.conn.is_reusable() {
                return Some(entry.conn);
            }
        }
        None
    }

    /// Keeps `conn` for reuse for at most `idle_limit`; drops it when the pool is full.
    pub(crate) fn put(&self, conn: UpstreamConn, idle_limit: Duration) {
        let Some(idle) = &self.idle else { return };
        if idle_limit.is_zero() {
            return;
        }
        let _ = idle.push(Idle {
            conn,
            expires: Instant::now() + idle_limit,
        });
    }

    /// Closes expired idle connections, so an origin sees them go even when no
    /// request comes to take them.
    pub(crate) fn sweep(&self) {
        let Some(idle) = &self.idle else { return };
        let now = Instant::now();
        for _ in 0..idle.len() {
            match idle.pop() {
                Some(entry) if entry.expires > now && entry.conn.is_reusable() => {
                    let _ = idle.push(entry);
                }
                Some(_) => {}
                None => break,
            }
        }
    }
}

/// One [`Pool`] per worker: a connection is reused on the worker whose runtime drives
/// it, so a request never waits on another thread. `pool_max_idle` is split evenly.
#[derive(Debug)]
pub(crate) struct Pools(Box<[Pool]>);

impl Pools {
    pub(crate) fn new(max_idle: usize, workers: usize) -> Self {
        let workers = workers.max(1);
        let per_worker = if max_idle == 0 {
            0
        } else {
            max_idle.div_ceil(workers)
        };
        Self((0..workers).map(|_| Pool::new(per_worker)).collect())
    }

    /// The calling worker's pool.
    pub(crate) fn current(&self) -> &Pool {
        &self.0[crate::server::current_worker() % self.0.len()]
    }

    /// See [`Pool::sweep`], for every worker.
    pub(crate) fn sweep(&self) {
        self.0.iter().for_each(Pool::sweep);
    }
}
