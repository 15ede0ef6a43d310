//! The set of listeners and how a new configuration changes it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::listener::{AcceptLoop, BoundListener, OpenCount};
use super::workers::Workers;
use super::Shared;

/// Listeners by name: bound ones waiting to start, and running ones.
pub(super) struct Listeners {
    pending: Vec<BoundListener>,
    running: HashMap<String, Running>,
    retired: Vec<JoinHandle<()>>,
    /// Sockets per listener: one per worker.
    workers: usize,
}

struct Running {
    /// The address as configured (port 0 stays 0), to tell a moved listener.
    configured: SocketAddr,
    local_addr: SocketAddr,
    max_connections: Arc<AtomicUsize>,
    open: Arc<OpenCount>,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Listeners {
    /// No listeners yet; each will get one socket per worker.
    pub(super) fn new(workers: usize) -> Self {
        Self {
            pending: Vec::new(),
            running: HashMap::new(),
            retired: Vec::new(),
            workers,
        }
    }

    /// Every running listener: name, address, open connections.
    pub(super) fn stats(&self) -> Vec<(String, SocketAddr, usize)> {
        let mut stats: Vec<_> = self
            .running
            .iter()
            .map(|(name, r)| (name.clone(), r.local_addr, r.open.get()))
            .collect();
        stats.sort();
        stats
    }

    pub(super) fn local_addr(&self, name: &str) -> Option<SocketAddr> {
        let running = self.running.get(name).map(|r| r.local_addr);
        running.or_else(|| {
            self.pending
                .iter()
                .find(|l| &*l.name == name)
                .map(|l| l.local_addr)
        })
    }

    /// Binds every listener that is new or moved; on any failure, drops what this call
    /// bound and changes nothing. Limits of staying listeners are updated in place.
    pub(super) fn bind_changes(
        &mut self,
        configs: &[portcullis_config::Listener],
    ) -> std::io::Result<()> {
        let mut bound = Vec::new();
        for config in configs {
            match self.running.get(&config.name) {
                Some(running) if running.configured == config.address => {}
                _ => bound.push(BoundListener::bind(config, self.workers).map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!("listener {:?} on {}: {e}", config.name, config.address),
                    )
                })?),
            }
        }
        for config in configs {
            if let Some(running) = self.running.get(&config.name) {
                running
                    .max_connections
                    .store(config.max_connections, Ordering::Relaxed);
            }
        }
        self.pending.extend(bound);
        Ok(())
    }

    /// Stops accepting on listeners that are gone or moved; their connections drain.
    pub(super) fn retire_removed(&mut self, configs: &[portcullis_config::Listener]) {
        let keep = |name: &str, running: &Running| {
            configs
                .iter()
                .any(|c| c.name == name && c.address == running.configured)
        };
        let retired: Vec<String> = self
            .running
            .iter()
            .filter(|(name, r)| !keep(name, r))
            .map(|(name, _)| name.clone())
            .collect();
        for name in retired {
            if let Some(running) = self.running.remove(&name) {
                tracing::info!(listener = %name, address = %running.local_addr, "listener removed; draining its connections");
                running.stop.cancel();
                self.retired.extend(running.tasks);
            }
        }
    }

    /// Starts the accept loops of every pending listener: one per worker, each on the
    /// worker that owns its socket.
    pub(super) fn start_pending(
        &mut self,
        shared: &Arc<Shared>,
        server_stop: &CancellationToken,
        connections: &TaskTracker,
        workers: &Workers,
    ) {
        for bound in self.pending.drain(..) {
            let name = bound.name.to_string();
            tracing::info!(listener = %name, address = %bound.local_addr, "listening");
            let stop = server_stop.child_token();
            let accept = AcceptLoop {
                shared: Arc::clone(shared),
                worker_stops: workers
                    .handles()
                    .iter()
                    .map(|_| stop.child_token())
                    .collect(),
                stop,
                connections: connections.clone(),
                max_connections: Arc::new(AtomicUsize::new(bound.max_connections)),
                open: Arc::new(OpenCount::new(&name)),
                workers: Arc::clone(workers.handles()),
                load: Arc::clone(workers.load()),
            };
            let handles = workers.handles().iter().enumerate().cycle();
            let tasks = bound
                .sockets
                .into_iter()
                .zip(handles)
                .map(|(socket, (index, worker))| {
                    worker.spawn(accept.clone().run(Arc::clone(&bound.name), socket, index))
                })
                .collect();
            let running = Running {
                configured: bound.configured,
                local_addr: bound.local_addr,
                max_connections: Arc::clone(&accept.max_connections),
                open: Arc::clone(&accept.open),
                stop: accept.stop,
                tasks,
            };
            if let Some(old) = self.running.insert(name, running) {
                old.stop.cancel(); // a moved listener: the old address stops accepting
                self.retired.extend(old.tasks);
            }
        }
    }

    /// Every accept loop's task, to await on drain.
    pub(super) fn take_accept_loops(&mut self) -> Vec<JoinHandle<()>> {
        let mut tasks: Vec<JoinHandle<()>> =
            self.running.drain().flat_map(|(_, r)| r.tasks).collect();
        tasks.append(&mut self.retired);
        self.pending.clear();
        tasks
    }
}
