//! Metric handles: names and labels as the SPEC spells them, moved by transitions.

mod support;

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use metrics::{
    with_local_recorder, Counter, CounterFn, Gauge, GaugeFn, Histogram, Key, KeyName, Metadata,
    Recorder, SharedString, Unit,
};
use portcullis_breaker::names::{CIRCUIT_STATE, CIRCUIT_TRANSITIONS_TOTAL, RETRIES_TOTAL};
use portcullis_breaker::{Breaker, BreakerState, RetryBudget, RetryCause};
use support::{breaker_settings, retry_settings, MIN_REQUESTS, OPEN, TRIALS};
use tokio::time::{advance, Instant};

/// One counter's or gauge's value; gauges keep `f64` bits.
#[derive(Default)]
struct Cell(AtomicU64);

impl CounterFn for Cell {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, SeqCst);
    }

    fn absolute(&self, value: u64) {
        self.0.fetch_max(value, SeqCst);
    }
}

impl GaugeFn for Cell {
    fn increment(&self, value: f64) {
        self.update(|v| v + value);
    }

    fn decrement(&self, value: f64) {
        self.update(|v| v - value);
    }

    fn set(&self, value: f64) {
        self.0.store(value.to_bits(), SeqCst);
    }
}

impl Cell {
    fn update(&self, f: impl Fn(f64) -> f64) {
        let _ = self.0.fetch_update(SeqCst, SeqCst, |bits| {
            Some(f(f64::from_bits(bits)).to_bits())
        });
    }
}

/// Remembers every registered counter and gauge by key.
#[derive(Default)]
struct TestRecorder {
    cells: Mutex<Vec<(Key, Arc<Cell>)>>,
}

impl TestRecorder {
    fn cell(&self, key: &Key) -> Arc<Cell> {
        let mut cells = self.cells.lock().expect("test recorder");
        if let Some((_, cell)) = cells.iter().find(|(k, _)| k == key) {
            return Arc::clone(cell);
        }
        let cell = Arc::new(Cell::default());
        cells.push((key.clone(), Arc::clone(&cell)));
        cell
    }

    /// The raw value of the metric `name` whose labels are exactly `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<u64> {
        let cells = self.cells.lock().expect("test recorder");
        let matches = |key: &Key| {
            key.name() == name
                && key.labels().count() == labels.len()
                && labels
                    .iter()
                    .all(|&(k, v)| key.labels().any(|l| l.key() == k && l.value() == v))
        };
        cells
            .iter()
            .find(|(key, _)| matches(key))
            .map(|(_, cell)| cell.0.load(SeqCst))
    }

    fn transitions(&self, to: &str) -> u64 {
        let labels = [("cluster", "api"), ("backend", "10.0.0.1:8080"), ("to", to)];
        self.value(CIRCUIT_TRANSITIONS_TOTAL, &labels)
            .expect("transition counter registered")
    }

    fn state_gauge(&self) -> f64 {
        let labels = [("cluster", "api"), ("backend", "10.0.0.1:8080")];
        f64::from_bits(
            self.value(CIRCUIT_STATE, &labels)
                .expect("state gauge registered"),
        )
    }

    fn retries(&self, cause: &str, outcome: &str) -> u64 {
        let labels = [("cluster", "api"), ("cause", cause), ("outcome", outcome)];
        self.value(RETRIES_TOTAL, &labels)
            .expect("retry counter registered")
    }
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.cell(key))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.cell(key))
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

fn fail(breaker: &Breaker) {
    let now = Instant::now();
    if let Some(ticket) = breaker.admit(now) {
        breaker.record(ticket, false, now);
    }
}

#[tokio::test(start_paused = true)]
async fn transitions_count_once_and_move_the_state_gauge() {
    let recorder = TestRecorder::default();
    let breaker = with_local_recorder(&recorder, || {
        Breaker::new(&breaker_settings(), "api", "10.0.0.1:8080")
    });
    assert_eq!(recorder.state_gauge(), 0.0);
    assert_eq!(recorder.transitions("open"), 0);

    for _ in 0..MIN_REQUESTS * 3 {
        fail(&breaker);
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(
        recorder.transitions("open"),
        1,
        "opened once, however many failures"
    );
    assert_eq!(recorder.state_gauge(), 2.0);

    advance(OPEN).await;
    let now = Instant::now();
    let trials: Vec<_> = (0..TRIALS).map_while(|_| breaker.admit(now)).collect();
    assert_eq!(recorder.transitions("half_open"), 1);
    assert_eq!(recorder.state_gauge(), 1.0);

    for ticket in trials {
        breaker.record(ticket, true, now);
    }
    assert_eq!(recorder.transitions("closed"), 1);
    assert_eq!(recorder.state_gauge(), 0.0);
    assert_eq!(recorder.transitions("open"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_trial_counts_another_open() {
    let recorder = TestRecorder::default();
    let breaker = with_local_recorder(&recorder, || {
        Breaker::new(&breaker_settings(), "api", "10.0.0.1:8080")
    });
    for _ in 0..MIN_REQUESTS {
        fail(&breaker);
    }
    advance(OPEN).await;
    fail(&breaker);
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(recorder.transitions("open"), 2);
    assert_eq!(recorder.transitions("half_open"), 1);
    assert_eq!(recorder.state_gauge(), 2.0);
}

#[tokio::test(start_paused = true)]
async fn retries_are_counted_by_cause_and_outcome() {
    let recorder = TestRecorder::default();
    let budget = with_local_recorder(&recorder, || {
        RetryBudget::new(&retry_settings(20, 0), "api")
    });
    for cause in ["connect_failure", "reset_before_response", "gateway_error"] {
        for outcome in ["sent", "budget_exhausted"] {
            assert_eq!(recorder.retries(cause, outcome), 0, "{cause} {outcome}");
        }
    }

    for _ in 0..5 {
        budget.record_request(Instant::now());
    }
    assert!(budget.try_retry(Instant::now(), RetryCause::ConnectFailure));
    assert!(!budget.try_retry(Instant::now(), RetryCause::ResetBeforeResponse));
    assert_eq!(recorder.retries("connect_failure", "sent"), 1);
    assert_eq!(
        recorder.retries("reset_before_response", "budget_exhausted"),
        1
    );
    assert_eq!(recorder.retries("gateway_error", "sent"), 0);
}
