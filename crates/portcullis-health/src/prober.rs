//! The prober: one task per backend with active checks, looping
//! wait -> take a probe slot -> probe (bounded by `timeout`) -> update state.
//!
//! # Design
//!
//! - The first probe runs after `first_delay` (zero unless the backend came in a
//!   bulk add, see `schedule`); until it completes the backend serves.
//! - Later probes start `interval` (± jitter) after the previous one started, or
//!   at once if the probe took longer than that.
//! - While the backend is ejected, a probe is also timed to the instant the
//!   ejection time ends, since only a passing probe readmits it then.
//! - A process-wide semaphore bounds probes in flight; waiting for a slot does not
//!   count against `timeout`.
//! - The task runs until aborted (backend removed, check changed, shutdown).

use std::sync::Arc;
use std::time::Duration;

use portcullis_config::HealthCheck;
use tokio::sync::Semaphore;
use tokio::time::{sleep_until, timeout, Instant};

use crate::backend::{BackendHealth, Flip};
use crate::error::ProbeError;
use crate::hysteresis::Hysteresis;
use crate::probe::Probe;
use crate::schedule::next_wait;
use crate::status::CheckResult;

/// Probes `health`'s backend with `probe` as `check` says, forever.
pub(crate) async fn run<P: Probe>(
    health: Arc<BackendHealth>,
    probe: P,
    check: HealthCheck,
    first_delay: Duration,
    slots: Arc<Semaphore>,
) {
    let (rise, fall) = (check.healthy_threshold, check.unhealthy_threshold);
    let mut hysteresis = if health.is_active_failed() {
        Hysteresis::resume(rise, fall, false)
    } else {
        Hysteresis::new(rise, fall)
    };
    let mut next = Instant::now() + first_delay;
    loop {
        next = align_to_ejection_end(&health, next);
        health.set_next_probe(next);
        sleep_until(next).await;
        let Ok(permit) = slots.acquire().await else {
            return; // Semaphore closed: the registry shut down.
        };
        let started = Instant::now();
        let outcome = match timeout(check.timeout, probe.probe()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(ProbeError::Timeout(check.timeout)),
        };
        let at = Instant::now();
        drop(permit);
        let result = CheckResult {
            passed: outcome.is_ok(),
            latency: at.saturating_duration_since(started),
            at,
            error: outcome.err().map(|e| e.to_string()),
        };
        tracing::debug!(
            cluster = %health.cluster(),
            backend = %health.address(),
            passed = result.passed,
            latency_ms = u64::try_from(result.latency.as_millis()).unwrap_or(u64::MAX),
            error = result.error.as_deref().unwrap_or(""),
            "health check"
        );
        let flip = observe(&mut hysteresis, &check, result.passed);
        health.probe_completed(result, flip, hysteresis.passes_needed());
        next = (started + next_wait(check.interval, check.jitter)).max(at);
    }
}

/// Feeds one probe to the hysteresis and names the flip, if any.
fn observe(hysteresis: &mut Hysteresis, check: &HealthCheck, passed: bool) -> Flip {
    let first = !hysteresis.has_observed();
    if !hysteresis.observe(passed) {
        Flip::Steady
    } else if hysteresis.is_healthy() {
        Flip::Healthy {
            passes: check.healthy_threshold,
        }
    } else {
        Flip::Unhealthy {
            failures: if first { 1 } else { check.unhealthy_threshold },
            first,
        }
    }
}

/// Moves the next probe earlier to the end of a running ejection, so a backend
/// that passes is readmitted as soon as its ejection time is over.
fn align_to_ejection_end(health: &BackendHealth, next: Instant) -> Instant {
    match health.ejected_until() {
        Some(until) if until > Instant::now() && until < next => until,
        _ => next,
    }
}

#[cfg(test)]
mod tests;
