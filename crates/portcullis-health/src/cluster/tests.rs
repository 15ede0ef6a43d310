use std::time::Duration;

use tokio::time::{advance, Instant};

use super::*;
use crate::status::HealthStatus;
use crate::testing::cluster;

const SEC: Duration = Duration::from_secs(1);

fn health(backends: usize, outlier: &str) -> ClusterHealth {
    ClusterHealth::new(&cluster(backends, outlier))
}

fn fail(cluster: &ClusterHealth, backend: usize, times: u32) {
    for _ in 0..times {
        cluster.record(backend, Outcome::GatewayFailure, Instant::now());
    }
}

fn available(cluster: &ClusterHealth) -> Vec<bool> {
    let now = Instant::now();
    cluster
        .backends()
        .iter()
        .map(|b| b.is_available(now))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn consecutive_failures_eject_for_base_times_n_capped() {
    let cluster = health(
        1,
        "consecutive_failures = 3\nbase_ejection_time = \"10s\"\nmax_ejection_time = \"35s\"",
    );
    let backend = &cluster.backends()[0];
    for (nth, secs) in [(1, 10), (2, 20), (3, 30), (4, 35), (5, 35)] {
        fail(&cluster, 0, 2);
        assert!(
            backend.is_available(Instant::now()),
            "ejection {nth}: too early"
        );
        fail(&cluster, 0, 1);
        let until = Instant::now() + Duration::from_secs(secs);
        assert_eq!(
            backend.status(Instant::now()),
            HealthStatus::Ejected { until }
        );
        assert_eq!(backend.ejections(), nth);
        advance(Duration::from_secs(secs) - Duration::from_millis(1)).await;
        assert!(
            !backend.is_available(Instant::now()),
            "ejection {nth}: ended early"
        );
        advance(Duration::from_millis(1)).await;
        assert!(
            backend.is_available(Instant::now()),
            "ejection {nth}: not over"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_success_resets_the_count_and_the_backoff() {
    let cluster = health(1, "consecutive_failures = 3\nbase_ejection_time = \"10s\"");
    let backend = &cluster.backends()[0];
    fail(&cluster, 0, 2);
    cluster.record(0, Outcome::Success, Instant::now());
    fail(&cluster, 0, 2);
    assert!(backend.is_available(Instant::now()));
    fail(&cluster, 0, 1);
    assert!(!backend.is_available(Instant::now()));
    assert_eq!(backend.ejections(), 1);

    advance(10 * SEC).await;
    cluster.record(0, Outcome::Success, Instant::now());
    assert_eq!(backend.ejections(), 0, "healthy again");
    fail(&cluster, 0, 3);
    let until = Instant::now() + 10 * SEC;
    assert_eq!(
        backend.status(Instant::now()),
        HealthStatus::Ejected { until }
    );
}

#[tokio::test(start_paused = true)]
async fn max_ejection_percent_is_respected() {
    let cluster = health(4, "consecutive_failures = 1\nmax_ejection_percent = 50");
    for backend in 0..4 {
        fail(&cluster, backend, 1);
    }
    assert_eq!(available(&cluster), [false, false, true, true]);

    // The refused backends keep their count: once room frees up, the next
    // failure ejects.
    advance(30 * SEC).await;
    assert_eq!(available(&cluster), [true; 4]);
    fail(&cluster, 2, 1);
    fail(&cluster, 3, 1);
    fail(&cluster, 0, 1);
    assert_eq!(available(&cluster), [true, true, false, false]);
}

#[tokio::test(start_paused = true)]
async fn a_lone_backend_can_be_ejected() {
    let cluster = health(1, "consecutive_failures = 2\nmax_ejection_percent = 50");
    fail(&cluster, 0, 2);
    assert_eq!(available(&cluster), [false]);
}

#[tokio::test(start_paused = true)]
async fn zero_consecutive_failures_never_ejects() {
    let cluster = health(2, "consecutive_failures = 0");
    fail(&cluster, 0, 10_000);
    assert_eq!(available(&cluster), [true, true]);
    assert_eq!(cluster.backends()[0].ejections(), 0);
}

#[tokio::test(start_paused = true)]
async fn outcomes_while_ejected_are_ignored() {
    let cluster = health(1, "consecutive_failures = 2\nbase_ejection_time = \"10s\"");
    fail(&cluster, 0, 2);
    let status = cluster.backends()[0].status(Instant::now());
    fail(&cluster, 0, 5);
    cluster.record(0, Outcome::Success, Instant::now());
    assert_eq!(cluster.backends()[0].status(Instant::now()), status);
    assert_eq!(cluster.backends()[0].ejections(), 1);
    // Nothing was counted while out: after the return, a full streak is needed.
    advance(10 * SEC).await;
    fail(&cluster, 0, 1);
    assert_eq!(available(&cluster), [true]);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_backend_index_is_ignored() {
    let cluster = health(1, "consecutive_failures = 1");
    cluster.record(7, Outcome::GatewayFailure, Instant::now());
    assert_eq!(available(&cluster), [true]);
}

#[tokio::test(start_paused = true)]
async fn soonest_return_is_the_earliest_end_of_an_ejection() {
    let cluster = health(
        2,
        "consecutive_failures = 1\nbase_ejection_time = \"30s\"\nmax_ejection_percent = 100",
    );
    assert_eq!(cluster.soonest_return(Instant::now()), None);
    fail(&cluster, 0, 1);
    advance(10 * SEC).await;
    fail(&cluster, 1, 1);
    assert_eq!(cluster.soonest_return(Instant::now()), Some(20 * SEC));
    advance(5 * SEC).await;
    assert_eq!(cluster.soonest_return(Instant::now()), Some(15 * SEC));
    advance(15 * SEC).await;
    assert_eq!(cluster.soonest_return(Instant::now()), Some(10 * SEC));
    advance(10 * SEC).await;
    assert_eq!(cluster.soonest_return(Instant::now()), None);
}

#[tokio::test(start_paused = true)]
async fn an_ejection_ends_by_time_without_active_checks() {
    let cluster = health(1, "consecutive_failures = 1\nbase_ejection_time = \"5s\"");
    let backend = &cluster.backends()[0];
    fail(&cluster, 0, 1);
    // The timer task clears the ejection at its end (the log line and the gauge).
    tokio::time::sleep(5 * SEC).await;
    tokio::task::yield_now().await;
    assert_eq!(backend.ejected_until(), None);
    assert_eq!(backend.status(Instant::now()), HealthStatus::Healthy);
}

#[test]
fn record_works_outside_a_runtime() {
    let cluster = health(1, "consecutive_failures = 1");
    fail(&cluster, 0, 1);
    assert_eq!(available(&cluster), [false]);
}

#[test]
fn keeps_policy_and_order_from_the_config() {
    let cluster = health(3, "");
    let addresses: Vec<&str> = cluster.backends().iter().map(|b| b.address()).collect();
    assert_eq!(addresses, ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]);
    assert_eq!(cluster.all_unhealthy(), AllUnhealthy::FailClosed);
    assert_eq!(cluster.name(), "api");
}
