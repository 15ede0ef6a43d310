//! One backend as the request path sees it: where it is, its idle connections, its
//! load, its health and its breaker. Kept across reloads while it stays in the config.

use std::sync::Arc;

use portcullis_breaker::{Breaker, ConcurrencyLimit};
use portcullis_config as config;
use portcullis_health::BackendHealth;

use crate::metrics::BackendMetrics;
use crate::per_worker::UpDown;
use crate::snapshot::LocalSnapshot;
use crate::upstream::{Pools, Target};

/// One backend of a cluster. Shared by every request that uses it.
#[derive(Debug)]
pub struct Backend {
    /// The address as written in the config; its identity within the cluster.
    pub address: String,
    pub(crate) target: Target,
    pub(crate) pool: Pools,
    /// Active and passive health, kept by the health registry.
    pub health: Arc<BackendHealth>,
    /// This backend's circuit breaker.
    pub breaker: Breaker,
    /// `max_requests_per_backend`, when set.
    pub(crate) limit: Option<Arc<ConcurrencyLimit>>,
    pub(crate) metrics: BackendMetrics,
    /// Per worker: a request counts up and down on the worker that serves it.
    in_flight: UpDown,
    /// Per worker: every attempt counts one, on every worker.
    attempts: crate::metrics::WorkerCounter,
    /// What this object was built from: a reload that changes it builds a new one.
    built_from: BuiltFrom,
}

/// The settings a `Backend` cannot change in place.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BuiltFrom {
    host: String,
    port: u16,
    pool_max_idle: usize,
    breaker: config::CircuitBreaker,
}

impl BuiltFrom {
    pub(crate) fn new(cluster: &config::Cluster, backend: &config::Backend) -> Self {
        Self {
            host: backend.host.clone(),
            port: backend.port,
            pool_max_idle: cluster.pool_max_idle,
            breaker: cluster.circuit_breaker.clone(),
        }
    }
}

impl Backend {
    pub(crate) fn new(
        cluster: &config::Cluster,
        backend: &config::Backend,
        health: Arc<BackendHealth>,
        workers: usize,
    ) -> Self {
        let breaker_settings = &cluster.circuit_breaker;
        Self {
            address: backend.address.clone(),
            target: Target::new(&backend.host, backend.port),
            pool: Pools::new(cluster.pool_max_idle, workers),
            health,
            breaker: Breaker::new(breaker_settings, &cluster.name, &backend.address),
            limit: breaker_settings
                .max_requests_per_backend
                .map(|max| Arc::new(ConcurrencyLimit::new(max))),
            metrics: BackendMetrics::new(&cluster.name, &backend.address),
            in_flight: UpDown::default(),
            attempts: crate::metrics::WorkerCounter::new(),
            built_from: BuiltFrom::new(cluster, backend),
        }
    }

    /// Whether a reload to `from` can keep this object (and so its pool and breaker).
    pub(crate) fn reusable_for(&self, from: &BuiltFrom) -> bool {
        &self.built_from == from
    }

    /// Copies the in-flight count into its gauge. Done on a tick, not per request: a
    /// float gauge updated by every request on every worker is a contended CAS loop.
    pub(crate) fn publish_in_flight(&self) {
        self.metrics.in_flight.set(self.in_flight() as f64);
    }

    /// Requests in flight right now, on every worker.
    pub fn in_flight(&self) -> usize {
        self.in_flight.get()
    }

    /// Requests the calling worker has in flight here (see `balance::least_request`).
    pub(crate) fn in_flight_here(&self) -> usize {
        self.in_flight.here()
    }

    /// Upstream attempts sent to this backend so far.
    pub fn requests(&self) -> u64 {
        self.attempts.get()
    }
}

/// Where a backend sits: in which snapshot, cluster and member.
///
/// What outlives a request's handler (its response body, which returns the connection
/// to the pool) keeps the backend alive through the worker's own reference to the
/// snapshot rather than the backend's `Arc`: that count is one every worker writes
/// twice per request, the worker's snapshot reference is the worker's alone. A body
/// streamed across a reload keeps the old snapshot alive until it ends.
#[derive(Debug)]
pub(crate) struct Placed {
    pub snapshot: Arc<LocalSnapshot>,
    pub cluster: usize,
    pub member: usize,
}

impl Placed {
    fn backend(&self) -> &Backend {
        // Indices into the snapshot they came from, which is held and never changes.
        &self.snapshot.clusters[self.cluster].members[self.member].backend
    }

    /// Counts a request in flight on this backend until the returned guard drops.
    pub(crate) fn start_request(self) -> InFlight {
        let backend = self.backend();
        backend.attempts.increment();
        backend.in_flight.up();
        InFlight(self)
    }
}

/// A request in flight on a backend; dropping it ends the count.
#[derive(Debug)]
pub(crate) struct InFlight(Placed);

impl InFlight {
    /// The backend the request is on.
    pub(crate) fn backend(&self) -> &Backend {
        self.0.backend()
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.backend().in_flight.down();
    }
}
