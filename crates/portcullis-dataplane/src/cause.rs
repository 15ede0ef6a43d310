//! The vocabulary of failures: every response Portcullis generates names one `Cause`,
//! and the same name appears in the response, the access log and the metrics.

use http::StatusCode;

/// Why Portcullis answered a request itself instead of relaying the origin's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// No route matches the host and path.
    NoRoute,
    /// Every backend is ejected or unhealthy and the cluster fails closed.
    NoHealthyBackend,
    /// Every usable backend's circuit breaker is open.
    CircuitOpen,
    /// A concurrency limit was reached.
    Overloaded,
    /// The backend's name did not resolve.
    DnsError,
    /// The origin refused the connection or is unreachable.
    ConnectRefused,
    /// No connection within `connect_timeout`.
    ConnectTimeout,
    /// The connection closed or reset before a response head arrived.
    UpstreamReset,
    /// No response head within `response_timeout`.
    ResponseTimeout,
    /// The origin's response is not valid HTTP.
    InvalidResponse,
    /// The upstream TLS handshake failed.
    TlsError,
    /// A client exceeded its rate limit.
    RateLimited,
    /// The request is malformed.
    BadRequest,
    /// The request head did not arrive within `header_timeout`.
    HeaderTimeout,
    /// The request head is larger than `max_header_bytes`.
    HeaderTooLarge,
    /// The request body is larger than `max_body_bytes`.
    BodyTooLarge,
    /// The response body was cut short after its head was sent (logged, never answered).
    ResponseIncomplete,
    /// The client went away before the response was complete (logged, never answered).
    ClientClosed,
}

impl Cause {
    /// Every cause, in a fixed order ([`Cause::index`]).
    pub const ALL: [Cause; 18] = [
        Cause::NoRoute,
        Cause::NoHealthyBackend,
        Cause::CircuitOpen,
        Cause::Overloaded,
        Cause::DnsError,
        Cause::ConnectRefused,
        Cause::ConnectTimeout,
        Cause::UpstreamReset,
        Cause::ResponseTimeout,
        Cause::InvalidResponse,
        Cause::TlsError,
        Cause::RateLimited,
        Cause::BadRequest,
        Cause::HeaderTimeout,
        Cause::HeaderTooLarge,
        Cause::BodyTooLarge,
        Cause::ResponseIncomplete,
        Cause::ClientClosed,
    ];

    /// This cause's position in [`Cause::ALL`], for per-cause tables.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The cause's name in logs, metrics and JSON bodies.
    pub const fn as_str(self) -> &'static str {
        match self {
            Cause::NoRoute => "no_route",
            Cause::NoHealthyBackend => "no_healthy_backend",
            Cause::CircuitOpen => "circuit_open",
            Cause::Overloaded => "overloaded",
            Cause::DnsError => "dns_error",
            Cause::ConnectRefused => "connect_refused",
            Cause::ConnectTimeout => "connect_timeout",
            Cause::UpstreamReset => "upstream_reset",
            Cause::ResponseTimeout => "response_timeout",
            Cause::InvalidResponse => "invalid_response",
            Cause::TlsError => "tls_error",
            Cause::RateLimited => "rate_limited",
            Cause::BadRequest => "bad_request",
            Cause::HeaderTimeout => "header_timeout",
            Cause::HeaderTooLarge => "header_too_large",
            Cause::BodyTooLarge => "body_too_large",
            Cause::ResponseIncomplete => "response_incomplete",
            Cause::ClientClosed => "client_closed",
        }
    }

    /// The status code of the generated response.
    pub const fn status(self) -> StatusCode {
        match self {
            Cause::NoRoute => StatusCode::NOT_FOUND,
            Cause::NoHealthyBackend => StatusCode::SERVICE_UNAVAILABLE,
            Cause::ConnectTimeout | Cause::ResponseTimeout => StatusCode::GATEWAY_TIMEOUT,
            Cause::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Cause::BadRequest => StatusCode::BAD_REQUEST,
            Cause::HeaderTimeout => StatusCode::REQUEST_TIMEOUT,
            Cause::HeaderTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Cause::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            // 499 as nginx logs it: nobody receives this status.
            Cause::ClientClosed => match StatusCode::from_u16(499) {
                Ok(code) => code,
                Err(_) => StatusCode::BAD_REQUEST,
            },
            _ => StatusCode::BAD_GATEWAY,
        }
    }

    /// The RFC 9209 `error` parameter of `Proxy-Status`, when one applies.
    pub const fn proxy_status_error(self) -> Option<&'static str> {
        Some(match self {
            Cause::NoRoute => "destination_not_found",
            Cause::NoHealthyBackend | Cause::CircuitOpen => "destination_unavailable",
            Cause::Overloaded => "connection_limit_reached",
            Cause::DnsError => "dns_error",
            Cause::ConnectRefused => "connection_refused",
            Cause::ConnectTimeout => "connection_timeout",
            Cause::UpstreamReset => "connection_terminated",
            Cause::ResponseTimeout => "http_response_timeout",
            Cause::InvalidResponse => "http_protocol_error",
            Cause::TlsError => "tls_protocol_error",
            Cause::RateLimited => "http_request_denied",
            Cause::ResponseIncomplete => "http_response_incomplete",
            _ => return None,
        })
    }

    /// A sentence for the humans reading the body.
    pub const fn message(self) -> &'static str {
        match self {
            Cause::NoRoute => "No route matches this host and path.",
            Cause::NoHealthyBackend => "Every backend of this service is unhealthy.",
            Cause::CircuitOpen => "The service is failing; requests are paused to let it recover.",
            Cause::Overloaded => "The service is at its concurrency limit.",
            Cause::DnsError => "The origin's name did not resolve.",
            Cause::ConnectRefused => "The origin refused the connection.",
            Cause::ConnectTimeout => "The origin did not accept a connection in time.",
            Cause::UpstreamReset => "The origin closed the connection before answering.",
            Cause::ResponseTimeout => "The origin did not answer in time.",
            Cause::InvalidResponse => "The origin sent a response that is not valid HTTP.",
            Cause::TlsError => "The TLS handshake with the origin failed.",
            Cause::RateLimited => "Too many requests from this client.",
            Cause::BadRequest => "The request is malformed.",
            Cause::HeaderTimeout => "The request head did not arrive in time.",
            Cause::HeaderTooLarge => "The request head is too large.",
            Cause::BodyTooLarge => "The request body is too large.",
            Cause::ResponseIncomplete => "The origin's response was cut short.",
            Cause::ClientClosed => "The client closed the connection.",
        }
    }

    /// Whether the client connection must close after this response: the request's
    /// framing can no longer be trusted, or its body was left unread.
    pub const fn closes_connection(self) -> bool {
        matches!(
            self,
            Cause::BadRequest | Cause::HeaderTimeout | Cause::HeaderTooLarge | Cause::BodyTooLarge
        )
    }

    /// Whether this failure is the origin's fault (counts against its health).
    pub const fn is_gateway_failure(self) -> bool {
        matches!(
            self,
            Cause::DnsError
                | Cause::ConnectRefused
                | Cause::ConnectTimeout
                | Cause::UpstreamReset
                | Cause::ResponseTimeout
                | Cause::InvalidResponse
                | Cause::TlsError
        )
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts of requests and of generated answers by cause, readable at any time.
#[derive(Debug, Default)]
pub struct Tally {
    /// Per worker: every request counts one, on every worker.
    requests: crate::metrics::WorkerCounter,
    causes: [std::sync::atomic::AtomicU64; Cause::ALL.len()],
}

impl Tally {
    pub(crate) fn request(&self) {
        self.requests.increment();
    }

    pub(crate) fn generated(&self, cause: Cause) {
        self.causes[cause.index()].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Requests counted so far.
    pub fn requests(&self) -> u64 {
        self.requests.get()
    }

    /// Every cause seen at least once, with its count.
    pub fn causes(&self) -> impl Iterator<Item = (Cause, u64)> + '_ {
        Cause::ALL
            .iter()
            .map(|&cause| {
                (
                    cause,
                    self.causes[cause.index()].load(std::sync::atomic::Ordering::Relaxed),
                )
            })
            .filter(|&(_, n)| n > 0)
    }
}
