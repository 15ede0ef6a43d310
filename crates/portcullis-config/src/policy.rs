//! Validated per-cluster policies: health checks, outlier detection, circuit
//! breaking and retries.

use std::time::Duration;

/// `clusters.*.all_unhealthy`: what happens when no backend is usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllUnhealthy {
    /// Answer 503 `no_healthy_backend` with `Retry-After`. The default.
    FailClosed,
    /// Route across all backends anyway (panic mode).
    FailOpen,
}

/// `[clusters.*.health_check]`: present means active checks run.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheck {
    /// HTTP request or plain TCP connect.
    pub kind: CheckKind,
    /// HTTP: the path probed. Default `/healthz`.
    pub path: String,
    /// HTTP: the `Host` header; `None` means the backend address.
    pub host: Option<String>,
    /// HTTP: statuses that pass. Default `200-399`.
    pub expect_status: StatusRanges,
    /// Time between probes of one backend. Default 2s.
    pub interval: Duration,
    /// A probe slower than this fails. Default 1s.
    pub timeout: Duration,
    /// Each interval varies by up to this fraction, 0.0..=1.0. Default 0.1.
    pub jitter: f64,
    /// Consecutive passes to (re)admit a backend. Default 2.
    pub healthy_threshold: u32,
    /// Consecutive failures to eject a backend. Default 3.
    pub unhealthy_threshold: u32,
}

/// `health_check.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// An HTTP/1.1 GET whose status must be in `expect_status`.
    Http,
    /// A TCP connect.
    Tcp,
}

/// Status ranges such as `"200-399"` or `"200,204"`, inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRanges(pub Vec<(u16, u16)>);

impl StatusRanges {
    /// Whether `status` is in one of the ranges.
    pub fn contains(&self, status: u16) -> bool {
        self.0
            .iter()
            .any(|&(low, high)| (low..=high).contains(&status))
    }
}

/// `[clusters.*.outlier_detection]`: passive ejection on consecutive gateway failures.
#[derive(Debug, Clone, PartialEq)]
pub struct OutlierDetection {
    /// Gateway failures in a row that eject a backend; 0 turns detection off. Default 5.
    pub consecutive_failures: u32,
    /// Ejected for this × (times ejected in a row). Default 30s.
    pub base_ejection_time: Duration,
    /// Cap of one ejection. Default 300s.
    pub max_ejection_time: Duration,
    /// Never eject more than this share of a cluster (rounded down, but at least one).
    /// Default 50.
    pub max_ejection_percent: u8,
}

/// `[clusters.*.circuit_breaker]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitBreaker {
    /// Requests in flight to the cluster; beyond, short-circuit. Default 1024.
    pub max_requests: usize,
    /// Requests in flight to one backend; `None` (0 in the file) means no cap.
    pub max_requests_per_backend: Option<usize>,
    /// Open when this share of a backend's requests in `window` failed. Default 0.5.
    pub failure_ratio: f64,
    /// ... with at least this many requests in the window. Default 20.
    pub min_requests: u32,
    /// The rolling window. Default 10s.
    pub window: Duration,
    /// Open to half-open after this. Default 5s.
    pub open_duration: Duration,
    /// Trial requests in half-open. Default 3.
    pub half_open_requests: u32,
    /// Status of short-circuit responses: 502 (default) or 503.
    pub status: u16,
}

/// `[clusters.*.retry]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// Extra tries after the first, each to another backend where one is available.
    /// Default 2.
    pub attempts: u32,
    /// Which failures are retried.
    pub retry_on: RetryOn,
    /// Retries may add at most this share on top of requests. Default 20.
    pub budget_percent: u32,
    /// ... or this many per second, whichever is more. Default 10.
    pub min_retries_per_second: u32,
    /// Request bodies up to this size are buffered so they can be replayed. Default 65536.
    pub max_retry_body_bytes: u64,
}

/// `retry.retry_on`: the causes a retry may follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetryOn {
    /// The connection could not be made (refused, timed out, DNS).
    pub connect_failure: bool,
    /// The connection closed or reset before a response head.
    pub reset_before_response: bool,
    /// The origin answered 502, 503 or 504.
    pub gateway_error: bool,
}
