//! The circuit breaker's state machine, shared by a [`Breaker`](super::Breaker) and
//! its half-open trial tickets.
//!
//! # States and transitions
//! - **Closed**: every request is admitted; each result lands in the rolling window.
//!   When the window holds at least `min_requests` results and
//!   `failures / requests >= failure_ratio`, the result that crossed the line opens
//!   the breaker. Why a ratio over a window rather than consecutive failures: a busy
//!   backend failing one request in three is broken even if no two failures touch.
//! - **Open**: nothing is admitted until `open_duration` has passed. The first request
//!   after that moves the breaker to half-open and is its first trial; there is no
//!   timer task, the next caller does the transition.
//! - **Half-open**: at most `half_open_requests` trials are admitted. One failure
//!   re-opens with a fresh `open_duration`; `half_open_requests` successes close and
//!   clear the window, so the failures that opened it do not re-open it at once.
//!   A trial ticket dropped without a result gives its slot back (see
//!   [`Ticket`](super::Ticket)).
//!
//! Every transition is one `compare_exchange` on the state word (see `state`), so
//! exactly one thread performs it, and only that thread logs and counts it. Results
//! are only counted while the state still carries the episode that admitted them:
//! late answers from before a transition are ignored.

use std::sync::atomic::{AtomicU64, Ordering::*};
use std::time::Duration;

use portcullis_config::CircuitBreaker;
use tokio::time::Instant;

use super::report::Report;
use super::state::{State, MAX_TRIALS};
use crate::clock::{saturating_nanos, Clock, NANOS_PER_MILLI};
use crate::sharded::ShardedWindow;
use crate::window::Counts;

/// The validated settings in the units the machine compares.
#[derive(Debug)]
struct Policy {
    failure_ratio: f64,
    min_requests: u64,
    open_nanos: u64,
    trials: u32,
}

impl Policy {
    /// Whether the window's sums open a closed breaker.
    fn trips(&self, sums: Counts) -> bool {
        // Divide rather than multiply: 3 / 10 is the same f64 as a written 0.3.
        sums.requests > 0
            && sums.requests >= self.min_requests
            && sums.events as f64 / sums.requests as f64 >= self.failure_ratio
    }
}

/// What [`Machine::admit`] hands out: the episode, and whether it is a trial.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admission {
    pub(crate) episode: u32,
    pub(crate) trial: bool,
}

/// One backend's breaker: the state word, its window, its policy and its reporting.
#[derive(Debug)]
pub(crate) struct Machine {
    state: AtomicU64,
    clock: Clock,
    window: ShardedWindow,
    policy: Policy,
    report: Report,
}

impl Machine {
    pub(super) fn new(settings: &CircuitBreaker, cluster: &str, backend: &str) -> Self {
        Self {
            state: AtomicU64::new(State::INITIAL.encode()),
            clock: Clock::new(),
            window: ShardedWindow::new(settings.window),
            policy: Policy {
                failure_ratio: settings.failure_ratio,
                min_requests: u64::from(settings.min_requests),
                open_nanos: saturating_nanos(settings.open_duration),
                trials: settings.half_open_requests.clamp(1, MAX_TRIALS),
            },
            report: Report::new(cluster, backend),
        }
    }

    pub(super) fn state(&self) -> State {
        State::decode(self.state.load(Acquire))
    }

    pub(super) fn is_available(&self, now: Instant) -> bool {
        match self.state() {
            State::Closed { .. } => true,
            State::HalfOpen { taken, .. } => taken < self.policy.trials,
            State::Open { until_ms, .. } => self.clock.nanos(now) / NANOS_PER_MILLI >= until_ms,
        }
    }

    pub(super) fn retry_after(&self, now: Instant) -> Duration {
        match self.state() {
            State::Open { until_ms, .. } => Duration::from_nanos(
                (until_ms * NANOS_PER_MILLI).saturating_sub(self.clock.nanos(now)),
            ),
            State::Closed { .. } | State::HalfOpen { .. } => Duration::ZERO,
        }
    }

    pub(super) fn admit(&self, now: Instant) -> Option<Admission> {
        let mut word = self.state.load(Acquire);
        loop {
            let (next, episode) = match State::decode(word) {
                State::Closed { episode } => {
                    return Some(Admission {
                        episode,
                        trial: false,
                    })
                }
                State::Open { episode, until_ms } => {
                    // Read the clock only here: closed admission, every request's
                    // path, needs no time.
                    if self.clock.nanos(now) / NANOS_PER_MILLI < until_ms {
                        return None;
                    }
                    let episode = State::next_episode(episode);
                    let next = State::HalfOpen {
                        episode,
                        taken: 1,
                        succeeded: 0,
                    };
                    (next, episode)
                }
                State::HalfOpen {
                    episode,
                    taken,
                    succeeded,
                } => {
                    if taken >= self.policy.trials {
                        return None;
                    }
                    let next = State::HalfOpen {
                        episode,
                        taken: taken + 1,
                        succeeded,
                    };
                    (next, episode)
                }
            };
            match self.cas(word, next) {
                Ok(()) => {
                    if matches!(State::decode(word), State::Open { .. }) {
                        self.report.half_opened();
                    }
                    return Some(Admission {
                        episode,
                        trial: true,
                    });
                }
                Err(actual) => word = actual,
            }
        }
    }

    /// A result of a request admitted while closed in `episode`.
    pub(super) fn record_closed(&self, episode: u32, success: bool, now: Instant) {
        let closed = State::Closed { episode }.encode();
        if self.state.load(Acquire) != closed {
            return;
        }
        let nanos = self.clock.nanos(now);
        self.window.add(nanos, Counts::request(!success));
        if success && !self.window.may_hold_events(nanos) {
            // A success can trip only by completing `min_requests` beside failures.
            return;
        }
        let sums = self.window.totals(nanos);
        if !self.policy.trips(sums) {
            return;
        }
        let open = State::Open {
            episode,
            until_ms: self.deadline_ms(nanos),
        };
        // One attempt: if the word moved, another thread already left this closed state.
        if self.cas(closed, open).is_ok() {
            self.report.tripped(sums);
        }
    }

    /// A result of a trial request admitted while half-open in `episode`.
    pub(crate) fn record_trial(&self, episode: u32, success: bool, now: Instant) {
        let nanos = self.clock.nanos(now);
        let next = self.update_half_open(episode, |taken, succeeded| {
            Some(if !success {
                State::Open {
                    episode,
                    until_ms: self.deadline_ms(nanos),
                }
            } else if succeeded + 1 >= self.policy.trials {
                // Cleared before the state says closed, so no closed result can land
                // in the old window first; harmless if the exchange then loses.
                self.window.clear();
                State::Closed { episode }
            } else {
                State::HalfOpen {
                    episode,
                    taken,
                    succeeded: succeeded + 1,
                }
            })
        });
        if let Some(next) = next {
            self.report_trial_outcome(next);
        }
    }

    /// A trial ticket of `episode` was dropped unrecorded: give its slot back.
    pub(crate) fn release_trial(&self, episode: u32) {
        self.update_half_open(episode, |taken, succeeded| {
            (taken > 0).then(|| State::HalfOpen {
                episode,
                taken: taken - 1,
                succeeded,
            })
        });
    }

    /// Moves the half-open `episode` to what `step` makes of its `(taken,
    /// succeeded)`, retrying on contention. Returns the state installed; `None` when
    /// the breaker has left that half-open or `step` declines.
    fn update_half_open(
        &self,
        episode: u32,
        mut step: impl FnMut(u32, u32) -> Option<State>,
    ) -> Option<State> {
        let mut word = self.state.load(Acquire);
        loop {
            let State::HalfOpen {
                episode: current,
                taken,
                succeeded,
            } = State::decode(word)
            else {
                return None;
            };
            if current != episode {
                return None;
            }
            let next = step(taken, succeeded)?;
            match self.cas(word, next) {
                Ok(()) => return Some(next),
                Err(actual) => word = actual,
            }
        }
    }

    fn report_trial_outcome(&self, next: State) {
        match next {
            State::Open { .. } => self.report.reopened(),
            State::Closed { .. } => self.report.closed(),
            State::HalfOpen { .. } => {}
        }
    }

    /// Whole milliseconds, rounded up, at which a breaker opened at `nanos` may try.
    fn deadline_ms(&self, nanos: u64) -> u64 {
        nanos
            .saturating_add(self.policy.open_nanos)
            .div_ceil(NANOS_PER_MILLI)
    }

    fn cas(&self, current: u64, next: State) -> Result<(), u64> {
        self.state
            .compare_exchange(current, next.encode(), AcqRel, Acquire)
            .map(drop)
    }
}
