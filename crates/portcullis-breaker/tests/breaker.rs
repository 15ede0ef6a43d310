//! The breaker's state machine under paused time.

mod support;

use std::time::Duration;

use portcullis_breaker::{Breaker, BreakerState};
use support::{breaker_settings, MIN_REQUESTS, OPEN, TRIALS, WINDOW};
use tokio::time::{advance, Instant};

fn breaker() -> Breaker {
    Breaker::new(&breaker_settings(), "api", "10.0.0.1:8080")
}

/// Admits one request and records its result now.
fn request(breaker: &Breaker, success: bool) {
    let now = Instant::now();
    let ticket = breaker.admit(now).expect("a closed breaker admits");
    breaker.record(ticket, success, now);
}

/// A breaker that opened just now.
fn tripped() -> Breaker {
    let breaker = breaker();
    for _ in 0..MIN_REQUESTS {
        request(&breaker, false);
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    breaker
}

#[tokio::test(start_paused = true)]
async fn does_not_open_before_min_requests() {
    let breaker = breaker();
    for _ in 1..MIN_REQUESTS {
        request(&breaker, false);
    }
    assert_eq!(
        breaker.state(),
        BreakerState::Closed,
        "ratio 1.0 but 3 < 4 requests"
    );
    request(&breaker, false);
    assert_eq!(breaker.state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn opens_exactly_at_failure_ratio() {
    let breaker = breaker();
    // 1/3, 1/4, 2/5: under 0.5.
    for success in [true, true, false, true, false] {
        request(&breaker, success);
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
    // 3/6 = 0.5: at the ratio.
    request(&breaker, false);
    assert_eq!(breaker.state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn a_success_that_completes_min_requests_can_open() {
    let breaker = breaker();
    for _ in 1..MIN_REQUESTS {
        request(&breaker, false);
    }
    request(&breaker, true);
    assert_eq!(breaker.state(), BreakerState::Open, "3/4 with 4 requests");
}

#[tokio::test(start_paused = true)]
async fn failures_outside_the_window_do_not_count() {
    let old = breaker();
    let recent = breaker();
    for _ in 1..MIN_REQUESTS {
        request(&old, false);
        request(&recent, false);
    }

    advance(WINDOW - Duration::from_secs(1)).await;
    request(&recent, false);
    assert_eq!(
        recent.state(),
        BreakerState::Open,
        "9 s old failures still count"
    );

    advance(Duration::from_secs(1)).await;
    request(&old, false);
    assert_eq!(
        old.state(),
        BreakerState::Closed,
        "10 s old failures do not"
    );
    for _ in 1..MIN_REQUESTS {
        request(&old, false);
    }
    assert_eq!(old.state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn open_rejects_until_open_duration_and_retry_after_counts_down() {
    let breaker = tripped();
    assert!(breaker.admit(Instant::now()).is_none());
    assert!(!breaker.is_available(Instant::now()));
    assert_eq!(breaker.retry_after(Instant::now()), OPEN);

    advance(Duration::from_secs(2)).await;
    assert!(breaker.admit(Instant::now()).is_none());
    assert_eq!(breaker.retry_after(Instant::now()), Duration::from_secs(3));

    advance(Duration::from_millis(2999)).await;
    assert!(!breaker.is_available(Instant::now()));
    assert_eq!(
        breaker.retry_after(Instant::now()),
        Duration::from_millis(1)
    );

    advance(Duration::from_millis(1)).await;
    assert!(breaker.is_available(Instant::now()));
    assert_eq!(
        breaker.state(),
        BreakerState::Open,
        "is_available takes nothing"
    );
    assert_eq!(breaker.retry_after(Instant::now()), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn half_open_admits_exactly_half_open_requests_trials() {
    let breaker = tripped();
    advance(OPEN).await;
    let now = Instant::now();
    let trials: Vec<_> = (0..TRIALS).map_while(|_| breaker.admit(now)).collect();
    assert_eq!(trials.len(), TRIALS as usize);
    assert!(trials.iter().all(|ticket| ticket.is_trial()));
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    assert!(breaker.admit(now).is_none(), "no fourth trial");
    assert!(!breaker.is_available(now));
    assert_eq!(breaker.retry_after(now), Duration::ZERO);
    for ticket in trials {
        breaker.record(ticket, true, now);
    }
}

#[tokio::test(start_paused = true)]
async fn all_trials_succeed_closes_and_clears_the_window() {
    let breaker = tripped();
    advance(OPEN).await;
    let now = Instant::now();
    let trials: Vec<_> = (0..TRIALS).map_while(|_| breaker.admit(now)).collect();
    for (done, ticket) in trials.into_iter().enumerate() {
        assert_eq!(
            breaker.state(),
            BreakerState::HalfOpen,
            "after {done} successes"
        );
        breaker.record(ticket, true, now);
    }
    assert_eq!(breaker.state(), BreakerState::Closed);

    // The four failures that opened it are 5 s old, inside the window: were they
    // still counted, three more would re-open it.
    for _ in 1..MIN_REQUESTS {
        request(&breaker, false);
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn one_failed_trial_reopens_with_a_fresh_open_duration() {
    let breaker = tripped();
    advance(OPEN).await;
    let first = breaker.admit(Instant::now()).expect("first trial");
    let second = breaker.admit(Instant::now()).expect("second trial");
    let third = breaker.admit(Instant::now()).expect("third trial");

    advance(Duration::from_secs(1)).await;
    breaker.record(first, false, Instant::now());
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(breaker.retry_after(Instant::now()), OPEN);
    assert!(breaker.admit(Instant::now()).is_none());

    // A trial of the failed half-open answering late changes nothing.
    breaker.record(second, true, Instant::now());
    assert_eq!(breaker.state(), BreakerState::Open);

    advance(OPEN).await;
    assert!(breaker.admit(Instant::now()).is_some_and(|t| t.is_trial()));
    assert_eq!(breaker.state(), BreakerState::HalfOpen);

    // Nor in the next half-open: that is a new episode, and the old trial's
    // failure must not re-open it.
    breaker.record(third, false, Instant::now());
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_trial_ticket_frees_its_slot() {
    let breaker = tripped();
    advance(OPEN).await;
    let now = Instant::now();
    let mut trials: Vec<_> = (0..TRIALS).map_while(|_| breaker.admit(now)).collect();
    assert!(breaker.admit(now).is_none());

    drop(trials.pop());
    assert!(
        breaker.is_available(now),
        "the dropped trial's slot is free again"
    );
    trials.push(breaker.admit(now).expect("the freed slot"));
    for ticket in trials {
        breaker.record(ticket, true, now);
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn dropping_every_trial_does_not_wedge_half_open() {
    let breaker = tripped();
    advance(OPEN).await;
    for _ in 0..10 {
        let trials: Vec<_> = (0..TRIALS)
            .map_while(|_| breaker.admit(Instant::now()))
            .collect();
        assert_eq!(trials.len(), TRIALS as usize);
    }
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    assert!(breaker.is_available(Instant::now()));
}

#[tokio::test(start_paused = true)]
async fn results_from_before_a_transition_are_ignored() {
    let breaker = breaker();
    let late = breaker.admit(Instant::now()).expect("closed admits");
    for _ in 0..MIN_REQUESTS {
        request(&breaker, false);
    }
    assert_eq!(breaker.state(), BreakerState::Open);

    advance(OPEN).await;
    let now = Instant::now();
    let trials: Vec<_> = (0..TRIALS).map_while(|_| breaker.admit(now)).collect();
    // A ticket admitted before the breaker opened cannot fail the half-open.
    breaker.record(late, false, now);
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    for ticket in trials {
        breaker.record(ticket, true, now);
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[test]
fn state_names_match_the_status_api() {
    let names = [
        BreakerState::Closed,
        BreakerState::HalfOpen,
        BreakerState::Open,
    ]
    .map(BreakerState::as_str);
    assert_eq!(names, ["closed", "half_open", "open"]);
}

#[test]
fn handles_can_cross_tasks() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Breaker>();
    send_sync::<portcullis_breaker::Ticket>();
    send_sync::<portcullis_breaker::ConcurrencyLimit>();
    send_sync::<portcullis_breaker::LimitGuard>();
    send_sync::<portcullis_breaker::RetryBudget>();
}

#[tokio::test(start_paused = true)]
async fn results_recorded_on_many_threads_open_it_together() {
    // Each thread records one result: only their sum reaches min_requests.
    for _ in 0..50 {
        let breaker = std::sync::Arc::new(breaker());
        let now = Instant::now();
        let threads: Vec<_> = (0..MIN_REQUESTS)
            .map(|n| {
                let breaker = std::sync::Arc::clone(&breaker);
                std::thread::spawn(move || {
                    let ticket = breaker.admit(now).expect("closed");
                    let success = n == 0;
                    breaker.record(ticket, success, now);
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(breaker.state(), BreakerState::Open, "3 of 4 failed at once");
    }
}
