//! What a breaker tells the world when it changes state: one log line, one counter
//! increment and the state gauge, through handles made once when the breaker is.

use metrics::{counter, gauge, Counter, Gauge};

use super::BreakerState::{self, Closed, HalfOpen, Open};
use crate::names::{
    CIRCUIT_STATE, CIRCUIT_TRANSITIONS_TOTAL, LABEL_BACKEND, LABEL_CLUSTER, LABEL_TO, TO_CLOSED,
    TO_HALF_OPEN, TO_OPEN,
};
use crate::window::Counts;

/// The breaker's metric handles and the names its log lines carry.
#[derive(Debug)]
pub(super) struct Report {
    cluster: Box<str>,
    backend: Box<str>,
    state: Gauge,
    to_closed: Counter,
    to_half_open: Counter,
    to_open: Counter,
}

impl Report {
    /// Registers the handles for one backend and shows it closed.
    pub(super) fn new(cluster: &str, backend: &str) -> Self {
        let transitions = |to: &'static str| {
            counter!(
                CIRCUIT_TRANSITIONS_TOTAL,
                LABEL_CLUSTER => cluster.to_owned(),
                LABEL_BACKEND => backend.to_owned(),
                LABEL_TO => to,
            )
        };
        let report = Self {
            cluster: cluster.into(),
            backend: backend.into(),
            state: gauge!(
                CIRCUIT_STATE,
                LABEL_CLUSTER => cluster.to_owned(),
                LABEL_BACKEND => backend.to_owned(),
            ),
            to_closed: transitions(TO_CLOSED),
            to_half_open: transitions(TO_HALF_OPEN),
            to_open: transitions(TO_OPEN),
        };
        report.state.set(gauge_value(Closed));
        report
    }

    /// Closed -> open: the window crossed `failure_ratio`.
    pub(super) fn tripped(&self, sums: Counts) {
        self.entered(Open, Some(Closed), Some(sums), "circuit breaker opened");
    }

    /// Half-open -> open: a trial request failed.
    pub(super) fn reopened(&self) {
        let line = "circuit breaker opened: a trial request failed";
        self.entered(Open, Some(HalfOpen), None, line);
    }

    /// Open -> half-open: `open_duration` passed and a request asked.
    pub(super) fn half_opened(&self) {
        self.entered(HalfOpen, None, None, "circuit breaker half-open");
    }

    /// Half-open -> closed: every trial succeeded.
    pub(super) fn closed(&self) {
        self.entered(Closed, None, None, "circuit breaker closed");
    }

    /// Logs the move to `to` and updates the metrics. A `None` field is left out of
    /// the line rather than printed empty, so each transition keeps its own fields.
    fn entered(
        &self,
        to: BreakerState,
        from: Option<BreakerState>,
        sums: Option<Counts>,
        line: &'static str,
    ) {
        tracing::info!(
            cluster = &*self.cluster,
            backend = &*self.backend,
            to = to.as_str(),
            from = from.map(BreakerState::as_str),
            failures = sums.map(|sums| sums.events),
            requests = sums.map(|sums| sums.requests),
            "{line}"
        );
        self.count(to);
    }

    fn count(&self, to: BreakerState) {
        let counter = match to {
            BreakerState::Closed => &self.to_closed,
            BreakerState::HalfOpen => &self.to_half_open,
            BreakerState::Open => &self.to_open,
        };
        counter.increment(1);
        self.state.set(gauge_value(to));
    }
}

/// `portcullis_circuit_state`: 0 closed, 1 half-open, 2 open.
fn gauge_value(state: BreakerState) -> f64 {
    match state {
        BreakerState::Closed => 0.0,
        BreakerState::HalfOpen => 1.0,
        BreakerState::Open => 2.0,
    }
}
