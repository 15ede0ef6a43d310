use std::sync::Arc;
use std::time::Duration;

use tokio::time::{advance, Instant};

use super::*;

const SEC: Duration = Duration::from_secs(1);

fn backend(slow_start: Duration) -> Arc<BackendHealth> {
    let health = Arc::new(BackendHealth::new("api", "10.0.0.1:80"));
    health.set_slow_start(slow_start);
    health
}

/// A backend whose prober probes every second.
fn actively_checked(slow_start: Duration) -> Arc<BackendHealth> {
    let health = backend(slow_start);
    health.set_active(Some(SEC), Instant::now());
    health
}

fn eject(health: &Arc<BackendHealth>, time: Duration) -> Instant {
    health.eject(Instant::now(), 5, |_| time)
}

fn probe(health: &BackendHealth, passed: bool, flip: Flip, passes_needed: u32) {
    let result = CheckResult {
        passed,
        latency: Duration::from_millis(3),
        at: Instant::now(),
        error: (!passed).then(|| "status 503".to_owned()),
    };
    health.probe_completed(result, flip, passes_needed);
}

/// The backend's first probe fails: active checks take it out at once, and
/// `passes_needed` passes will readmit it.
fn fail_first_probe(health: &BackendHealth, passes_needed: u32) {
    let flip = Flip::Unhealthy {
        failures: 1,
        first: true,
    };
    probe(health, false, flip, passes_needed);
}

fn assert_factor(health: &BackendHealth, expected: f64) {
    let factor = health.slow_start_factor(Instant::now());
    assert!(
        (factor - expected).abs() < 1e-9,
        "factor {factor}, expected {expected}"
    );
}

#[tokio::test(start_paused = true)]
async fn slow_start_ramps_from_a_tenth_to_full_after_an_ejection() {
    let health = backend(10 * SEC);
    assert_factor(&health, 1.0);
    eject(&health, 30 * SEC);
    assert_factor(&health, 1.0); // out: not ramping yet
    advance(30 * SEC).await;
    assert_factor(&health, 0.1);
    advance(5 * SEC).await;
    assert_factor(&health, 0.55);
    advance(4 * SEC).await;
    assert_factor(&health, 0.91);
    advance(SEC).await;
    assert_factor(&health, 1.0);
    advance(SEC).await;
    assert_factor(&health, 1.0);
}

#[tokio::test(start_paused = true)]
async fn slow_start_ramps_after_active_checks_readmit() {
    let health = actively_checked(10 * SEC);
    fail_first_probe(&health, 2);
    assert!(!health.is_available(Instant::now()));
    advance(SEC).await;
    probe(&health, true, Flip::Steady, 1);
    advance(SEC).await;
    probe(&health, true, Flip::Healthy { passes: 2 }, 0);
    assert_factor(&health, 0.1);
    advance(2 * SEC).await;
    assert_factor(&health, 0.28);
    advance(8 * SEC).await;
    assert_factor(&health, 1.0);
}

#[tokio::test(start_paused = true)]
async fn zero_slow_start_is_full_weight_at_once() {
    let health = backend(Duration::ZERO);
    eject(&health, SEC);
    advance(SEC).await;
    assert_factor(&health, 1.0);
}

#[tokio::test(start_paused = true)]
async fn with_active_checks_an_ejection_ends_only_on_a_passing_probe() {
    let health = actively_checked(Duration::ZERO);
    let until = eject(&health, 10 * SEC);
    // Before the ejection time is over, a pass changes nothing.
    advance(5 * SEC).await;
    probe(&health, true, Flip::Steady, 0);
    assert_eq!(
        health.status(Instant::now()),
        HealthStatus::Ejected { until }
    );
    // After it, the backend waits for a probe; a failing one does not readmit.
    advance(6 * SEC).await;
    assert!(!health.is_available(Instant::now()));
    assert_eq!(
        health.status(Instant::now()),
        HealthStatus::Ejected { until }
    );
    probe(&health, false, Flip::Steady, 0);
    assert!(!health.is_available(Instant::now()));
    probe(&health, true, Flip::Steady, 0);
    assert!(health.is_available(Instant::now()));
    assert_eq!(health.status(Instant::now()), HealthStatus::Healthy);
    assert_eq!(health.ejections(), 1, "only a request success resets it");
}

#[tokio::test(start_paused = true)]
async fn an_unhealthy_backend_stays_out_after_its_ejection_ends() {
    let health = actively_checked(Duration::ZERO);
    eject(&health, 2 * SEC);
    fail_first_probe(&health, 2);
    advance(3 * SEC).await;
    probe(&health, true, Flip::Steady, 1);
    assert_eq!(health.ejected_until(), None, "the ejection is over");
    assert_eq!(health.status(Instant::now()), HealthStatus::Unhealthy);
    probe(&health, true, Flip::Healthy { passes: 2 }, 0);
    assert_eq!(health.status(Instant::now()), HealthStatus::Healthy);
}

#[tokio::test(start_paused = true)]
async fn removing_active_checks_readmits_and_hands_the_ejection_to_the_clock() {
    let health = actively_checked(Duration::ZERO);
    fail_first_probe(&health, 2);
    let until = eject(&health, 10 * SEC);
    health.set_active(None, Instant::now());
    assert_eq!(
        health.status(Instant::now()),
        HealthStatus::Ejected { until }
    );
    advance(10 * SEC).await;
    assert!(health.is_available(Instant::now()));
}

#[tokio::test(start_paused = true)]
async fn last_check_keeps_the_latest_probe() {
    let health = actively_checked(Duration::ZERO);
    assert_eq!(health.last_check(), None);
    fail_first_probe(&health, 2);
    let last = health.last_check();
    assert_eq!(last.as_ref().map(|c| c.passed), Some(false));
    assert_eq!(last.and_then(|c| c.error).as_deref(), Some("status 503"));
    probe(&health, true, Flip::Steady, 1);
    assert_eq!(
        health.last_check().map(|c| (c.passed, c.error)),
        Some((true, None))
    );
}

#[tokio::test(start_paused = true)]
async fn next_return_predicts_the_remaining_passes() {
    let health = backend(Duration::ZERO);
    let start = Instant::now();
    assert_eq!(health.next_return(start), None);
    health.set_active(Some(2 * SEC), start);
    fail_first_probe(&health, 3);
    health.set_next_probe(start + 2 * SEC);
    // Three passes: the next probe and two more intervals.
    assert_eq!(health.next_return(start), Some(start + 6 * SEC));

    // Ejected with active checks: not before the ejection ends nor the next probe.
    let other = backend(Duration::ZERO);
    other.set_active(Some(2 * SEC), start);
    other.set_next_probe(start + 2 * SEC);
    eject(&other, 5 * SEC);
    assert_eq!(other.next_return(start), Some(start + 5 * SEC));
    other.set_next_probe(start + 7 * SEC);
    assert_eq!(other.next_return(start), Some(start + 7 * SEC));
}

#[test]
fn status_names_match_the_spec() {
    let until = Instant::now();
    let names = [
        HealthStatus::Healthy.as_str(),
        HealthStatus::Unhealthy.as_str(),
        HealthStatus::Ejected { until }.as_str(),
    ];
    assert_eq!(names, ["healthy", "unhealthy", "ejected"]);
}
