use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use portcullis_config::HealthCheck;
use tokio::sync::Semaphore;
use tokio::time::{sleep, sleep_until, Instant};

use super::run;
use crate::backend::BackendHealth;
use crate::error::ProbeError;
use crate::probe::Probe;
use crate::status::HealthStatus;
use crate::testing::config;

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);

/// A probe under the test's control: passes while `healthy`, takes `delay`,
/// or never answers when `hang`.
#[derive(Clone, Default)]
struct Scripted {
    healthy: Arc<AtomicBool>,
    hang: bool,
    delay: Duration,
    calls: Arc<AtomicUsize>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Scripted {
    fn new(healthy: bool) -> Self {
        let probe = Self::default();
        probe.set_healthy(healthy);
        probe
    }

    fn set_healthy(&self, healthy: bool) {
        self.healthy.store(healthy, Ordering::SeqCst);
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Probe for Scripted {
    async fn probe(&self) -> Result<(), ProbeError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let _guard = InFlight(Arc::clone(&self.in_flight));
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        if self.hang {
            std::future::pending::<()>().await;
        }
        sleep(self.delay).await;
        if self.healthy.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(ProbeError::Status(503))
        }
    }
}

/// A check with `interval` 1s, `timeout` 500ms, no jitter, thresholds 2 up / 3 down.
fn check() -> HealthCheck {
    let config = config(
        "[clusters.api]\nbackends = [{ address = \"10.0.0.1:80\" }]\n\
         [clusters.api.health_check]\ninterval = \"1s\"\ntimeout = \"500ms\"\njitter = 0.0\n\
         healthy_threshold = 2\nunhealthy_threshold = 3\n",
    );
    match config
        .clusters
        .get("api")
        .and_then(|c| c.health_check.clone())
    {
        Some(check) => check,
        None => panic!("no health check"),
    }
}

fn start(probe: &Scripted, check: HealthCheck) -> Arc<BackendHealth> {
    start_with(probe, check, Arc::new(Semaphore::new(64)))
}

fn start_with(probe: &Scripted, check: HealthCheck, slots: Arc<Semaphore>) -> Arc<BackendHealth> {
    let health = Arc::new(BackendHealth::new("api", "10.0.0.1:80"));
    health.set_active(Some(check.interval), Instant::now());
    let task = run(
        Arc::clone(&health),
        probe.clone(),
        check,
        Duration::ZERO,
        slots,
    );
    tokio::spawn(task);
    health
}

fn available(health: &BackendHealth) -> bool {
    health.is_available(Instant::now())
}

#[tokio::test(start_paused = true)]
async fn a_failing_first_probe_takes_the_backend_out_at_once() {
    let probe = Scripted::new(false);
    let health = start(&probe, check());
    sleep(MS).await;
    assert_eq!(probe.calls(), 1);
    assert_eq!(health.status(Instant::now()), HealthStatus::Unhealthy);
    let last = health.last_check();
    assert_eq!(last.and_then(|c| c.error).as_deref(), Some("status 503"));
}

#[tokio::test(start_paused = true)]
async fn a_backend_serves_until_its_first_probe_completes() {
    let probe = Scripted {
        delay: 400 * MS,
        ..Scripted::new(true)
    };
    let health = start(&probe, check());
    sleep(200 * MS).await;
    assert_eq!(probe.calls(), 1);
    assert!(available(&health));
    assert_eq!(health.last_check(), None);
    sleep(300 * MS).await;
    assert!(available(&health));
    assert_eq!(
        health.last_check().map(|c| (c.passed, c.latency)),
        Some((true, 400 * MS))
    );
}

#[tokio::test(start_paused = true)]
async fn thresholds_decide_when_the_backend_leaves_and_returns() {
    let probe = Scripted::new(true);
    let begin = Instant::now();
    let health = start(&probe, check());
    sleep_until(begin + 500 * MS).await;
    probe.set_healthy(false);
    // Failures at 1s, 2s and 3s: out after the third.
    sleep_until(begin + 2500 * MS).await;
    assert!(available(&health), "two failures are not enough");
    sleep_until(begin + 3001 * MS).await;
    assert!(!available(&health));
    probe.set_healthy(true);
    // Passes at 4s and 5s: back after the second.
    sleep_until(begin + 4500 * MS).await;
    assert!(!available(&health), "one pass is not enough");
    sleep_until(begin + 5001 * MS).await;
    assert!(available(&health));
    assert_eq!(probe.calls(), 6);
}

#[tokio::test(start_paused = true)]
async fn a_probe_slower_than_its_timeout_fails() {
    let probe = Scripted {
        hang: true,
        ..Scripted::new(true)
    };
    let health = start(&probe, check());
    sleep(499 * MS).await;
    assert!(available(&health));
    sleep(2 * MS).await;
    assert!(!available(&health));
    let last = health.last_check();
    assert_eq!(
        last.and_then(|c| c.error).as_deref(),
        Some("timed out after 500ms")
    );
    assert_eq!(
        probe.in_flight.load(Ordering::SeqCst),
        0,
        "the probe was dropped"
    );
}

#[tokio::test(start_paused = true)]
async fn probes_run_once_per_interval() {
    let probe = Scripted::new(true);
    let begin = Instant::now();
    let _health = start(&probe, check());
    sleep_until(begin + 10 * SEC + 500 * MS).await;
    assert_eq!(probe.calls(), 11);
}

#[tokio::test(start_paused = true)]
async fn an_ejected_backend_is_probed_when_its_ejection_ends() {
    let probe = Scripted::new(true);
    let mut check = check();
    check.interval = 10 * SEC;
    let begin = Instant::now();
    let health = start(&probe, check);
    sleep_until(begin + SEC).await;
    let until = health.eject(Instant::now(), 5, |_| 15 * SEC);
    // The prober sees the ejection at its 10s probe and times the next to 16s,
    // not 20s.
    sleep_until(until - MS).await;
    assert!(!available(&health));
    sleep_until(until + MS).await;
    assert!(available(&health));
    assert_eq!(probe.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn probes_in_flight_are_bounded_process_wide() {
    let probe = Scripted {
        delay: SEC,
        ..Scripted::new(true)
    };
    let mut check = check();
    check.timeout = 2 * SEC;
    let slots = Arc::new(Semaphore::new(2));
    for _ in 0..5 {
        start_with(&probe, check.clone(), Arc::clone(&slots));
    }
    sleep(5 * SEC).await;
    assert_eq!(probe.max_in_flight.load(Ordering::SeqCst), 2);
    assert!(probe.calls() >= 8, "calls: {}", probe.calls());
}
