//! Clusters and their backends as the request path sees them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use portcullis_config as config;

use crate::balance::{hash_bytes, Balancer, Candidate, SelectKey};
use crate::upstream::{Limits, Pool, Target};

/// One backend: where it is, its weight, its idle connections and its load. Shared by
/// every request that uses it.
#[derive(Debug)]
pub struct Backend {
    /// The address as written in the config; its identity within the cluster.
    pub address: String,
    pub(crate) weight: u32,
    pub(crate) target: Target,
    pub(crate) pool: Pool,
    in_flight: AtomicUsize,
}

impl Backend {
    pub(crate) fn new(backend: &config::Backend, pool_max_idle: usize) -> Self {
        Self {
            address: backend.address.clone(),
            weight: backend.weight.get(),
            target: Target::new(&backend.host, backend.port),
            pool: Pool::new(pool_max_idle),
            in_flight: AtomicUsize::new(0),
        }
    }

    /// Counts a request in flight until the returned guard drops.
    pub(crate) fn start_request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(self))
    }

    /// Requests in flight right now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Idle pooled connections right now.
    pub fn idle_connections(&self) -> usize {
        self.pool.idle_count()
    }
}

impl Candidate for Arc<Backend> {
    fn weight(&self) -> u32 {
        self.weight
    }
    fn in_flight(&self) -> usize {
        Backend::in_flight(self)
    }
}

/// A request in flight on a backend; dropping it ends the count.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Backend>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A cluster: its backends, the algorithm that picks among them, and its limits.
#[derive(Debug)]
pub struct Cluster {
    /// The cluster's name in the config.
    pub name: String,
    /// Backends in config order.
    pub backends: Vec<Arc<Backend>>,
    pub(crate) balancer: Balancer,
    pub(crate) hash_on: config::HashOn,
    pub(crate) limits: Limits,
}

impl Cluster {
    pub(crate) fn new(cluster: &config::Cluster) -> Self {
        let backends: Vec<Arc<Backend>> = cluster
            .backends
            .iter()
            .map(|b| Arc::new(Backend::new(b, cluster.pool_max_idle)))
            .collect();
        let identities: Vec<(&str, u32)> = backends
            .iter()
            .map(|b| (b.address.as_str(), b.weight))
            .collect();
        Self {
            name: cluster.name.clone(),
            balancer: Balancer::new(cluster.balance, &identities),
            backends,
            hash_on: cluster.hash_on.clone(),
            limits: Limits {
                connect_timeout: cluster.connect_timeout,
                response_timeout: cluster.response_timeout,
                pool_idle_timeout: cluster.pool_idle_timeout,
            },
        }
    }

    /// Picks a backend for a request, among those `accept` takes.
    pub(crate) fn select(
        &self,
        key: SelectKey,
        accept: &mut dyn FnMut(usize) -> bool,
    ) -> Option<&Arc<Backend>> {
        let index = self.balancer.select(&self.backends, key, accept)?;
        self.backends.get(index)
    }

    /// The consistent-hash key of a request: the `hash_on` value, or the client IP when
    /// the header or cookie is missing.
    pub(crate) fn select_key(
        &self,
        headers: &http::HeaderMap,
        client: std::net::IpAddr,
    ) -> SelectKey {
        let value = match &self.hash_on {
            config::HashOn::ClientIp => None,
            config::HashOn::Header(name) => headers.get(name).map(|v| v.as_bytes()),
            config::HashOn::Cookie(name) => cookie(headers, name),
        };
        let hash = match value {
            Some(bytes) => hash_bytes(bytes),
            None => match client {
                std::net::IpAddr::V4(ip) => hash_bytes(&ip.octets()),
                std::net::IpAddr::V6(ip) => hash_bytes(&ip.octets()),
            },
        };
        SelectKey { hash }
    }
}

fn cookie<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a [u8]> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .find_map(|value| {
            let text = value.to_str().ok()?;
            text.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                (key == name).then_some(value.as_bytes())
            })
        })
}
