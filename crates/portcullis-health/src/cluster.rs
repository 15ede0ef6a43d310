//! One cluster's health: its backends, passive outlier detection, and the
//! "when could anything be back" estimate for `Retry-After`.
//!
//! # Passive outlier detection
//!
//! Each backend counts gateway failures in a row; a success resets the count.
//! When the count reaches `consecutive_failures` the backend is ejected for
//! `base_ejection_time × n` (n = ejections in a row), capped at
//! `max_ejection_time`, unless `max_ejection_percent` of the cluster (rounded
//! down, at least one) is already ejected: then the count is kept, so the next
//! failure tries again once room frees up. Outcomes of requests to a backend
//! that is already out (in flight when it left, or panic-mode routing) are
//! ignored: they neither extend an ejection nor end it.
//!
//! The cap check and the ejection happen under a per-cluster mutex, taken only
//! when a count reaches the threshold; recording an outcome is otherwise a couple
//! of atomic operations.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use portcullis_config::{AllUnhealthy, Cluster, OutlierDetection};
use tokio::time::Instant;

use crate::backend::BackendHealth;
use crate::ejection::{ejection_time, max_ejected};
use crate::status::Outcome;

/// One cluster's health: its backends' states, the outlier policy, `all_unhealthy`.
#[derive(Debug)]
pub struct ClusterHealth {
    name: String,
    backends: Vec<Arc<BackendHealth>>,
    outlier: OutlierDetection,
    all_unhealthy: AllUnhealthy,
    /// Serialises ejection decisions of this cluster, shared with the
    /// `ClusterHealth` of other config generations so the cap holds across a reload.
    eject_lock: Arc<Mutex<()>>,
}

impl ClusterHealth {
    /// Fresh, healthy state for `cluster` without active checks (the
    /// [`HealthRegistry`](crate::HealthRegistry) is what runs probers and keeps
    /// state across reloads).
    pub fn new(cluster: &Cluster) -> Self {
        let backends = cluster
            .backends
            .iter()
            .map(|b| {
                let health = Arc::new(BackendHealth::new(&cluster.name, &b.address));
                health.set_slow_start(cluster.slow_start);
                health
            })
            .collect();
        Self::with_backends(cluster, backends, Arc::default())
    }

    /// Built by the registry around backend states it keeps.
    pub(crate) fn with_backends(
        cluster: &Cluster,
        backends: Vec<Arc<BackendHealth>>,
        eject_lock: Arc<Mutex<()>>,
    ) -> Self {
        Self {
            name: cluster.name.clone(),
            backends,
            outlier: cluster.outlier_detection.clone(),
            all_unhealthy: cluster.all_unhealthy,
            eject_lock,
        }
    }

    /// The cluster's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The backends' states, in the config's order.
    pub fn backends(&self) -> &[Arc<BackendHealth>] {
        &self.backends
    }

    /// What the data plane does when no backend is available.
    pub fn all_unhealthy(&self) -> AllUnhealthy {
        self.all_unhealthy
    }

    /// Passive outlier detection: the outcome of one request to backend number
    /// `backend` (an index into [`backends`](Self::backends); out of range is
    /// ignored). See the module notes for the rules.
    pub fn record(&self, backend: usize, outcome: Outcome, now: Instant) {
        let threshold = self.outlier.consecutive_failures;
        let Some(health) = self.backends.get(backend) else {
            return;
        };
        if threshold == 0 || !health.is_available(now) {
            return;
        }
        match outcome {
            Outcome::Success => health.record_success(),
            Outcome::GatewayFailure => {
                if health.record_failure() >= threshold {
                    self.try_eject(health, now);
                }
            }
        }
    }

    /// For `Retry-After` when every backend is out: the wait until the soonest
    /// an ejection ends or the next probe could readmit a backend. `None` when
    /// no backend is out, or none has a predictable return.
    pub fn soonest_return(&self, now: Instant) -> Option<Duration> {
        self.backends
            .iter()
            .filter_map(|b| b.next_return(now))
            .min()
            .map(|at| at.saturating_duration_since(now))
    }

    fn try_eject(&self, health: &Arc<BackendHealth>, now: Instant) {
        // At the cap, a backend kept in keeps failing, and each failure would take the
        // lock only to find the cap still reached: check without it first (ejections
        // are read from atomics), then again under it, where ejections are decided.
        if self.at_ejection_cap(health, now) {
            return;
        }
        let _guard = self
            .eject_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Another thread may have ejected it (and reset the count) meanwhile.
        let failures = health.failures_in_a_row();
        if health.is_ejected(now) || failures < self.outlier.consecutive_failures {
            return;
        }
        if self.at_ejection_cap(health, now) {
            return;
        }
        health.eject(now, failures, |nth| ejection_time(&self.outlier, nth));
    }

    /// Whether `max_ejection_percent` keeps `health` from being ejected now.
    fn at_ejection_cap(&self, health: &BackendHealth, now: Instant) -> bool {
        let ejected = self.backends.iter().filter(|b| b.is_ejected(now)).count();
        let cap = max_ejected(self.backends.len(), self.outlier.max_ejection_percent);
        if ejected < cap {
            return false;
        }
        tracing::debug!(
            cluster = %self.name,
            backend = %health.address(),
            ejected,
            cap,
            "ejection skipped: max_ejection_percent reached"
        );
        true
    }
}

#[cfg(test)]
mod tests;
