//! Portcullis short-circuit decisions: per-backend circuit breakers, concurrency
//! limits and the per-cluster retry budget.
//!
//! Everything here runs on the request path, so nothing locks or allocates after
//! construction: state lives in atomics, changed by `compare_exchange`, and metric
//! handles are registered once when a breaker or budget is made.
//!
//! # Layout
//! - `breaker`: [`Breaker`], its state machine (closed, open, half-open) and
//!   [`Ticket`]s.
//! - `limit`: [`ConcurrencyLimit`] and its [`LimitGuard`].
//! - `budget`: [`RetryBudget`]; `cause`: [`RetryCause`].
//! - `window`: the lock-free rolling window both breakers and budgets count in;
//!   `sharded`: that window split by thread, for what every request adds to.
//! - [`per_thread`]: one copy of a value per thread slot, which the data plane's
//!   per-worker state uses too.
//! - `clock`: `tokio::time` instants as integers, so tests can pause time.
//! - [`names`]: the metric names and label values.

mod breaker;
mod budget;
mod cause;
mod clock;
mod limit;
pub mod names;
pub mod per_thread;
mod sharded;
mod window;

pub use breaker::{Breaker, BreakerState, Ticket};
pub use budget::{RetryBudget, BUDGET_WINDOW};
pub use cause::RetryCause;
pub use limit::{ConcurrencyLimit, LimitGuard};
