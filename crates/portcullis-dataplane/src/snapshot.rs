//! The routing snapshot: everything a request reads, built off the request path from
//! one validated config and published with a single atomic store. A request loads it
//! once and finishes on it, whatever reloads happen meanwhile.

use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::time::Duration;

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
