//! Concurrency limits under real concurrency.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use portcullis_breaker::ConcurrencyLimit;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn max_is_respected_under_concurrency() {
    const MAX: usize = 8;
    let limit = Arc::new(ConcurrencyLimit::new(MAX));
    // Counted by the tasks themselves, between acquiring and dropping the guard.
    let holding = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let admitted = Arc::new(AtomicUsize::new(0));

    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (limit, holding, peak, admitted) = (
                Arc::clone(&limit),
                Arc::clone(&holding),
                Arc::clone(&peak),
                Arc::clone(&admitted),
            );
            tokio::spawn(async move {
                for _ in 0..50 {
                    if let Some(guard) = limit.try_acquire() {
                        let now = holding.fetch_add(1, SeqCst) + 1;
                        peak.fetch_max(now, SeqCst);
                        admitted.fetch_add(1, SeqCst);
                        tokio::time::sleep(Duration::from_micros(50)).await;
                        holding.fetch_sub(1, SeqCst);
                        drop(guard);
                    } else {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }

    let peak = peak.load(SeqCst);
    assert!(peak <= MAX, "{peak} in flight with a limit of {MAX}");
    assert!(peak > 1, "the test should have run requests concurrently");
    assert!(admitted.load(SeqCst) > 0);
    assert_eq!(limit.in_flight(), 0, "every guard released");
}

#[test]
fn guards_release_on_drop() {
    let limit = Arc::new(ConcurrencyLimit::new(2));
    let first = limit.try_acquire().expect("first");
    let second = limit.try_acquire().expect("second");
    assert_eq!(limit.in_flight(), 2);
    assert!(limit.try_acquire().is_none(), "no queue: refused at once");

    drop(first);
    assert_eq!(limit.in_flight(), 1);
    let third = limit.try_acquire().expect("the freed place");
    drop((second, third));
    assert_eq!(limit.in_flight(), 0);
    assert_eq!(limit.max(), 2);
}

#[test]
fn a_limit_of_zero_admits_nothing() {
    let limit = Arc::new(ConcurrencyLimit::new(0));
    assert!(limit.try_acquire().is_none());
    assert_eq!(limit.in_flight(), 0);
}
