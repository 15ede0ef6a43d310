//! Metric names and label values, exactly as SPEC.md's metrics table spells them.
//!
//! Kept in one place so a rename is one edit and a reviewer can diff this file against
//! the contract.

/// Gauge {cluster, backend}: 0 closed, 1 half-open, 2 open.
pub const CIRCUIT_STATE: &str = "portcullis_circuit_state";
/// Counter {cluster, backend, to}: breaker transitions, `to` one of [`TO_CLOSED`],
/// [`TO_HALF_OPEN`], [`TO_OPEN`].
pub const CIRCUIT_TRANSITIONS_TOTAL: &str = "portcullis_circuit_transitions_total";
/// Counter {cluster, cause, outcome}: retries sent or refused by the budget.
pub const RETRIES_TOTAL: &str = "portcullis_retries_total";

/// Label key: the cluster's name from the config.
pub const LABEL_CLUSTER: &str = "cluster";
/// Label key: the backend's address as written in the config.
pub const LABEL_BACKEND: &str = "backend";
/// Label key of [`CIRCUIT_TRANSITIONS_TOTAL`]: the state entered.
pub const LABEL_TO: &str = "to";
/// Label key of [`RETRIES_TOTAL`]: why the retry was wanted.
pub const LABEL_CAUSE: &str = "cause";
/// Label key of [`RETRIES_TOTAL`]: [`OUTCOME_SENT`] or [`OUTCOME_BUDGET_EXHAUSTED`].
pub const LABEL_OUTCOME: &str = "outcome";

/// `to` value: the breaker closed.
pub const TO_CLOSED: &str = "closed";
/// `to` value: the breaker went half-open.
pub const TO_HALF_OPEN: &str = "half_open";
/// `to` value: the breaker opened.
pub const TO_OPEN: &str = "open";

/// `outcome` value: the budget allowed the retry.
pub const OUTCOME_SENT: &str = "sent";
/// `outcome` value: the budget refused the retry.
pub const OUTCOME_BUDGET_EXHAUSTED: &str = "budget_exhausted";
