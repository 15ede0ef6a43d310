//! The process-wide registry of backend health, keyed by (cluster, address).
//!
//! # Design
//!
//! `update` reconciles the registry with a config, like a reload should: a backend
//! that stays (same cluster and address as written) keeps its `Arc<BackendHealth>`
//! and with it every ejection, failure count and probe history; new backends start
//! healthy; removed ones are forgotten (requests still holding the old snapshot
//! keep their `Arc`). Exactly one prober task runs per backend with a
//! `health_check`; it is restarted only when the check's settings change. The
//! registry lock is held only inside `update` and `shutdown`, never across an
//! `.await` and never on the request path.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use portcullis_config::{Backend, Cluster, Config, HealthCheck};
use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::backend::BackendHealth;
use crate::cluster::ClusterHealth;
use crate::probe::AnyProbe;
use crate::{prober, schedule};

/// Probes in flight at once, process-wide.
pub const MAX_PROBES_IN_FLIGHT: usize = 64;

/// (cluster name, backend address as written).
type Key = (String, String);

/// Process-wide health registry: per-backend state kept across reloads, and the
/// prober tasks. Dropping it stops every prober.
#[derive(Debug)]
pub struct HealthRegistry {
    state: Mutex<State>,
    /// Bounds probes in flight across all probers.
    slots: Arc<Semaphore>,
}

#[derive(Debug, Default)]
struct State {
    backends: HashMap<Key, Entry>,
    /// Per-cluster ejection locks, kept across reloads like the backends.
    eject_locks: HashMap<String, Arc<Mutex<()>>>,
}

#[derive(Debug)]
struct Entry {
    health: Arc<BackendHealth>,
    prober: Option<Prober>,
}

#[derive(Debug)]
struct Prober {
    check: HealthCheck,
    task: JoinHandle<()>,
}

/// A prober to start once the config has been walked (the count decides spreading).
struct Start {
    key: Key,
    check: HealthCheck,
    backend: Backend,
}

/// What one `update` found: backends to keep, probers to start, counts to log.
#[derive(Default)]
struct Plan {
    keep: HashSet<Key>,
    starts: Vec<Start>,
    added: usize,
    removed: usize,
    probers_stopped: usize,
}

impl HealthRegistry {
    /// An empty registry allowing [`MAX_PROBES_IN_FLIGHT`] probes at once.
    pub fn new() -> Self {
        Self {
            state: Mutex::default(),
            slots: Arc::new(Semaphore::new(MAX_PROBES_IN_FLIGHT)),
        }
    }

    /// Makes the registry match `config` and returns each cluster's
    /// [`ClusterHealth`] by cluster name: reuses the `BackendHealth` of backends
    /// that stay (same cluster and address), starts exactly one prober per backend
    /// with a `health_check` (a new backend is probed at once, or within its first
    /// interval when more than ten probers start together), stops the probers of
    /// removed backends and restarts those whose check settings changed.
    ///
    /// Must be called inside a tokio runtime; outside one, no prober starts and
    /// the error is logged (it does not panic).
    pub fn update(&self, config: &Config) -> HashMap<String, Arc<ClusterHealth>> {
        let now = Instant::now();
        let runtime = Handle::try_current().ok();
        if runtime.is_none() {
            tracing::error!(
                "health registry updated outside a tokio runtime: no active checks run"
            );
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut plan = Plan::default();
        let mut clusters = HashMap::new();
        for cluster in config.clusters.values() {
            let check = cluster.health_check.as_ref().filter(|_| runtime.is_some());
            let health = state.cluster(cluster, check, now, &mut plan);
            clusters.insert(cluster.name.clone(), Arc::new(health));
        }
        state.backends.retain(|key, entry| {
            let stays = plan.keep.contains(key);
            if !stays {
                plan.removed += 1;
                plan.probers_stopped += usize::from(entry.stop());
            }
            stays
        });
        state
            .eject_locks
            .retain(|name, _| config.clusters.contains_key(name));
        let started = plan.starts.len();
        if let Some(runtime) = runtime {
            self.start(&mut state, plan.starts, &runtime);
        }
        tracing::info!(
            added = plan.added,
            removed = plan.removed,
            probers_started = started,
            probers_stopped = plan.probers_stopped,
            "health registry updated"
        );
        clusters
    }

    /// Stops every prober. Backend states stay as they are; a later
    /// [`update`](Self::update) starts the probers again.
    pub fn shutdown(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        for entry in state.backends.values_mut() {
            entry.stop();
        }
    }

    /// Probers running now: one per backend with active checks.
    pub fn probers(&self) -> usize {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .backends
            .values()
            .filter(|e| e.prober.as_ref().is_some_and(|p| !p.task.is_finished()))
            .count()
    }

    fn start(&self, state: &mut State, starts: Vec<Start>, runtime: &Handle) {
        let bulk = starts.len();
        for start in starts {
            let Some(entry) = state.backends.get_mut(&start.key) else {
                continue;
            };
            let delay = schedule::first_delay(start.check.interval, bulk);
            let probe = AnyProbe::new(&start.check, &start.backend);
            let task = runtime.spawn(prober::run(
                Arc::clone(&entry.health),
                probe,
                start.check.clone(),
                delay,
                Arc::clone(&self.slots),
            ));
            entry.prober = Some(Prober {
                check: start.check,
                task,
            });
        }
    }
}

impl Default for HealthRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for HealthRegistry {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl State {
    /// The health of `cluster`, reusing the states of staying backends and
    /// planning the probers `check` needs.
    fn cluster(
        &mut self,
        cluster: &Cluster,
        check: Option<&HealthCheck>,
        now: Instant,
        plan: &mut Plan,
    ) -> ClusterHealth {
        let mut backends = Vec::with_capacity(cluster.backends.len());
        for backend in &cluster.backends {
            let key = (cluster.name.clone(), backend.address.clone());
            let entry = self.backends.entry(key.clone()).or_insert_with(|| {
                plan.added += 1;
                Entry::new(&key)
            });
            entry.health.set_slow_start(cluster.slow_start);
            if let Some(check) = entry.reconcile(check, now, &mut plan.probers_stopped) {
                plan.starts.push(Start {
                    key: key.clone(),
                    check: check.clone(),
                    backend: backend.clone(),
                });
            }
            backends.push(Arc::clone(&entry.health));
            plan.keep.insert(key);
        }
        let lock = Arc::clone(self.eject_locks.entry(cluster.name.clone()).or_default());
        ClusterHealth::with_backends(cluster, backends, lock)
    }
}

impl Entry {
    fn new((cluster, address): &Key) -> Self {
        Self {
            health: Arc::new(BackendHealth::new(cluster, address)),
            prober: None,
        }
    }

    /// Brings the prober in line with `check`; returns the check when a prober
    /// must be started for it.
    fn reconcile<'c>(
        &mut self,
        check: Option<&'c HealthCheck>,
        now: Instant,
        stopped: &mut usize,
    ) -> Option<&'c HealthCheck> {
        if let Some(prober) = &self.prober {
            if Some(&prober.check) == check && !prober.task.is_finished() {
                return None;
            }
            *stopped += usize::from(self.stop());
        }
        self.health.set_active(check.map(|c| c.interval), now);
        check
    }

    /// Aborts the prober, if any; true if there was one.
    fn stop(&mut self) -> bool {
        match self.prober.take() {
            Some(prober) => {
                prober.task.abort();
                true
            }
            None => false,
        }
    }
}
