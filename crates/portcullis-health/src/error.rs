//! Why a probe failed.

use std::time::Duration;

/// Why an active probe failed. Its `Display` is what `last_check().error` shows.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The backend's host name did not resolve (or resolved to nothing).
    #[error("dns: {0}")]
    Resolve(#[source] std::io::Error),
    /// No TCP connection: refused, unreachable, ...
    #[error("connect: {0}")]
    Connect(#[source] std::io::Error),
    /// No connection and response head within the check's `timeout`.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The HTTP exchange failed: the origin closed, reset or sent garbage.
    #[error("http: {0}")]
    Http(#[source] hyper::Error),
    /// The response status is not in `expect_status`.
    #[error("status {0}")]
    Status(u16),
    /// The probe request could not be built from the config (bad path or host).
    #[error("invalid probe request: {0}")]
    Request(#[source] http::Error),
}
