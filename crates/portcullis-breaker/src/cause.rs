//! Why a retry is wanted: the `cause` label of `portcullis_retries_total` and the
//! entries of `retry.retry_on`.

use portcullis_config::RetryOn;

/// A failure that may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryCause {
    /// The connection could not be made (refused, timed out, DNS). The origin cannot
    /// have seen the request, so any method may retry.
    ConnectFailure,
    /// The connection closed or reset before a response head. Any method may retry if
    /// it was a reused pooled connection and no response byte arrived (the keep-alive
    /// race); otherwise only idempotent ones.
    ResetBeforeResponse,
    /// The origin answered 502, 503 or 504. Idempotent methods only.
    GatewayError,
}

impl RetryCause {
    /// Every cause, in label order.
    pub const ALL: [Self; 3] = [
        Self::ConnectFailure,
        Self::ResetBeforeResponse,
        Self::GatewayError,
    ];

    /// The label value: `connect_failure`, `reset_before_response` or `gateway_error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConnectFailure => "connect_failure",
            Self::ResetBeforeResponse => "reset_before_response",
            Self::GatewayError => "gateway_error",
        }
    }

    /// Whether `retry_on` lists this cause.
    pub fn is_enabled(self, retry_on: &RetryOn) -> bool {
        match self {
            Self::ConnectFailure => retry_on.connect_failure,
            Self::ResetBeforeResponse => retry_on.reset_before_response,
            Self::GatewayError => retry_on.gateway_error,
        }
    }

    /// Position in [`RetryCause::ALL`], for tables of per-cause handles.
    pub(crate) fn index(self) -> usize {
        match self {
            Self::ConnectFailure => 0,
            Self::ResetBeforeResponse => 1,
            Self::GatewayError => 2,
        }
    }
}
