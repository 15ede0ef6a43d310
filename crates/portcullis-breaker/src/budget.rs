//! The retry budget of one cluster.
//!
//! # Design
//! Retries may add at most `budget_percent` of the requests seen, or
//! `min_retries_per_second`, whichever is more, over a rolling [`BUDGET_WINDOW`]
//! (ten one-second buckets). So with 100 requests in the window and 20 % budget, 20
//! retries may go; with little traffic the floor allows
//! `min_retries_per_second × 10` retries per window, as in Finagle's and Linkerd's
//! budgets. The budget bounds the extra load retries can put on a struggling cluster:
//! without it, every failure multiplies into `attempts + 1` requests exactly when the
//! origin can least afford them.
//!
//! Spending is a check-and-add on the current bucket in one `compare_exchange`, so
//! concurrent callers cannot overspend; the window rolls by itself as time passes.
//! Every request is counted and retries are rare: requests go to a window split by
//! thread, which only a retry sums.

use std::time::Duration;

use metrics::{counter, Counter};
use portcullis_config::Retry;
use tokio::time::Instant;

use crate::cause::RetryCause;
use crate::clock::Clock;
use crate::names::{
    LABEL_CAUSE, LABEL_CLUSTER, LABEL_OUTCOME, OUTCOME_BUDGET_EXHAUSTED, OUTCOME_SENT,
    RETRIES_TOTAL,
};
use crate::sharded::ShardedWindow;
use crate::window::{Counts, Window};

/// The span the budget is measured over.
pub const BUDGET_WINDOW: Duration = Duration::from_secs(10);

/// The retry budget of one cluster (`clusters.*.retry`).
#[derive(Debug)]
pub struct RetryBudget {
    clock: Clock,
    /// Original requests.
    requests: ShardedWindow,
    /// Retries spent.
    spent: Window,
    percent: u64,
    /// `min_retries_per_second` over the whole window.
    floor: u64,
    /// `portcullis_retries_total`, indexed by [`RetryCause::index`], then sent /
    /// budget exhausted.
    retries: [[Counter; 2]; 3],
}

impl RetryBudget {
    /// A full budget for `cluster`; registers the six `portcullis_retries_total`
    /// handles (three causes × two outcomes).
    pub fn new(retry: &Retry, cluster: &str) -> Self {
        let handle = |cause: RetryCause, outcome: &'static str| {
            counter!(
                RETRIES_TOTAL,
                LABEL_CLUSTER => cluster.to_owned(),
                LABEL_CAUSE => cause.as_str(),
                LABEL_OUTCOME => outcome,
            )
        };
        let pair = |cause| {
            [
                handle(cause, OUTCOME_SENT),
                handle(cause, OUTCOME_BUDGET_EXHAUSTED),
            ]
        };
        Self {
            clock: Clock::new(),
            requests: ShardedWindow::new(BUDGET_WINDOW),
            spent: Window::new(BUDGET_WINDOW),
            percent: u64::from(retry.budget_percent),
            floor: u64::from(retry.min_retries_per_second) * BUDGET_WINDOW.as_secs(),
            retries: RetryCause::ALL.map(pair),
        }
    }

    /// Counts one original request (not a retry): it earns `budget_percent` of a retry.
    pub fn record_request(&self, now: Instant) {
        let nanos = self.clock.nanos(now);
        self.requests.add(nanos, Counts::request(false));
    }

    /// Spends one retry if the budget allows: `true` (counted as `outcome="sent"`) or
    /// `false` when over budget (counted as `outcome="budget_exhausted"`).
    pub fn try_retry(&self, now: Instant, cause: RetryCause) -> bool {
        let nanos = self.clock.nanos(now);
        let allowed = self.allowed(self.requests.totals(nanos).requests);
        let sent = self
            .spent
            .add_if(nanos, Counts::event(), |spent| spent.events < allowed);
        self.retries[cause.index()][usize::from(!sent)].increment(1);
        sent
    }

    /// Retries the window allows for `requests` original requests.
    fn allowed(&self, requests: u64) -> u64 {
        (requests.saturating_mul(self.percent) / 100).max(self.floor)
    }
}
