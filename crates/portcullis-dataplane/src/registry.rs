//! What outlives a snapshot: backends keyed by (cluster, address), cluster-wide limits
//! and budgets by cluster, and the health registry. A reload builds its snapshot from
//! here, so a backend that stays keeps its pool, breaker, health and ejection state.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use dashmap::DashMap;
use portcullis_config::Config;
use portcullis_health::HealthRegistry;

use crate::backend::{Backend, BuiltFrom};
use crate::cluster::{Cluster, ClusterShared};

/// See the module documentation. Used only when a snapshot is built.
#[derive(Debug)]
pub(crate) struct Registry {
    backends: DashMap<(String, String), Arc<Backend>>,
    clusters: DashMap<String, Arc<ClusterShared>>,
    health: HealthRegistry,
    /// Worker threads, for per-worker connection pools.
    workers: usize,
}

impl Registry {
    pub(crate) fn new(workers: usize) -> Self {
        let (backends, clusters) = (DashMap::new(), DashMap::new());
        Self {
            backends,
            clusters,
            health: HealthRegistry::new(),
            workers,
        }
    }

    /// Every cluster of `config`, reusing what stays; forgets what went. Starts and
    /// stops health probers to match. Must run inside a tokio runtime.
    pub(crate) fn clusters(&self, config: &Config) -> Vec<Arc<Cluster>> {
        let mut health = self.health.update(config);
        let mut kept = HashSet::new();
        let clusters = config
            .clusters
            .values()
            .filter_map(|cluster| {
                let cluster_health = health.remove(&cluster.name)?;
                let backends = cluster
                    .backends
                    .iter()
                    .zip(cluster_health.backends())
                    .map(|(b, h)| {
                        kept.insert((cluster.name.clone(), b.address.clone()));
                        self.backend(cluster, b, h)
                    })
                    .collect();
                let shared = self.shared(cluster);
                Some(Arc::new(Cluster::new(
                    cluster,
                    backends,
                    cluster_health,
                    shared,
                )))
            })
            .collect();
        self.backends.retain(|key, _| kept.contains(key));
        let names: HashMap<&str, ()> = config.clusters.keys().map(|k| (k.as_str(), ())).collect();
        self.clusters
            .retain(|name, _| names.contains_key(name.as_str()));
        clusters
    }

    fn backend(
        &self,
        cluster: &portcullis_config::Cluster,
        backend: &portcullis_config::Backend,
        health: &Arc<portcullis_health::BackendHealth>,
    ) -> Arc<Backend> {
        let key = (cluster.name.clone(), backend.address.clone());
        let from = BuiltFrom::new(cluster, backend);
        let mut entry = self.backends.entry(key).or_insert_with(|| {
            Arc::new(Backend::new(
                cluster,
                backend,
                Arc::clone(health),
                self.workers,
            ))
        });
        if !entry.reusable_for(&from) || !Arc::ptr_eq(&entry.health, health) {
            *entry = Arc::new(Backend::new(
                cluster,
                backend,
                Arc::clone(health),
                self.workers,
            ));
        }
        Arc::clone(&entry)
    }

    fn shared(&self, cluster: &portcullis_config::Cluster) -> Arc<ClusterShared> {
        let from = (cluster.circuit_breaker.max_requests, cluster.retry.clone());
        let mut entry = self
            .clusters
            .entry(cluster.name.clone())
            .or_insert_with(|| Arc::new(ClusterShared::new(cluster)));
        if entry.built_from != from {
            *entry = Arc::new(ClusterShared::new(cluster));
        }
        Arc::clone(&entry)
    }

    /// Stops every health prober (on drain).
    pub(crate) fn shutdown(&self) {
        self.health.shutdown();
    }
}
