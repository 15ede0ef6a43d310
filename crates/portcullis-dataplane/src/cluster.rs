//! Clusters as one snapshot sees them: members with weights, the algorithm that picks
//! among them, and the cluster-wide limits, budget and health.

use std::sync::Arc;

use http::StatusCode;
use portcullis_breaker::{ConcurrencyLimit, RetryBudget};
use portcullis_config as config;
use portcullis_health::ClusterHealth;

use crate::backend::Backend;
use crate::balance::{hash_bytes, Balancer, Candidate, SelectKey};
use crate::metrics::ClusterMetrics;
use crate::upstream::Limits;
use crate::Tally;

/// A backend with the weight this snapshot gives it.
#[derive(Debug)]
pub(crate) struct Member {
    pub backend: Arc<Backend>,
    pub weight: u32,
}

impl Candidate for Member {
    fn weight(&self) -> u32 {
        self.weight
    }
    fn in_flight(&self) -> usize {
        self.backend.in_flight_here()
    }
}

/// State a cluster keeps across reloads: its in-flight limit and retry budget.
#[derive(Debug)]
pub(crate) struct ClusterShared {
    /// Every backend is out right now (logged on change only).
    pub all_out: std::sync::atomic::AtomicBool,
    pub limit: Arc<ConcurrencyLimit>,
    pub budget: Arc<RetryBudget>,
    /// Requests routed to this cluster, and generated answers by cause: what the
    /// status API shows without reading the metrics registry.
    pub tally: Tally,
    pub built_from: (usize, config::Retry),
}

impl ClusterShared {
    pub(crate) fn new(cluster: &config::Cluster) -> Self {
        Self {
            all_out: std::sync::atomic::AtomicBool::new(false),
            limit: Arc::new(ConcurrencyLimit::new(cluster.circuit_breaker.max_requests)),
            budget: Arc::new(RetryBudget::new(&cluster.retry, &cluster.name)),
            tally: Tally::default(),
            built_from: (cluster.circuit_breaker.max_requests, cluster.retry.clone()),
        }
    }
}

/// A cluster: its members, the algorithm that picks among them, and its policies.
#[derive(Debug)]
pub struct Cluster {
    /// The cluster's name in the config.
    pub name: String,
    pub(crate) members: Vec<Member>,
    pub(crate) balancer: Balancer,
    pub(crate) hash_on: config::HashOn,
    pub(crate) limits: Limits,
    /// Health of the members, in the same order.
    pub health: Arc<ClusterHealth>,
    pub(crate) shared: Arc<ClusterShared>,
    pub(crate) retry: config::Retry,
    /// Status of `circuit_open` and `overloaded` answers (502 or 503).
    pub(crate) short_circuit_status: StatusCode,
    pub(crate) metrics: ClusterMetrics,
    /// `balance` as written, for the status API.
    pub balance: &'static str,
}

impl Cluster {
    pub(crate) fn new(
        cluster: &config::Cluster,
        backends: Vec<Arc<Backend>>,
        health: Arc<ClusterHealth>,
        shared: Arc<ClusterShared>,
    ) -> Self {
        let members: Vec<Member> = backends
            .into_iter()
            .zip(&cluster.backends)
            .map(|(backend, b)| Member {
                backend,
                weight: b.weight.get(),
            })
            .collect();
        let identities: Vec<(&str, u32)> = members
            .iter()
            .map(|m| (m.backend.address.as_str(), m.weight))
            .collect();
        Self {
            name: cluster.name.clone(),
            balancer: Balancer::new(cluster.balance, &identities),
            members,
            hash_on: cluster.hash_on.clone(),
            limits: Limits {
                connect_timeout: cluster.connect_timeout,
                response_timeout: cluster.response_timeout,
                pool_idle_timeout: cluster.pool_idle_timeout,
            },
            health,
            shared,
            retry: cluster.retry.clone(),
            short_circuit_status: StatusCode::from_u16(cluster.circuit_breaker.status)
                .unwrap_or(StatusCode::BAD_GATEWAY),
            metrics: ClusterMetrics::new(&cluster.name),
            balance: balance_name(cluster.balance),
        }
    }

    /// The members' backends, in config order.
    pub fn backends(&self) -> impl Iterator<Item = &Arc<Backend>> {
        self.members.iter().map(|m| &m.backend)
    }

    /// Each backend with its weight, in config order.
    pub fn weighted_backends(&self) -> impl Iterator<Item = (&Arc<Backend>, u32)> {
        self.members.iter().map(|m| (&m.backend, m.weight))
    }

    /// Requests in flight to the whole cluster.
    pub fn in_flight(&self) -> usize {
        self.shared.limit.in_flight()
    }

    /// Requests routed here and generated answers by cause, since the cluster appeared.
    pub fn tally(&self) -> &Tally {
        &self.shared.tally
    }

    /// Picks a member index for a request, among those `accept` takes.
    pub(crate) fn select(
        &self,
        key: SelectKey,
        accept: &mut dyn FnMut(usize) -> bool,
    ) -> Option<usize> {
        self.balancer.select(&self.members, key, accept)
    }

    /// The consistent-hash key of a request: the `hash_on` value, or the client IP when
    /// the header or cookie is missing.
    pub(crate) fn select_key(
        &self,
        headers: &http::HeaderMap,
        client: std::net::IpAddr,
    ) -> SelectKey {
        if !matches!(self.balancer, Balancer::ConsistentHash(_)) {
            return SelectKey::default();
        }
        let value = match &self.hash_on {
            config::HashOn::ClientIp => None,
            config::HashOn::Header(name) => headers.get(name).map(|v| v.as_bytes()),
            config::HashOn::Cookie(name) => cookie(headers, name),
        };
        let hash = match (value, client) {
            (Some(bytes), _) => hash_bytes(bytes),
            (None, std::net::IpAddr::V4(ip)) => hash_bytes(&ip.octets()),
            (None, std::net::IpAddr::V6(ip)) => hash_bytes(&ip.octets()),
        };
        SelectKey { hash }
    }
}

fn balance_name(balance: config::Balance) -> &'static str {
    match balance {
        config::Balance::RoundRobin => "round_robin",
        config::Balance::LeastRequest => "least_request",
        config::Balance::Random => "random",
        config::Balance::ConsistentHash => "consistent_hash",
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
