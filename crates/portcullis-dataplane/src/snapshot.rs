//! The routing snapshot: everything a request reads, built off the request path from
//! one validated config and published with a single atomic store. A request loads it
//! once and finishes on it, whatever reloads happen meanwhile.

use std::cell::RefCell;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::{ArcSwap, Cache};
use rustc_hash::FxHashMap;

use http::HeaderValue;
use ipnet::IpNet;
use portcullis_config::{Config, ProxyStatusMode};

use crate::cluster::Cluster;
use crate::metrics::ListenerMetrics;
use crate::registry::Registry;
use crate::response::ProxyIdentity;
use crate::routing::RouteTable;

/// One consistent view of the configuration for the request path.
#[derive(Debug)]
pub struct Snapshot {
    /// Increases by one with every configuration that goes live.
    pub generation: u64,
    /// Clusters by position; routes refer to them by index.
    pub clusters: Vec<Arc<Cluster>>,
    /// Keyed with a fast hash: the keys come from the config, lookups run per request.
    pub(crate) listeners: FxHashMap<String, ListenerView>,
    pub(crate) identity: ProxyIdentity,
    pub(crate) proxy_status: ProxyStatusMode,
    pub(crate) expose_next_hop: bool,
    pub(crate) via_http11: HeaderValue,
    pub(crate) via_http10: HeaderValue,
    pub(crate) via_http2: HeaderValue,
}

/// What a listener's connections read per request.
#[derive(Debug)]
pub(crate) struct ListenerView {
    pub routes: RouteTable,
    pub metrics: ListenerMetrics,
    pub trusted_proxies: Vec<IpNet>,
    pub limits: ConnLimits,
}

/// A listener's per-connection limits, read when a connection is accepted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnLimits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_header_bytes: usize,
    pub max_body_bytes: Option<u64>,
}

impl Snapshot {
    /// Builds the snapshot for `config`, keeping from `registry` what stays.
    pub(crate) fn build(config: &Config, generation: u64, registry: &Registry) -> Self {
        let clusters = registry.clusters(config);
        let index = |name: &str| clusters.iter().position(|c| c.name == name);
        let listeners = config
            .listeners
            .iter()
            .map(|l| {
                let routes = config
                    .routes
                    .iter()
                    .filter(|r| r.listener.as_deref().is_none_or(|name| name == l.name));
                let names = clusters.iter().map(|c| c.name.as_str());
                let view = ListenerView {
                    metrics: ListenerMetrics::new(&l.name, names),
                    routes: RouteTable::build(routes, index),
                    trusted_proxies: l.trusted_proxies.clone(),
                    limits: ConnLimits {
                        header_timeout: l.header_timeout,
                        idle_timeout: l.idle_timeout,
                        max_header_bytes: l.max_header_bytes,
                        max_body_bytes: l.max_body_bytes,
                    },
                };
                (l.name.clone(), view)
            })
            .collect();
        let server = &config.server;
        let via = |version: &str| {
            HeaderValue::try_from(format!("{version} {}", server.proxy_name))
                .unwrap_or_else(|_| HeaderValue::from_static("1.1 portcullis"))
        };
        Self {
            generation,
            clusters,
            listeners,
            identity: ProxyIdentity::new(&server.proxy_name),
            proxy_status: server.proxy_status,
            expose_next_hop: server.expose_next_hop,
            via_http11: via("1.1"),
            via_http10: via("1.0"),
            via_http2: via("2"),
        }
    }

    /// The cluster called `name`.
    pub fn cluster(&self, name: &str) -> Option<&Arc<Cluster>> {
        self.clusters.iter().find(|c| c.name == name)
    }
}

/// Where the live snapshot is published: one atomic store per reload.
pub(crate) type SnapshotStore = Arc<ArcSwap<Snapshot>>;

/// The live snapshot as one thread's own reference. A request clones and drops a
/// reference that only its worker counts, so two workers serving requests never write
/// the same cache line just to read the configuration.
#[derive(Debug)]
pub(crate) struct LocalSnapshot(Arc<Snapshot>);

impl Deref for LocalSnapshot {
    type Target = Snapshot;

    fn deref(&self) -> &Snapshot {
        &self.0
    }
}

/// This thread's view of one store: the store's pointer is re-read on every call (a
/// plain load), and a new local reference is made only when a reload swapped it.
struct ThreadView {
    cache: Cache<SnapshotStore, Arc<Snapshot>>,
    local: Arc<LocalSnapshot>,
}

thread_local! {
    static VIEW: RefCell<Option<ThreadView>> = const { RefCell::new(None) };
}

/// The live snapshot of `store`, as this thread's own reference (see [`LocalSnapshot`]).
pub(crate) fn current(store: &SnapshotStore) -> Arc<LocalSnapshot> {
    VIEW.with(|view| {
        let mut view = view.borrow_mut();
        let view = match view.as_mut() {
            Some(v) if std::ptr::eq(v.cache.arc_swap(), &**store) => v,
            _ => {
                let mut cache = Cache::new(Arc::clone(store));
                let local = Arc::new(LocalSnapshot(Arc::clone(cache.load())));
                view.insert(ThreadView { cache, local })
            }
        };
        let live = view.cache.load();
        if !Arc::ptr_eq(live, &view.local.0) {
            view.local = Arc::new(LocalSnapshot(Arc::clone(live)));
        }
        Arc::clone(&view.local)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(generation: u64) -> Snapshot {
        let config = portcullis_config::parse("", "test.toml").expect("empty config is valid");
        Snapshot::build(&config, generation, &Registry::new(1))
    }

    #[tokio::test]
    async fn a_thread_reuses_its_reference_until_a_reload() {
        let store: SnapshotStore = Arc::new(ArcSwap::from_pointee(snapshot(1)));
        let first = current(&store);
        assert!(
            Arc::ptr_eq(&first, &current(&store)),
            "unchanged: same local reference"
        );
        store.store(Arc::new(snapshot(2)));
        let second = current(&store);
        assert_eq!((first.generation, second.generation), (1, 2));
        let other: SnapshotStore = Arc::new(ArcSwap::from_pointee(snapshot(7)));
        assert_eq!(
            current(&other).generation,
            7,
            "another store is not mixed up"
        );
        assert_eq!(current(&store).generation, 2);
    }

    #[tokio::test]
    async fn another_thread_has_its_own_reference() {
        let store: SnapshotStore = Arc::new(ArcSwap::from_pointee(snapshot(1)));
        let here = current(&store);
        let there = std::thread::scope(|s| s.spawn(|| current(&store)).join().unwrap());
        assert!(!Arc::ptr_eq(&here, &there));
        assert!(
            std::ptr::eq::<Snapshot>(&**here, &**there),
            "same snapshot underneath"
        );
    }
}
