//! Picking a backend for one attempt: healthy, not ejected, breaker closed (or a
//! half-open trial free), under its concurrency cap, preferably one not tried yet —
//! or, when none is usable, the precise reason as a cause.

use std::sync::atomic::Ordering;

use portcullis_config::AllUnhealthy;
use tokio::time::Instant;

use crate::balance::SelectKey;
use crate::cluster::Cluster;
use crate::Cause;

/// Why no backend could be picked, with the seconds after which one may be.
pub(super) struct Unusable {
    pub cause: Cause,
    pub retry_after: Option<u64>,
}

/// A member index to try next.
pub(super) fn pick(
    cluster: &Cluster,
    key: SelectKey,
    tried: &[usize],
    now: Instant,
) -> Result<usize, Unusable> {
    let healthy = |i: usize| cluster.members[i].backend.health.is_available(now);
    let open = |i: usize| admits(cluster, i, now);
    // Slow start scales a returning backend's share by skipping it at random.
    let warm = |i: usize| {
        let factor = cluster.members[i].backend.health.slow_start_factor(now);
        factor >= 1.0 || fastrand::f64() < factor
    };
    let fresh = |i: usize| !tried.contains(&i);
    let preferences: [&dyn Fn(usize) -> bool; 2] = [&|i| fresh(i) && warm(i), &|_| true];
    let any_healthy = (0..cluster.members.len()).any(healthy);
    note_all_unhealthy(cluster, any_healthy);
    let fail_open = !any_healthy && cluster.health.all_unhealthy() == AllUnhealthy::FailOpen;
    for preference in preferences {
        let mut accept = |i: usize| (fail_open || healthy(i)) && open(i) && preference(i);
        if let Some(index) = cluster.select(key, &mut accept) {
            return Ok(index);
        }
    }
    Err(unusable(cluster, fail_open, now))
}

/// Breaker and per-backend cap both have room.
fn admits(cluster: &Cluster, index: usize, now: Instant) -> bool {
    let backend = &cluster.members[index].backend;
    let capped = backend
        .limit
        .as_ref()
        .is_some_and(|limit| limit.in_flight() >= limit.max());
    !capped && backend.breaker.is_available(now)
}

/// Why nothing was picked. Only the backends in service count (healthy ones, or every
/// one in panic mode): when each of those has its breaker open, the cause is
/// `circuit_open` even if others are out for their health.
fn unusable(cluster: &Cluster, fail_open: bool, now: Instant) -> Unusable {
    let in_service = || {
        cluster
            .backends()
            .filter(move |b| fail_open || b.health.is_available(now))
    };
    if in_service().next().is_none() {
        let wait = cluster.health.soonest_return(now).map(retry_after_secs);
        return Unusable {
            cause: Cause::NoHealthyBackend,
            retry_after: Some(wait.unwrap_or(1).max(1)),
        };
    }
    if in_service().all(|b| !b.breaker.is_available(now)) {
        let wait = in_service()
            .map(|b| retry_after_secs(b.breaker.retry_after(now)))
            .min()
            .unwrap_or(1)
            .max(1);
        return Unusable {
            cause: Cause::CircuitOpen,
            retry_after: Some(wait),
        };
    }
    Unusable {
        cause: Cause::Overloaded,
        retry_after: Some(1),
    }
}

/// Whole seconds for `Retry-After`, rounded up once the sub-millisecond rest is
/// dropped: breaker deadlines are whole milliseconds rounded up, which would
/// otherwise turn an `open_duration` of 1 s into `Retry-After: 2`.
fn retry_after_secs(wait: std::time::Duration) -> u64 {
    u64::try_from(wait.as_millis())
        .unwrap_or(u64::MAX)
        .div_ceil(1000)
}

/// Logs entering and leaving "every backend is out" once, not per request.
fn note_all_unhealthy(cluster: &Cluster, any_healthy: bool) {
    let was_out = cluster.shared.all_out.load(Ordering::Relaxed);
    if was_out == any_healthy
        && cluster.shared.all_out.swap(!any_healthy, Ordering::Relaxed) == was_out
    {
        match (any_healthy, cluster.health.all_unhealthy()) {
            (true, _) => tracing::info!(cluster = %cluster.name, "backends available again"),
            (false, AllUnhealthy::FailClosed) => {
                tracing::warn!(cluster = %cluster.name, "every backend is out: failing closed (503)")
            }
            (false, AllUnhealthy::FailOpen) => {
                tracing::warn!(cluster = %cluster.name, "every backend is out: failing open (panic mode)")
            }
        }
    }
}
