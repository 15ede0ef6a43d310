//! Per-backend health, shared by its prober, passive detection and the request path.
//!
//! # Design
//!
//! A backend is out when active checks failed it (`active_failed`) or while it is
//! ejected (`ejected_until`). Every field is an atomic, so the request path
//! (`is_available`, `slow_start_factor`) never takes a lock; only `last_check`, read
//! by the admin API, sits behind a small mutex.
//!
//! How an ejection ends depends on whether active checks run for the backend:
//!
//! - **Without active checks** it ends by time alone: `is_available` compares `now`
//!   with `ejected_until`, so the request path needs no event. A timer task (when a
//!   tokio runtime is at hand) clears the field at that instant, which is when the
//!   return is logged and `portcullis_backend_healthy` goes back to 1.
//! - **With active checks** the ejection time is a minimum: afterwards the backend
//!   stays out until a probe *completed at or after* `ejected_until` passes. One
//!   pass is enough (passive ejection is about request failures, which a probe
//!   cannot disprove beyond "it answers again"); a backend that active checks also
//!   failed still needs its `healthy_threshold` passes. The prober times a probe
//!   to the end of the ejection so readmission is not late by up to an interval.
//!
//! A return from either kind of outage stamps `returned_at`, from which the
//! slow-start ramp runs (for a time-ended ejection the ramp starts at
//! `ejected_until` itself).

mod active;
mod passive;

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::metrics::BackendMetrics;
use crate::status::{CheckResult, HealthStatus};
use crate::timestamp::AtomicTime;

pub(crate) use active::Flip;

/// Weight share of a backend that has just returned (10%).
const SLOW_START_FLOOR: f64 = 0.1;

/// Per-backend health, shared (`Arc`) by probers and the request path. All reads
/// but [`last_check`](Self::last_check) are lock-free.
#[derive(Debug)]
pub struct BackendHealth {
    /// Cluster name: log field and metric label.
    cluster: String,
    /// Address as written in the config: log field, metric label and identity.
    address: String,
    /// The interval of this backend's prober (nanoseconds), to predict readmission;
    /// 0 without active checks. While one runs, ejections end only through a passing
    /// probe.
    probe_interval_ns: AtomicU64,
    /// Active checks took the backend out.
    active_failed: AtomicBool,
    /// Passing probes still needed to readmit it (0 while active checks pass).
    passes_needed: AtomicU32,
    /// When this was made: the origin the timestamps below count from.
    epoch: Instant,
    /// When the prober will probe next; `None` without a prober.
    next_probe: AtomicTime,
    /// End of the current ejection; `None` when not ejected.
    ejected_until: AtomicTime,
    /// When the backend last came back; the slow-start ramp runs from here.
    returned_at: AtomicTime,
    /// The cluster's `slow_start` (nanoseconds); 0 means no ramp.
    slow_start_ns: AtomicU64,
    /// Gateway failures in a row (passive detection).
    consecutive_failures: AtomicU32,
    /// Ejections in a row, without a successful request between them.
    ejections: AtomicU32,
    /// The last probe, for the admin API; never touched by the request path.
    last_check: Mutex<Option<CheckResult>>,
    metrics: BackendMetrics,
}

impl BackendHealth {
    /// A healthy backend of `cluster` at `address` (as written in the config),
    /// without active checks or slow start; registers its metric handles.
    pub fn new(cluster: &str, address: &str) -> Self {
        Self {
            cluster: cluster.to_owned(),
            address: address.to_owned(),
            probe_interval_ns: AtomicU64::new(0),
            active_failed: AtomicBool::new(false),
            passes_needed: AtomicU32::new(0),
            epoch: Instant::now(),
            next_probe: AtomicTime::default(),
            ejected_until: AtomicTime::default(),
            returned_at: AtomicTime::default(),
            slow_start_ns: AtomicU64::new(0),
            consecutive_failures: AtomicU32::new(0),
            ejections: AtomicU32::new(0),
            last_check: Mutex::new(None),
            metrics: BackendMetrics::new(cluster, address),
        }
    }

    /// The cluster's name.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The backend's address as written in the config.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// A prober runs for this backend.
    fn is_active(&self) -> bool {
        self.probe_interval_ns.load(Ordering::Acquire) != 0
    }

    /// Whether requests may go to this backend: not failed by active checks and
    /// not ejected. An ejection whose time has passed counts as over, unless active
    /// checks are configured: then the backend returns only when a probe passes.
    pub fn is_available(&self, now: Instant) -> bool {
        !self.active_failed.load(Ordering::Acquire) && !self.is_ejected(now)
    }

    /// Weight multiplier for slow start: ramps linearly from 0.1 to 1.0 over the
    /// cluster's `slow_start` after the backend returns from an ejection or from
    /// unhealthy. 1.0 otherwise: when `slow_start` is zero, for a backend that never
    /// left, and for one that is out (panic-mode routing uses full weights).
    pub fn slow_start_factor(&self, now: Instant) -> f64 {
        let ramp = Duration::from_nanos(self.slow_start_ns.load(Ordering::Relaxed));
        if ramp.is_zero() || !self.is_available(now) {
            return 1.0;
        }
        let mut start = self.returned_at.load(self.epoch);
        if let Some(until) = self.ejected_until() {
            // Available while this is set: an ejection that ended by time alone.
            start = Some(start.map_or(until, |s| s.max(until)));
        }
        match start {
            None => 1.0,
            Some(start) => slow_start_ramp(now.saturating_duration_since(start), ramp),
        }
    }

    /// Health for the admin API: `Unhealthy` while active checks fail it, else
    /// `Ejected` while an ejection holds, else `Healthy`.
    pub fn status(&self, now: Instant) -> HealthStatus {
        if self.active_failed.load(Ordering::Acquire) {
            return HealthStatus::Unhealthy;
        }
        match self.ejected_until() {
            Some(until) if self.is_ejected(now) => HealthStatus::Ejected { until },
            _ => HealthStatus::Healthy,
        }
    }

    /// The last active probe, if one has completed.
    pub fn last_check(&self) -> Option<CheckResult> {
        self.last_check
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Times ejected in a row; back to 0 when a request succeeds again.
    pub fn ejections(&self) -> u32 {
        self.ejections.load(Ordering::Relaxed)
    }

    /// The end of the current ejection, if any (possibly past).
    pub(crate) fn ejected_until(&self) -> Option<Instant> {
        self.ejected_until.load(self.epoch)
    }

    /// Whether an ejection holds at `now` (see the module notes).
    pub(crate) fn is_ejected(&self, now: Instant) -> bool {
        self.ejected_until()
            .is_some_and(|until| now < until || self.is_active())
    }

    /// The soonest instant this backend, out at `now`, could be back; `None` if it
    /// is available or nothing is scheduled that could readmit it.
    pub(crate) fn next_return(&self, now: Instant) -> Option<Instant> {
        if self.is_available(now) {
            return None;
        }
        let next_probe = self.next_probe.load(self.epoch);
        let mut soonest = now;
        if self.active_failed.load(Ordering::Acquire) {
            let interval = Duration::from_nanos(self.probe_interval_ns.load(Ordering::Relaxed));
            let more = self.passes_needed.load(Ordering::Relaxed).saturating_sub(1);
            soonest = soonest.max(next_probe? + interval.saturating_mul(more));
        }
        if let Some(until) = self.ejected_until().filter(|_| self.is_ejected(now)) {
            soonest = soonest.max(until);
            if self.is_active() {
                soonest = soonest.max(next_probe?);
            }
        }
        Some(soonest)
    }

    /// Applies the cluster's `slow_start` (kept across reloads per backend).
    pub(crate) fn set_slow_start(&self, ramp: Duration) {
        let nanos = u64::try_from(ramp.as_nanos()).unwrap_or(u64::MAX);
        self.slow_start_ns.store(nanos, Ordering::Relaxed);
    }

    /// Re-evaluates `portcullis_backend_healthy` after a transition.
    fn refresh_gauge(&self, now: Instant) {
        self.metrics.set_available(self.is_available(now));
    }
}

/// The slow-start weight share `elapsed` into a ramp of length `ramp`.
fn slow_start_ramp(elapsed: Duration, ramp: Duration) -> f64 {
    if elapsed >= ramp {
        return 1.0;
    }
    let progress = elapsed.as_secs_f64() / ramp.as_secs_f64();
    SLOW_START_FLOOR + (1.0 - SLOW_START_FLOOR) * progress
}

#[cfg(test)]
mod tests;
