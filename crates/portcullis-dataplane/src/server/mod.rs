//! Listeners, connections and the server's lifecycle: bind, serve, reload, drain.

mod connection;
mod h2;
mod listener;
mod listeners;
mod rewind;
mod workers;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arc_swap::ArcSwap;
use portcullis_config::Config;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::access_log::AccessLog;
use crate::registry::Registry;
use crate::snapshot::{Snapshot, SnapshotStore};
use listeners::Listeners;
pub(crate) use workers::current as current_worker;
use workers::Workers;

/// State every connection shares: the live routing snapshot and the access log.
pub struct Shared {
    pub(crate) snapshot: SnapshotStore,
    pub(crate) access_log: AccessLog,
    /// What outlives a snapshot; touched only when one is built.
    pub(crate) registry: Registry,
    /// Process-wide generated answers by cause (requests are counted per cluster).
    pub tally: crate::Tally,
}

impl Shared {
    /// The snapshot requests are served from right now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }
}

/// The data plane: its listeners, its connections and the live snapshot.
pub struct Server {
    shared: Arc<Shared>,
    /// Cancelled on drain; every listener's token is a child of it.
    stop: CancellationToken,
    connections: TaskTracker,
    /// Control plane only (bind, reload, drain): never touched by a request.
    listeners: Mutex<Listeners>,
    /// The threads that serve connections; stopped when the server is dropped.
    workers: Workers,
}

/// How often idle pooled connections are checked for expiry and the in-flight
/// gauges refreshed.
const POOL_SWEEP: Duration = Duration::from_secs(1);

impl Server {
    /// Starts `server.workers` worker threads, binds every listener of `config` and
    /// builds the first snapshot. Nothing is served until [`Server::start`]. Must be
    /// called inside a tokio runtime, which then runs the control side (health
    /// probes, pool sweeps); requests are served on the workers. The worker count
    /// is fixed for the life of the server.
    pub fn bind(config: &Config, access_log: AccessLog) -> std::io::Result<Arc<Self>> {
        let stop = CancellationToken::new();
        let workers = Workers::start(workers::resolve(config.server.workers))?;
        let mut listeners = Listeners::new(workers.count());
        listeners.bind_changes(&config.listeners)?;
        let registry = Registry::new(workers.count());
        let snapshot = Snapshot::build(config, 1, &registry);
        let shared = Arc::new(Shared {
            snapshot: Arc::new(ArcSwap::from_pointee(snapshot)),
            access_log,
            registry,
            tally: crate::Tally::default(),
        });
        Ok(Arc::new(Self {
            shared,
            stop,
            connections: TaskTracker::new(),
            listeners: Mutex::new(listeners),
            workers,
        }))
    }

    /// The address listener `name` is bound to (useful with port 0).
    pub fn local_addr(&self, name: &str) -> Option<SocketAddr> {
        self.control().local_addr(name)
    }

    /// Every running listener: name, bound address, open connections.
    pub fn listener_stats(&self) -> Vec<(String, SocketAddr, usize)> {
        self.control().stats()
    }

    /// Whether the server is draining (stopped accepting).
    pub fn is_draining(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// The shared state, for the admin side.
    pub fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Starts accepting on every bound listener, and the pool sweeper.
    pub fn start(self: &Arc<Self>) {
        self.control()
            .start_pending(&self.shared, &self.stop, &self.connections, &self.workers);
        let shared = Arc::clone(&self.shared);
        let stop = self.stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = sweep_pools(shared) => {}
                () = stop.cancelled() => {}
            }
        });
        for worker in self.workers.handles().iter() {
            let store = Arc::clone(&self.shared.snapshot);
            let stop = self.stop.clone();
            worker.spawn(async move {
                tokio::select! {
                    () = refresh_local_snapshot(store) => {}
                    () = stop.cancelled() => {}
                }
            });
        }
    }

    /// Makes `config` live: new listeners are bound first (a bind failure rejects the
    /// whole reload and changes nothing), then the snapshot is swapped in one store,
    /// then removed listeners stop accepting and drain. Requests in flight finish on
    /// the snapshot they started with. Returns the new generation.
    pub fn reload(self: &Arc<Self>, config: &Config) -> std::io::Result<u64> {
        let mut control = self.control();
        control.bind_changes(&config.listeners)?;
        let generation = self.shared.snapshot.load().generation + 1;
        self.shared.snapshot.store(Arc::new(Snapshot::build(
            config,
            generation,
            &self.shared.registry,
        )));
        control.retire_removed(&config.listeners);
        control.start_pending(&self.shared, &self.stop, &self.connections, &self.workers);
        Ok(generation)
    }

    /// Stops accepting, closes idle connections, and waits up to `timeout` for the
    /// requests in flight.
    pub async fn drain(&self, timeout: Duration) {
        tracing::info!("draining: no new connections; waiting for in-flight requests");
        self.stop.cancel();
        self.shared.registry.shutdown();
        let loops = self.control().take_accept_loops();
        for task in loops {
            let _ = task.await;
        }
        self.connections.close();
        if tokio::time::timeout(timeout, self.connections.wait())
            .await
            .is_err()
        {
            let remaining = self.connections.len();
            tracing::warn!(remaining, "drain timeout: closing remaining connections");
        }
    }

    /// Serves until `shutdown` resolves, then drains for up to `drain_timeout`.
    pub async fn run(self: Arc<Self>, shutdown: impl Future<Output = ()>, drain_timeout: Duration) {
        self.start();
        shutdown.await;
        self.drain(drain_timeout).await;
    }

    fn control(&self) -> MutexGuard<'_, Listeners> {
        // A panic while holding this lock would be a bug in the control plane; the
        // listener set itself stays consistent, so keep going.
        self.listeners
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

async fn sweep_pools(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(POOL_SWEEP);
    loop {
        tick.tick().await;
        let snapshot = shared.snapshot.load_full();
        for backend in snapshot.clusters.iter().flat_map(|c| c.backends()) {
            backend.pool.sweep();
            backend.publish_in_flight();
        }
    }
}

/// Keeps a worker's own snapshot reference fresh while it serves no requests, so a
/// snapshot replaced by a reload is released within a tick.
async fn refresh_local_snapshot(store: SnapshotStore) {
    let mut tick = tokio::time::interval(POOL_SWEEP);
    loop {
        tick.tick().await;
        drop(crate::snapshot::current(&store));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Without a drain (a test dropping its server, a failed start): stop everything.
        self.stop.cancel();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Connections from one client, however `SO_REUSEPORT` queues them, end up
    /// spread evenly over the workers (by hash alone, 40 connections split 20/20
    /// about one time in eight).
    #[tokio::test]
    async fn connections_are_spread_over_the_workers() {
        let config = portcullis_config::parse(
            "[server]\nworkers = 2\n[[listeners]]\nname = \"web\"\naddress = \"127.0.0.1:0\"\n",
            "spread.toml",
        )
        .expect("valid config");
        let server = Server::bind(&config, AccessLog::off()).expect("bind");
        server.start();
        let address = server.local_addr("web").expect("bound");
        let load = server.workers.load();
        let per_worker = || [load.open_on(0), load.open_on(1)];
        let mut clients = Vec::new();
        for opened in 1..=40 {
            clients.push(
                tokio::net::TcpStream::connect(address)
                    .await
                    .expect("connect"),
            );
            for _ in 0..200 {
                if per_worker().iter().sum::<usize>() == opened {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        assert_eq!(per_worker(), [20, 20]);
        drop(clients);
    }
}
