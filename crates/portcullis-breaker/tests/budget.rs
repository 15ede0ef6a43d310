//! The retry budget under paused time.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use portcullis_breaker::{RetryBudget, RetryCause, BUDGET_WINDOW};
use support::retry_settings;
use tokio::time::{advance, Instant};

const CAUSE: RetryCause = RetryCause::GatewayError;

/// How many retries the budget allows now, spending them all.
fn drain(budget: &RetryBudget) -> usize {
    let now = Instant::now();
    (0..10_000)
        .take_while(|_| budget.try_retry(now, CAUSE))
        .count()
}

#[tokio::test(start_paused = true)]
async fn twenty_percent_of_a_hundred_requests_is_twenty_retries() {
    let budget = RetryBudget::new(&retry_settings(20, 0), "api");
    for _ in 0..100 {
        budget.record_request(Instant::now());
    }
    for n in 0..20 {
        assert!(budget.try_retry(Instant::now(), CAUSE), "retry {n}");
    }
    assert!(
        !budget.try_retry(Instant::now(), CAUSE),
        "the 21st is over budget"
    );
}

#[tokio::test(start_paused = true)]
async fn min_retries_per_second_is_the_floor_when_traffic_is_low() {
    // 10 requests earn 2 retries; the floor is 2/s over 10 s = 20.
    let budget = RetryBudget::new(&retry_settings(20, 2), "api");
    for _ in 0..10 {
        budget.record_request(Instant::now());
    }
    assert_eq!(drain(&budget), 20);

    // With no traffic at all the floor still holds.
    let idle = RetryBudget::new(&retry_settings(20, 2), "api");
    assert_eq!(drain(&idle), 20);
}

#[tokio::test(start_paused = true)]
async fn the_budget_returns_as_the_window_rolls() {
    let budget = RetryBudget::new(&retry_settings(20, 0), "api");
    for _ in 0..100 {
        budget.record_request(Instant::now());
    }
    assert_eq!(drain(&budget), 20);

    // Half a window on, the spent retries still count; new traffic earns new ones.
    advance(BUDGET_WINDOW / 2).await;
    assert_eq!(drain(&budget), 0);
    for _ in 0..50 {
        budget.record_request(Instant::now());
    }
    assert_eq!(drain(&budget), 10, "150 requests earn 30, 20 were spent");

    // Once the first burst leaves the window, its 20 retries leave with it.
    advance(BUDGET_WINDOW / 2).await;
    for _ in 0..50 {
        budget.record_request(Instant::now());
    }
    assert_eq!(drain(&budget), 10, "100 requests earn 20, 10 still count");

    advance(BUDGET_WINDOW).await;
    assert_eq!(drain(&budget), 0, "nothing earned, floor 0");
    for _ in 0..100 {
        budget.record_request(Instant::now());
    }
    assert_eq!(drain(&budget), 20);
}

#[tokio::test(start_paused = true)]
async fn the_floor_refills_after_a_window() {
    let budget = RetryBudget::new(&retry_settings(20, 1), "api");
    assert_eq!(drain(&budget), 10);
    advance(BUDGET_WINDOW - Duration::from_secs(1)).await;
    assert_eq!(drain(&budget), 0);
    advance(Duration::from_secs(1)).await;
    assert_eq!(drain(&budget), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_never_overspend() {
    let budget = Arc::new(RetryBudget::new(&retry_settings(20, 0), "api"));
    for _ in 0..100 {
        budget.record_request(Instant::now());
    }
    let sent = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (budget, sent) = (Arc::clone(&budget), Arc::clone(&sent));
            tokio::spawn(async move {
                for _ in 0..50 {
                    if budget.try_retry(Instant::now(), CAUSE) {
                        sent.fetch_add(1, SeqCst);
                    }
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    assert_eq!(sent.load(SeqCst), 20);
}

#[test]
fn cause_labels_match_the_contract() {
    let labels = RetryCause::ALL.map(RetryCause::as_str);
    assert_eq!(
        labels,
        ["connect_failure", "reset_before_response", "gateway_error"]
    );
    let only_connect = portcullis_config::RetryOn {
        connect_failure: true,
        ..Default::default()
    };
    let enabled = RetryCause::ALL.map(|cause| cause.is_enabled(&only_connect));
    assert_eq!(enabled, [true, false, false]);
}

#[tokio::test(start_paused = true)]
async fn requests_counted_on_every_thread_earn_retries() {
    let budget = Arc::new(RetryBudget::new(&retry_settings(20, 0), "api"));
    let now = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let budget = Arc::clone(&budget);
            std::thread::spawn(move || {
                for _ in 0..25 {
                    budget.record_request(now);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(drain(&budget), 20, "100 requests over four threads");
}
