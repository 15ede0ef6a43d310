//! Listeners, connections and the server's lifecycle: bind, serve, drain.

mod connection;
mod h2;
mod listener;
mod rewind;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use portcullis_config::Config;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::access_log::AccessLog;
use crate::snapshot::Snapshot;
use listener::BoundListener;

/// State every connection shares: the live routing snapshot and the access log.
pub struct Shared {
    pub(crate) snapshot: ArcSwap<Snapshot>,
    pub(crate) access_log: AccessLog,
}

impl Shared {
    /// The snapshot requests are served from right now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Makes `config`'s routes, clusters and backends live for new requests; requests
    /// in flight finish on the snapshot they started with. Returns the new generation.
    pub fn install(&self, config: &Config) -> u64 {
        let generation = self.snapshot.load().generation + 1;
        self.snapshot
            .store(Arc::new(Snapshot::build(config, generation)));
        generation
    }
}

/// A bound, not yet running, data plane.
pub struct Server {
    shared: Arc<Shared>,
    listeners: Vec<BoundListener>,
}

/// How often idle pooled connections are checked for expiry.
const POOL_SWEEP: Duration = Duration::from_secs(1);

impl Server {
    /// Binds every listener of `config`. Must be called inside a tokio runtime.
    pub fn bind(config: &Config, access_log: AccessLog) -> std::io::Result<Self> {
        let listeners = config
            .listeners
            .iter()
            .map(BoundListener::bind)
            .collect::<std::io::Result<Vec<_>>>()?;
        let snapshot = Snapshot::build(config, 1);
        let shared = Arc::new(Shared {
            snapshot: ArcSwap::from_pointee(snapshot),
            access_log,
        });
        Ok(Self { shared, listeners })
    }

    /// The address listener `name` is bound to (useful with port 0).
    pub fn local_addr(&self, name: &str) -> Option<SocketAddr> {
        self.listeners
            .iter()
            .find(|l| &*l.name == name)
            .map(|l| l.local_addr)
    }

    /// The shared state, for the admin side.
    pub fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Serves until `shutdown` resolves, then drains: listeners stop accepting, idle
    /// connections close, in-flight requests get up to `drain_timeout` to finish.
    pub async fn run(self, shutdown: impl Future<Output = ()>, drain_timeout: Duration) {
        let stop = CancellationToken::new();
        let connections = TaskTracker::new();
        let mut accept_loops = Vec::new();
        for listener in self.listeners {
            let task = listener.serve(Arc::clone(&self.shared), stop.clone(), connections.clone());
            accept_loops.push(tokio::spawn(task));
        }
        let sweeper = tokio::spawn(sweep_pools(Arc::clone(&self.shared)));
        shutdown.await;
        tracing::info!("draining: no new connections; waiting for in-flight requests");
        stop.cancel();
        for task in accept_loops {
            let _ = task.await;
        }
        connections.close();
        if tokio::time::timeout(drain_timeout, connections.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                remaining = connections.len(),
                "drain timeout: closing remaining connections"
            );
        }
        sweeper.abort();
    }
}

async fn sweep_pools(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(POOL_SWEEP);
    loop {
        tick.tick().await;
        let snapshot = shared.snapshot.load_full();
        for backend in snapshot.clusters.iter().flat_map(|c| c.backends.iter()) {
            backend.pool.sweep();
        }
    }
}
