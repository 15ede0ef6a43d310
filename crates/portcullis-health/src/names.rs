//! Metric names and label values, in one place (the SPEC's metrics table).

/// Gauge, 1 while a backend is available and 0 while it is out.
/// Labels: `cluster`, `backend`.
pub const BACKEND_HEALTHY: &str = "portcullis_backend_healthy";

/// Counter of times a backend was taken out. Labels: `cluster`, `backend`, `reason`.
pub const BACKEND_EJECTIONS_TOTAL: &str = "portcullis_backend_ejections_total";

/// Counter of completed active probes. Labels: `cluster`, `backend`, `result`.
pub const HEALTH_CHECKS_TOTAL: &str = "portcullis_health_checks_total";

/// `reason` of an ejection decided by active checks.
pub const REASON_ACTIVE: &str = "active";

/// `reason` of an ejection decided by passive outlier detection.
pub const REASON_PASSIVE: &str = "passive";

/// `result` of a probe that passed.
pub const RESULT_PASS: &str = "pass";

/// `result` of a probe that failed.
pub const RESULT_FAIL: &str = "fail";
