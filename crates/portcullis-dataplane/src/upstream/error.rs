//! Upstream failures, classified into the SPEC's causes.

use crate::Cause;

/// Why an exchange with an origin failed.
#[derive(Debug, thiserror::Error)]
#[error("{cause}: {detail}")]
pub(crate) struct UpstreamError {
    pub cause: Cause,
    /// Human detail for the log.
    pub detail: String,
    /// The request went out on a pooled connection that had been used before: a failure
    /// before any response byte is then likely the keep-alive race.
    pub reused: bool,
}

impl UpstreamError {
    pub(crate) fn new(cause: Cause, detail: impl Into<String>) -> Self {
        Self {
            cause,
            detail: detail.into(),
            reused: false,
        }
    }

    /// The keep-alive race: a reused pooled connection went away before any response
    /// byte, most likely closed by the origin as idle just as the request arrived.
    /// HTTP allows that close, so it says nothing about the origin's health.
    pub(crate) fn is_keep_alive_race(&self) -> bool {
        self.reused && self.cause == Cause::UpstreamReset
    }
}
