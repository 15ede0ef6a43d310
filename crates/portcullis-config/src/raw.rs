//! The file as written: serde `File*` structs, one per table, with every default
//! spelled out by a function so the example config and the code cannot drift apart.
//!
//! Values that need checking stay lenient here (durations and addresses as strings,
//! numbers as `i64`, enums as strings) so that validation can report every bad value
//! at once, with its key path, instead of serde stopping at the first.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

pub(crate) use crate::raw_policy::{
    FileCircuitBreaker, FileHealthCheck, FileOutlierDetection, FileRetry,
};

/// The whole file. Not deserialized in one go: `de` reads each section and each
/// entry separately so that one broken entry does not hide errors in the others.
#[derive(Debug, Default)]
pub(crate) struct FileConfig {
    pub(crate) server: FileServer,
    pub(crate) admin: FileAdmin,
    pub(crate) log: FileLog,
    /// `(index in the file, entry)`: indices keep key paths right when an earlier
    /// entry failed to deserialize.
    pub(crate) listeners: Vec<(usize, FileListener)>,
    /// `(index in the file, entry)`, as for listeners.
    pub(crate) routes: Vec<(usize, FileRoute)>,
    pub(crate) clusters: BTreeMap<String, FileCluster>,
    /// Names of entries that exist but failed to deserialize (already reported), so
    /// that routes naming them are not also reported as dangling.
    pub(crate) unreadable: Unreadable,
}

/// Names of listeners and clusters whose entries could not be deserialized.
#[derive(Debug, Default)]
pub(crate) struct Unreadable {
    pub(crate) listeners: BTreeSet<String>,
    pub(crate) clusters: BTreeSet<String>,
}

/// `[server]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FileServer {
    pub(crate) workers: i64,
    pub(crate) drain_timeout: String,
    pub(crate) proxy_name: String,
    pub(crate) proxy_status: String,
    pub(crate) expose_next_hop: bool,
}

impl Default for FileServer {
    fn default() -> Self {
        Self {
            workers: 0,
            drain_timeout: "30s".into(),
            proxy_name: "portcullis".into(),
            proxy_status: "errors".into(),
            expose_next_hop: false,
        }
    }
}

/// `[admin]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FileAdmin {
    pub(crate) address: String,
    pub(crate) token: Option<String>,
}

impl Default for FileAdmin {
    fn default() -> Self {
        Self {
            address: "127.0.0.1:9901".into(),
            token: None,
        }
    }
}

/// `[log]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FileLog {
    pub(crate) level: String,
    pub(crate) access: String,
    pub(crate) format: String,
}

impl Default for FileLog {
    fn default() -> Self {
        Self {
            level: "info".into(),
            access: "stdout".into(),
            format: "json".into(),
        }
    }
}

/// One `[[listeners]]` entry; `name` and `address` are required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileListener {
    pub(crate) name: String,
    pub(crate) address: String,
    #[serde(default = "default_max_connections")]
    pub(crate) max_connections: i64,
    #[serde(default = "default_header_timeout")]
    pub(crate) header_timeout: String,
    #[serde(default = "default_idle_timeout")]
    pub(crate) idle_timeout: String,
    #[serde(default = "default_max_header_bytes")]
    pub(crate) max_header_bytes: i64,
    /// 0 means unlimited.
    #[serde(default)]
    pub(crate) max_body_bytes: i64,
    #[serde(default)]
    pub(crate) trusted_proxies: Vec<String>,
}

fn default_max_connections() -> i64 {
    10_000
}

fn default_header_timeout() -> String {
    "10s".into()
}

fn default_idle_timeout() -> String {
    "60s".into()
}

fn default_max_header_bytes() -> i64 {
    65_536
}

/// One `[[routes]]` entry; only `cluster` is required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileRoute {
    pub(crate) listener: Option<String>,
    pub(crate) host: Option<String>,
    #[serde(default = "default_path_prefix")]
    pub(crate) path_prefix: String,
    pub(crate) cluster: String,
}

fn default_path_prefix() -> String {
    "/".into()
}

/// One `[clusters.NAME]` table; `backends` is required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileCluster {
    #[serde(default = "default_balance")]
    pub(crate) balance: String,
    #[serde(default = "default_hash_on")]
    pub(crate) hash_on: String,
    pub(crate) backends: Vec<FileBackend>,
    #[serde(default = "default_connect_timeout")]
    pub(crate) connect_timeout: String,
    #[serde(default = "default_response_timeout")]
    pub(crate) response_timeout: String,
    #[serde(default = "default_pool_idle_timeout")]
    pub(crate) pool_idle_timeout: String,
    #[serde(default = "default_pool_max_idle")]
    pub(crate) pool_max_idle: i64,
    #[serde(default = "default_all_unhealthy")]
    pub(crate) all_unhealthy: String,
    #[serde(default = "default_slow_start")]
    pub(crate) slow_start: String,
    /// Absent: no active checks.
    #[serde(default)]
    pub(crate) health_check: Option<FileHealthCheck>,
    #[serde(default)]
    pub(crate) outlier_detection: FileOutlierDetection,
    #[serde(default)]
    pub(crate) circuit_breaker: FileCircuitBreaker,
    #[serde(default)]
    pub(crate) retry: FileRetry,
}

fn default_all_unhealthy() -> String {
    "fail_closed".into()
}

fn default_slow_start() -> String {
    "0s".into()
}

fn default_balance() -> String {
    "round_robin".into()
}

fn default_hash_on() -> String {
    "client_ip".into()
}

fn default_connect_timeout() -> String {
    "2s".into()
}

fn default_response_timeout() -> String {
    "30s".into()
}

fn default_pool_idle_timeout() -> String {
    "50s".into()
}

fn default_pool_max_idle() -> i64 {
    128
}

/// One `backends = [{ address, weight }]` element; `address` is required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileBackend {
    pub(crate) address: String,
    #[serde(default = "default_weight")]
    pub(crate) weight: i64,
}

fn default_weight() -> i64 {
    1
}
