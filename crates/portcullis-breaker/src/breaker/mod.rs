//! The per-backend circuit breaker: closed, open, half-open over a rolling window of
//! results. The state machine and its reasons are in `machine`; the word it lives in
//! is in `state`.

mod machine;
mod report;
mod state;
mod ticket;

use std::sync::Arc;
use std::time::Duration;

use portcullis_config::CircuitBreaker;
use tokio::time::Instant;

use machine::Machine;
use state::State;
pub use ticket::Ticket;

/// A per-backend circuit breaker (`clusters.*.circuit_breaker`).
///
/// Lock-free and allocation-free after [`Breaker::new`]: every call is a few atomic
/// loads and at most a handful of `compare_exchange`s. Share it behind an `Arc` with
/// the backend's other state, keyed by cluster and address, so a reload keeps it.
#[derive(Debug)]
pub struct Breaker {
    machine: Arc<Machine>,
}

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Requests flow; results are counted in the rolling window.
    Closed,
    /// A few trial requests decide between closed and open.
    HalfOpen,
    /// Requests are refused until `open_duration` has passed.
    Open,
}

impl Breaker {
    /// A closed breaker for `backend` (its address as written in the config) of
    /// `cluster`. Registers its metric handles and sets `portcullis_circuit_state` to 0.
    pub fn new(settings: &CircuitBreaker, cluster: &str, backend: &str) -> Self {
        Self {
            machine: Arc::new(Machine::new(settings, cluster, backend)),
        }
    }

    /// Cheap check for backend selection; takes nothing. True when closed, half-open
    /// with a trial slot free, or open with `open_duration` elapsed.
    pub fn is_available(&self, now: Instant) -> bool {
        self.machine.is_available(now)
    }

    /// Admits one request to this backend. Closed: always. Open before
    /// `open_duration`: `None`. Open after it: moves to half-open and returns the first
    /// trial. Half-open: a trial if a slot is free, else `None`.
    pub fn admit(&self, now: Instant) -> Option<Ticket> {
        let admission = self.machine.admit(now)?;
        Some(if admission.trial {
            Ticket::trial(admission.episode, Arc::clone(&self.machine))
        } else {
            Ticket::closed(admission.episode)
        })
    }

    /// Reports the result of a request this breaker admitted. `success` is false for a
    /// connect error, a reset, a timeout or a 5xx from the origin.
    ///
    /// Closed: counted in the rolling window; opens when
    /// `failures / requests >= failure_ratio` with `requests >= min_requests`.
    /// Half-open: one failure re-opens for a fresh `open_duration`;
    /// `half_open_requests` successes close and clear the window. A result from
    /// before the breaker last changed state is ignored.
    pub fn record(&self, ticket: Ticket, success: bool, now: Instant) {
        match ticket.redeem() {
            (episode, Some(machine)) => machine.record_trial(episode, success, now),
            (episode, None) => self.machine.record_closed(episode, success, now),
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        match self.machine.state() {
            State::Closed { .. } => BreakerState::Closed,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
            State::Open { .. } => BreakerState::Open,
        }
    }

    /// Time until the next half-open trial may go (for `Retry-After`); zero unless open.
    pub fn retry_after(&self, now: Instant) -> Duration {
        self.machine.retry_after(now)
    }
}

impl BreakerState {
    /// The name the status API and logs use: `closed`, `half_open` or `open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => crate::names::TO_CLOSED,
            Self::HalfOpen => crate::names::TO_HALF_OPEN,
            Self::Open => crate::names::TO_OPEN,
        }
    }
}
