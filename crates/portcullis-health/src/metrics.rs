//! Pre-made metric handles for one backend.
//!
//! They are registered once, when a [`crate::BackendHealth`] is made, so label
//! strings are formatted once per backend and never on the request path or per
//! probe; afterwards every update is a plain `set`/`increment` on a handle.

use metrics::{Counter, Gauge};

use crate::names;

/// The handles of one backend, labelled `cluster` and `backend` (its address as
/// written in the config).
#[derive(Debug)]
pub(crate) struct BackendMetrics {
    healthy: Gauge,
    ejected_active: Counter,
    ejected_passive: Counter,
    check_pass: Counter,
    check_fail: Counter,
}

impl BackendMetrics {
    /// Registers the handles; the gauge starts at 1 (a new backend serves).
    pub(crate) fn new(cluster: &str, backend: &str) -> Self {
        let labels = |key: &'static str, value: &'static str| {
            [
                ("cluster", cluster.to_owned()),
                ("backend", backend.to_owned()),
                (key, value.to_owned()),
            ]
        };
        let healthy = metrics::gauge!(
            names::BACKEND_HEALTHY,
            "cluster" => cluster.to_owned(),
            "backend" => backend.to_owned()
        );
        healthy.set(1.0);
        Self {
            healthy,
            ejected_active: metrics::counter!(
                names::BACKEND_EJECTIONS_TOTAL,
                &labels("reason", names::REASON_ACTIVE)
            ),
            ejected_passive: metrics::counter!(
                names::BACKEND_EJECTIONS_TOTAL,
                &labels("reason", names::REASON_PASSIVE)
            ),
            check_pass: metrics::counter!(
                names::HEALTH_CHECKS_TOTAL,
                &labels("result", names::RESULT_PASS)
            ),
            check_fail: metrics::counter!(
                names::HEALTH_CHECKS_TOTAL,
                &labels("result", names::RESULT_FAIL)
            ),
        }
    }

    /// Sets `portcullis_backend_healthy`.
    pub(crate) fn set_available(&self, available: bool) {
        self.healthy.set(if available { 1.0 } else { 0.0 });
    }

    /// Counts an ejection by active checks or by passive detection.
    pub(crate) fn ejected(&self, active: bool) {
        if active {
            self.ejected_active.increment(1);
        } else {
            self.ejected_passive.increment(1);
        }
    }

    /// Counts one completed probe.
    pub(crate) fn checked(&self, passed: bool) {
        if passed {
            self.check_pass.increment(1);
        } else {
            self.check_fail.increment(1);
        }
    }
}
