//! The small value types the data plane and the admin API exchange with this crate.

use std::time::Duration;

use tokio::time::Instant;

/// A backend's health as the admin API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthStatus {
    /// Serving: not failed by active checks and not ejected.
    Healthy,
    /// Taken out by active checks; back after `healthy_threshold` passing probes.
    Unhealthy,
    /// Taken out by passive outlier detection. `until` is when the ejection time
    /// ends; with active checks configured it can lie in the past while the
    /// backend waits for a passing probe.
    Ejected {
        /// When the ejection time ends.
        until: Instant,
    },
}

impl HealthStatus {
    /// The SPEC's name: `healthy`, `unhealthy` or `ejected`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
            Self::Ejected { .. } => "ejected",
        }
    }
}

/// The result of one active probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// Whether the probe passed.
    pub passed: bool,
    /// From the start of the probe (after waiting for a probe slot) to its result.
    pub latency: Duration,
    /// When the probe completed.
    pub at: Instant,
    /// Why it failed (`connect: connection refused`, `status 503`, ...); `None`
    /// when it passed.
    pub error: Option<String>,
}

/// What one proxied request told about its backend, for passive detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The origin answered with something other than a gateway error.
    Success,
    /// Connect error, reset, timeout, or 502/503/504 from the origin.
    GatewayFailure,
}
