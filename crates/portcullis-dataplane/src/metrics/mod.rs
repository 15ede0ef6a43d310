//! The data plane's metrics: names in one place, and handles made when a listener,
//! cluster or backend enters the table, so the request path only increments. Label
//! values come from the config (and the status code), never from request data.
//!
//! What every request updates (request and attempt counts, latencies) is kept per
//! worker in [`sharded`] and rendered by it; the rest goes through the `metrics` facade
//! to the Prometheus exporter.

mod sharded;

use std::sync::{Arc, OnceLock};

use metrics::{Counter, Gauge};

use crate::Cause;
pub(crate) use sharded::Counter as WorkerCounter;
pub use sharded::{duration_buckets, render};

/// Metric names, as the SPEC spells them.
pub mod names {
    /// Requests by listener, cluster and response status.
    pub const REQUESTS_TOTAL: &str = "portcullis_requests_total";
    /// Whole-request latency by cluster.
    pub const REQUEST_DURATION: &str = "portcullis_request_duration_seconds";
    /// Upstream attempts by cluster, backend and the origin's status.
    pub const UPSTREAM_REQUESTS_TOTAL: &str = "portcullis_upstream_requests_total";
    /// Upstream attempt latency (to the response head) by cluster and backend.
    pub const UPSTREAM_DURATION: &str = "portcullis_upstream_duration_seconds";
    /// Responses Portcullis generated, by cluster, status and cause.
    pub const GENERATED_RESPONSES_TOTAL: &str = "portcullis_generated_responses_total";
    /// Requests in flight by cluster and backend.
    pub const IN_FLIGHT_REQUESTS: &str = "portcullis_in_flight_requests";
    /// Access log lines dropped because the writer fell behind (not in the SPEC's
    /// table: an addition, so a log with gaps is never silent).
    pub const ACCESS_LOG_DROPPED_TOTAL: &str = "portcullis_access_log_dropped_total";
    /// Open client connections by listener.
    pub const DOWNSTREAM_CONNECTIONS: &str = "portcullis_downstream_connections";
}

/// Statuses with a slot each; anything else shares the slot of its class (`5xx`).
const CODES: std::ops::RangeInclusive<u16> = 100..=599;

/// A counter per status code, each made on first use: label formatting happens once
/// per (labels, code), never per request after that.
#[derive(Debug)]
pub(crate) struct CodeCounters {
    name: &'static str,
    labels: Vec<(&'static str, String)>,
    slots: OnceLock<Box<[OnceLock<Arc<sharded::Counter>>]>>,
}

impl CodeCounters {
    pub(crate) fn new(name: &'static str, labels: Vec<(&'static str, String)>) -> Self {
        Self {
            name,
            labels,
            slots: OnceLock::new(),
        }
    }

    pub(crate) fn increment(&self, code: u16) {
        let code = if CODES.contains(&code) { code } else { 599 };
        let slots = self
            .slots
            .get_or_init(|| CODES.map(|_| OnceLock::new()).collect());
        let slot = &slots[usize::from(code - CODES.start())];
        slot.get_or_init(|| {
            let code = code.to_string();
            let mut labels: Vec<(&str, &str)> =
                self.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
            labels.push(("code", &code));
            sharded::counter(self.name, &labels)
        })
        .increment();
    }
}

/// `portcullis_generated_responses_total` of one cluster (or of none: label `""`).
#[derive(Debug)]
pub(crate) struct CauseCounters {
    cluster: String,
    slots: [OnceLock<Counter>; Cause::ALL.len()],
}

impl CauseCounters {
    pub(crate) fn new(cluster: &str) -> Self {
        Self {
            cluster: cluster.to_owned(),
            slots: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    /// Counts one generated response. `status` is fixed per (cluster, cause).
    pub(crate) fn increment(&self, cause: Cause, status: u16) {
        self.slots[cause.index()]
            .get_or_init(|| {
                metrics::counter!(names::GENERATED_RESPONSES_TOTAL,
                    "cluster" => self.cluster.clone(),
                    "code" => status.to_string(),
                    "cause" => cause.as_str())
            })
            .increment(1);
    }
}

/// One backend's handles.
#[derive(Debug)]
pub(crate) struct BackendMetrics {
    pub in_flight: Gauge,
    pub duration: Arc<sharded::Histogram>,
    pub requests: CodeCounters,
}

impl BackendMetrics {
    pub(crate) fn new(cluster: &str, backend: &str) -> Self {
        let labels = || {
            [
                ("cluster", cluster.to_owned()),
                ("backend", backend.to_owned()),
            ]
        };
        Self {
            in_flight: metrics::gauge!(names::IN_FLIGHT_REQUESTS, &labels()),
            duration: sharded::histogram(
                names::UPSTREAM_DURATION,
                &[("cluster", cluster), ("backend", backend)],
            ),
            requests: CodeCounters::new(names::UPSTREAM_REQUESTS_TOTAL, labels().to_vec()),
        }
    }
}

/// One cluster's handles.
#[derive(Debug)]
pub(crate) struct ClusterMetrics {
    pub duration: Arc<sharded::Histogram>,
    pub generated: CauseCounters,
}

impl ClusterMetrics {
    pub(crate) fn new(cluster: &str) -> Self {
        Self {
            duration: sharded::histogram(names::REQUEST_DURATION, &[("cluster", cluster)]),
            generated: CauseCounters::new(cluster),
        }
    }
}

/// `portcullis_requests_total` of one listener: per cluster index, plus one set for
/// requests that reached no cluster (label `cluster=""`).
#[derive(Debug)]
pub(crate) struct ListenerMetrics {
    by_cluster: Vec<CodeCounters>,
    unrouted: CodeCounters,
    pub unrouted_generated: CauseCounters,
}

impl ListenerMetrics {
    pub(crate) fn new<'a>(listener: &str, clusters: impl Iterator<Item = &'a str>) -> Self {
        let counters = |cluster: &str| {
            let labels = vec![
                ("listener", listener.to_owned()),
                ("cluster", cluster.to_owned()),
            ];
            CodeCounters::new(names::REQUESTS_TOTAL, labels)
        };
        Self {
            by_cluster: clusters.map(counters).collect(),
            unrouted: counters(""),
            unrouted_generated: CauseCounters::new(""),
        }
    }

    /// Counts one finished request.
    pub(crate) fn request(&self, cluster: Option<usize>, code: u16) {
        match cluster.and_then(|i| self.by_cluster.get(i)) {
            Some(counters) => counters.increment(code),
            None => self.unrouted.increment(code),
        }
    }
}
