//! The status model: what `GET /api/v1/status` serves and the status page renders.
//!
//! Plain data, filled in by the binary from its live state. Enumerated values are
//! strings on purpose: they are the JSON contract (the SPEC's names), and the page and
//! scripts read them as such.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A snapshot of the running process, as the admin side shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// The config generation serving now: 1 for the config loaded at start, one more
    /// for each successful reload.
    pub generation: u64,
    /// When the process started, RFC 3339 (the page shows uptime from it).
    pub started_at: String,
    /// True once SIGTERM/SIGINT started the drain.
    pub draining: bool,
    /// The most recent reload attempt, successful or not; `None` before the first.
    pub last_reload: Option<ReloadReport>,
    /// Reload outcomes since start (the `portcullis_config_reloads_total` counters).
    pub reloads: ReloadCounts,
    /// Every data listener of the live config.
    pub listeners: Vec<ListenerReport>,
    /// Every cluster of the live config, in config order.
    pub clusters: Vec<ClusterReport>,
    /// Generated responses since start, by cause (the SPEC's cause names), all
    /// clusters together plus those no cluster owns (`no_route`, `bad_request`, ...).
    pub errors_by_cause: BTreeMap<String, u64>,
}

/// One reload attempt: when, how it was triggered and what came of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReloadReport {
    /// When the attempt finished, RFC 3339.
    pub at: String,
    /// True when the new config went live.
    pub ok: bool,
    /// The generation serving after the attempt: the new one on success, the old one
    /// (still serving) on failure.
    pub generation: u64,
    /// Every error, one line each, `file:line:col: key.path: message`; empty on success.
    pub errors: Vec<String>,
    /// What asked for it: `"file"` (the watcher), `"sighup"` or `"api"`.
    pub trigger: String,
}

/// Reload outcomes since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadCounts {
    /// Reloads that went live.
    pub success: u64,
    /// Reloads rejected; the running config kept serving.
    pub failure: u64,
}

/// One data listener.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerReport {
    /// The listener's name in the config.
    pub name: String,
    /// The address it is bound to.
    pub address: String,
    /// Open downstream connections now.
    pub connections: u64,
}

/// One cluster and its backends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterReport {
    /// The cluster's name in the config.
    pub name: String,
    /// The balancing algorithm: `round_robin`, `least_request`, `random`, `consistent_hash`.
    pub balance: String,
    /// Requests in flight to the cluster now.
    pub in_flight: u64,
    /// Requests routed to the cluster since start.
    pub requests_total: u64,
    /// Responses generated for this cluster since start, by cause.
    pub errors_by_cause: BTreeMap<String, u64>,
    /// Every backend, in config order.
    pub backends: Vec<BackendReport>,
}

/// One backend of a cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackendReport {
    /// The backend's address as written in the config (its identity, as in metrics).
    pub address: String,
    /// The configured weight, 1..=1000.
    pub weight: u32,
    /// `"healthy"`, `"unhealthy"` (failed active checks) or `"ejected"` (outlier
    /// detection took it out until `ejected_until`).
    pub health: String,
    /// The latest active health check; `None` without checks or before the first.
    pub last_check: Option<CheckReport>,
    /// While ejected: when it comes back, RFC 3339.
    pub ejected_until: Option<String>,
    /// The circuit breaker: `"closed"`, `"open"` or `"half_open"`.
    pub breaker: String,
    /// Requests in flight to this backend now.
    pub in_flight: u64,
    /// Requests sent to this backend since start (retries included).
    pub requests_total: u64,
}

/// The result of one active health check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// True when the check passed.
    pub ok: bool,
    /// How long the check took, in milliseconds.
    pub latency_ms: f64,
    /// When it finished, RFC 3339.
    pub at: String,
    /// Why it failed (`connect_refused`, `status 500`, ...); `None` when it passed.
    pub error: Option<String>,
}
