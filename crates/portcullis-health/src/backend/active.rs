//! Active side of a backend's health: what its prober reports.

use std::sync::atomic::Ordering;
use std::sync::PoisonError;
use std::time::Duration;

use tokio::time::Instant;

use super::BackendHealth;
use crate::status::CheckResult;

/// What the hysteresis made of one probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flip {
    /// Serving state unchanged.
    Steady,
    /// Back in after `passes` passing probes in a row.
    Healthy {
        /// Passes in a row that readmitted the backend.
        passes: u32,
    },
    /// Taken out after `failures` failing probes in a row (1 for a first probe).
    Unhealthy {
        /// Failures in a row that took it out.
        failures: u32,
        /// The backend's first probe failed.
        first: bool,
    },
}

impl BackendHealth {
    /// A prober starts (`Some(interval)`) or active checks were removed (`None`).
    ///
    /// Removing them readmits a backend they had failed (nothing would ever
    /// readmit it otherwise) and hands a pending ejection back to the clock.
    pub(crate) fn set_active(
        self: &std::sync::Arc<Self>,
        interval: Option<Duration>,
        now: Instant,
    ) {
        let nanos = interval.map_or(0, |i| u64::try_from(i.as_nanos()).unwrap_or(u64::MAX));
        let was_active = self.probe_interval_ns.swap(nanos, Ordering::AcqRel) != 0;
        if interval.is_some() || !was_active {
            return;
        }
        self.next_probe.store(self.epoch, None);
        self.passes_needed.store(0, Ordering::Relaxed);
        if self.active_failed.swap(false, Ordering::AcqRel) {
            let (cluster, backend) = (&self.cluster, &self.address);
            tracing::info!(%cluster, %backend, reason = "active checks removed", "backend healthy");
            if self.is_available(now) {
                self.returned_at.store(self.epoch, Some(now));
            }
        }
        if let Some(until) = self.ejected_until() {
            if now >= until {
                self.clear_ejection(until, now, "active checks removed after the ejection time");
            } else {
                self.end_ejection_at(until);
            }
        }
        self.refresh_gauge(now);
    }

    /// Whether active checks currently fail the backend.
    pub(crate) fn is_active_failed(&self) -> bool {
        self.active_failed.load(Ordering::Acquire)
    }

    /// The prober's next wake-up, for `soonest_return`.
    pub(crate) fn set_next_probe(&self, at: Instant) {
        self.next_probe.store(self.epoch, Some(at));
    }

    /// Records a completed probe: metrics, `last_check`, the hysteresis verdict,
    /// and the end of an ejection whose time is over when the probe passed.
    pub(crate) fn probe_completed(&self, result: CheckResult, flip: Flip, passes_needed: u32) {
        let now = result.at;
        self.metrics.checked(result.passed);
        self.passes_needed.store(passes_needed, Ordering::Relaxed);
        match flip {
            Flip::Steady => {}
            Flip::Healthy { passes } => self.mark_healthy(now, passes),
            Flip::Unhealthy { failures, first } => {
                self.mark_unhealthy(now, failures, first, result.error.as_deref());
            }
        }
        if result.passed {
            if let Some(until) = self.ejected_until().filter(|&until| now >= until) {
                self.clear_ejection(until, now, "ejection time elapsed and active check passed");
            }
        }
        *self
            .last_check
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(result);
    }

    fn mark_healthy(&self, now: Instant, passes: u32) {
        self.active_failed.store(false, Ordering::Release);
        let (cluster, backend) = (&self.cluster, &self.address);
        let reason = format!("{passes} active checks passed in a row");
        if self.is_available(now) {
            self.returned_at.store(self.epoch, Some(now));
            tracing::info!(%cluster, %backend, %reason, "backend healthy");
        } else {
            tracing::info!(%cluster, %backend, %reason, "backend healthy, still ejected");
        }
        self.refresh_gauge(now);
    }

    fn mark_unhealthy(&self, now: Instant, failures: u32, first: bool, error: Option<&str>) {
        self.active_failed.store(true, Ordering::Release);
        self.metrics.ejected(true);
        self.refresh_gauge(now);
        let error = error.unwrap_or("failed");
        let reason = if first {
            format!("first active check failed: {error}")
        } else {
            format!("{failures} active checks failed in a row: {error}")
        };
        let (cluster, backend) = (&self.cluster, &self.address);
        tracing::info!(%cluster, %backend, %reason, "backend unhealthy");
    }
}
