//! The per-cluster policy tables as written, with their defaults.

use serde::Deserialize;

/// `[clusters.NAME.health_check]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FileHealthCheck {
    pub(crate) kind: String,
    pub(crate) path: String,
    pub(crate) host: String,
    pub(crate) expect_status: String,
    pub(crate) interval: String,
    pub(crate) timeout: String,
    pub(crate) jitter: f64,
    pub(crate) healthy_threshold: i64,
    pub(crate) unhealthy_threshold: i64,
}

impl Default for FileHealthCheck {
    fn default() -> Self {
        Self {
            kind: "http".into(),
            path: "/healthz".into(),
            host: String::new(),
            expect_status: "200-399".into(),
            interval: "2s".into(),
            timeout: "1s".into(),
            jitter: 0.1,
            healthy_threshold: 2,
            unhealthy_threshold: 3,
        }
    }
}

/// `[clusters.NAME.outlier_detection]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FileOutlierDetection {
    pub(crate) consecutive_failures: i64,
    pub(crate) base_ejection_time: String,
    pub(crate) max_ejection_time: String,
    pub(crate) max_ejection_percent: i64,
}

impl Default for FileOutlierDetection {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            base_ejection_time: "30s".into(),
            max_ejection_time: "300s".into(),
            max_ejection_percent: 50,
        }
    }
}

/// `[clusters.NAME.circuit_breaker]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FileCircuitBreaker {
    pub(crate) max_requests: i64,
    pub(crate) max_requests_per_backend: i64,
    pub(crate) failure_ratio: f64,
    pub(crate) min_requests: i64,
    pub(crate) window: String,
    pub(crate) open_duration: String,
    pub(crate) half_open_requests: i64,
    pub(crate) status: i64,
}

impl Default for FileCircuitBreaker {
    fn default() -> Self {
        Self {
            max_requests: 1024,
            max_requests_per_backend: 0,
            failure_ratio: 0.5,
            min_requests: 20,
            window: "10s".into(),
            open_duration: "5s".into(),
            half_open_requests: 3,
            status: 502,
        }
    }
}

/// `[clusters.NAME.retry]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FileRetry {
    pub(crate) attempts: i64,
    pub(crate) retry_on: Vec<String>,
    pub(crate) budget_percent: i64,
    pub(crate) min_retries_per_second: i64,
    pub(crate) max_retry_body_bytes: i64,
}

impl Default for FileRetry {
    fn default() -> Self {
        Self {
            attempts: 2,
            retry_on: vec![
                "connect_failure".into(),
                "reset_before_response".into(),
                "gateway_error".into(),
            ],
            budget_percent: 20,
            min_retries_per_second: 10,
            max_retry_body_bytes: 65536,
        }
    }
}
