//! Short-circuit decisions as errors, named with the SPEC's cause vocabulary.

use std::time::Duration;

/// Why a request was refused before reaching any origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShortCircuit {
    /// Every usable backend's breaker is open: cause `circuit_open`.
    #[error("every usable backend's circuit breaker is open")]
    CircuitOpen {
        /// Until the first breaker may half-open: the `Retry-After`.
        retry_after: Duration,
    },
    /// A concurrency limit is full: cause `overloaded`.
    #[error("{max} requests already in flight")]
    Overloaded {
        /// The limit that was reached.
        max: usize,
    },
}

impl ShortCircuit {
    /// The cause name in responses, logs and metrics: `circuit_open` or `overloaded`.
    pub fn cause(&self) -> &'static str {
        match self {
            Self::CircuitOpen { .. } => "circuit_open",
            Self::Overloaded { .. } => "overloaded",
        }
    }

    /// How long a client should wait, where waiting helps.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::CircuitOpen { retry_after } => Some(*retry_after),
            Self::Overloaded { .. } => None,
        }
    }

    /// Whether another backend may still take the request: never for these, they are
    /// decided before an origin is tried.
    pub fn is_retryable(&self) -> bool {
        false
    }
}
