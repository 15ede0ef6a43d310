//! Settings shared by the integration tests.

// Each test file uses its own share of these helpers.
#![allow(dead_code)]

use std::time::Duration;

use portcullis_config::{CircuitBreaker, Retry, RetryOn};

/// `min_requests` of [`breaker_settings`].
pub const MIN_REQUESTS: u32 = 4;
/// `open_duration` of [`breaker_settings`].
pub const OPEN: Duration = Duration::from_secs(5);
/// `window` of [`breaker_settings`].
pub const WINDOW: Duration = Duration::from_secs(10);
/// `half_open_requests` of [`breaker_settings`].
pub const TRIALS: u32 = 3;

/// Ratio 0.5 over at least 4 requests in 10 s; open 5 s; 3 trials.
pub fn breaker_settings() -> CircuitBreaker {
    CircuitBreaker {
        max_requests: 1024,
        max_requests_per_backend: None,
        failure_ratio: 0.5,
        min_requests: MIN_REQUESTS,
        window: WINDOW,
        open_duration: OPEN,
        half_open_requests: TRIALS,
        status: 502,
    }
}

/// A retry policy with the given budget.
pub fn retry_settings(budget_percent: u32, min_retries_per_second: u32) -> Retry {
    Retry {
        attempts: 2,
        retry_on: RetryOn {
            connect_failure: true,
            reset_before_response: true,
            gateway_error: true,
        },
        budget_percent,
        min_retries_per_second,
        max_retry_body_bytes: 65536,
    }
}
