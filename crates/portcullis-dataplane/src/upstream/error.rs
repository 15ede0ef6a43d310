//! Upstream failures, classified into the SPEC's causes.

use std::error::Error as StdError;

use crate::{BodyError, Cause};

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

    /// Classifies an error from hyper's client connection.
    pub(crate) fn from_hyper(e: &hyper::Error, reused: bool) -> Self {
        let cause = if let Some(body) = find_source::<BodyError>(e) {
            match body {
                BodyError::TooLarge => Cause::BodyTooLarge,
                BodyError::Malformed => Cause::BadRequest,
                BodyError::ClientClosed => Cause::ClientClosed,
            }
        } else if e.is_parse() || e.is_parse_status() || e.is_parse_too_large() {
            Cause::InvalidResponse
        } else {
            // Closed before the head was complete, canceled before it was sent, reset,
            // broken pipe: the connection went away under the request.
            Cause::UpstreamReset
        };
        Self {
            cause,
            detail: describe(e),
            reused,
        }
    }
}

fn find_source<T: StdError + Copy + 'static>(e: &hyper::Error) -> Option<T> {
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(*found);
        }
        source = err.source();
    }
    None
}

/// The error and its sources, on one line.
fn describe(e: &hyper::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(err) = source {
        text.push_str(": ");
        text.push_str(&err.to_string());
        source = err.source();
    }
    text
}
