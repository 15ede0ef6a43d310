//! Validated configuration: what the rest of Portcullis reads. Every value here has
//! already been checked, so nothing downstream validates again.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use ipnet::IpNet;

/// A whole, validated configuration file.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `[server]`: process-wide settings.
    pub server: Server,
    /// `[admin]`: the admin listener.
    pub admin: Admin,
    /// `[log]`: diagnostics and access log.
    pub log: Log,
    /// `[[listeners]]`, in file order; names and addresses are unique.
    pub listeners: Vec<Listener>,
    /// `[[routes]]`, in file order; every route names an existing cluster and listener.
    pub routes: Vec<Route>,
    /// `[clusters.NAME]`, by name.
    pub clusters: BTreeMap<String, Cluster>,
}

impl Config {
    /// The listener named `name`, if any.
    pub fn listener(&self, name: &str) -> Option<&Listener> {
        self.listeners.iter().find(|l| l.name == name)
    }

    /// The cluster named `name`, if any.
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.get(name)
    }
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    /// Worker threads; 0 means one per CPU. Default 0.
    pub workers: usize,
    /// How long in-flight requests may take to finish on SIGTERM. Default 30s.
    pub drain_timeout: Duration,
    /// This hop's name in `Proxy-Status` and `Via`. Default `portcullis`.
    pub proxy_name: String,
    /// When responses carry `Proxy-Status`. Default `errors`.
    pub proxy_status: ProxyStatusMode,
    /// Add `next-hop` (the backend address) to `Proxy-Status`. Default false: it leaks
    /// internal addresses.
    pub expose_next_hop: bool,
}

/// `server.proxy_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyStatusMode {
    /// Only responses Portcullis generates carry `Proxy-Status`.
    Errors,
    /// Proxied responses carry `received-status` too.
    Always,
    /// Never send `Proxy-Status`.
    Off,
}

/// `[admin]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Admin {
    /// Where the admin endpoints listen. Default `127.0.0.1:9901`.
    pub address: SocketAddr,
    /// When set, `POST /api/*` needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Log {
    /// A `tracing` filter directive such as `info` or `portcullis=debug`. Default `info`.
    pub level: String,
    /// Where the access log goes. Default stdout.
    pub access: AccessLog,
    /// Access log line format. Default JSON.
    pub format: LogFormat,
}

/// `log.access`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessLog {
    /// One line per request on standard output.
    Stdout,
    /// No access log.
    Off,
    /// Appended to this file.
    File(std::path::PathBuf),
}

/// `log.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// `key=value` pairs.
    Text,
}

/// One `[[listeners]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Listener {
    /// Unique name, used by routes and metric labels.
    pub name: String,
    /// Bind address.
    pub address: SocketAddr,
    /// Connections beyond this are closed at once. Default 10000.
    pub max_connections: usize,
    /// A request head must arrive within this, else 408 and close. Default 10s.
    pub header_timeout: Duration,
    /// Keep-alive idle limit between requests. Default 60s.
    pub idle_timeout: Duration,
    /// Larger request heads get 431. Default 65536.
    pub max_header_bytes: usize,
    /// Larger request bodies get 413; `None` (0 in the file) means unlimited.
    pub max_body_bytes: Option<u64>,
    /// Peers whose `X-Forwarded-For` is appended to; from anyone else it is replaced.
    pub trusted_proxies: Vec<IpNet>,
}

/// One `[[routes]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Only this listener; `None` means every listener.
    pub listener: Option<String>,
    /// Which `Host` values match.
    pub host: HostMatch,
    /// Path prefix; default `/`.
    pub path_prefix: String,
    /// Target cluster (exists).
    pub cluster: String,
}

/// How a route matches the request's host (port stripped, compared lowercase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostMatch {
    /// No `host` key: any host.
    Any,
    /// `host = "api.example.com"`, stored lowercase.
    Exact(String),
    /// `host = "*.example.com"`, stored lowercase as `.example.com`.
    Suffix(String),
}

/// One `[clusters.NAME]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// The table's name.
    pub name: String,
    /// Load-balancing algorithm. Default round robin.
    pub balance: Balance,
    /// What `consistent_hash` hashes. Default the client IP.
    pub hash_on: HashOn,
    /// At least one backend; addresses unique within the cluster.
    pub backends: Vec<Backend>,
    /// Default 2s.
    pub connect_timeout: Duration,
    /// Request sent to response head received. Default 30s.
    pub response_timeout: Duration,
    /// Idle pooled upstream connections older than this are closed. Default 50s.
    pub pool_idle_timeout: Duration,
    /// Idle pooled connections kept per backend. Default 128.
    pub pool_max_idle: usize,
    /// What happens when no backend is usable. Default fail closed.
    pub all_unhealthy: crate::AllUnhealthy,
    /// A recovered backend's weight ramps from 10% to 100% over this; zero: no ramp.
    pub slow_start: Duration,
    /// Active checks, when configured.
    pub health_check: Option<crate::HealthCheck>,
    /// Passive ejection; on by default.
    pub outlier_detection: crate::OutlierDetection,
    /// Concurrency limits and per-backend breakers.
    pub circuit_breaker: crate::CircuitBreaker,
    /// Retry policy.
    pub retry: crate::Retry,
}

/// `clusters.*.balance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balance {
    /// Smooth weighted round robin, as nginx does it.
    RoundRobin,
    /// Power of two choices on in-flight requests, weight-aware.
    LeastRequest,
    /// Weighted random.
    Random,
    /// Consistent hashing on `hash_on`.
    ConsistentHash,
}

/// `clusters.*.hash_on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashOn {
    /// The client's IP address.
    ClientIp,
    /// A request header, by lowercase name (`header:NAME`).
    Header(http::HeaderName),
    /// A cookie, by name (`cookie:NAME`).
    Cookie(String),
}

/// One backend of a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    /// The address as written in the config (`host:port`); metric label and identity.
    pub address: String,
    /// Host part (a name or an IP literal, without brackets).
    pub host: String,
    /// Port part.
    pub port: u16,
    /// Relative share of traffic.
    pub weight: Weight,
}

/// A backend weight, 1..=1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Weight(u16);

impl Weight {
    /// Smallest allowed weight.
    pub const MIN: u16 = 1;
    /// Largest allowed weight.
    pub const MAX: u16 = 1000;

    /// A weight, if `value` is within `MIN..=MAX`.
    pub fn new(value: i64) -> Option<Self> {
        u16::try_from(value)
            .ok()
            .filter(|v| (Self::MIN..=Self::MAX).contains(v))
            .map(Self)
    }

    /// The weight as a number.
    pub fn get(self) -> u32 {
        u32::from(self.0)
    }
}
