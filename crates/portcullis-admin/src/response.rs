//! Building the admin listener's responses. Every one is small, complete in memory,
//! and marked `Cache-Control: no-store`: it describes the process right now.

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

/// The body type of every admin response.
pub(crate) type Body = Full<Bytes>;

/// The Prometheus text exposition format, version 0.0.4.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const PLAIN_TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";
const HTML: &str = "text/html; charset=utf-8";

/// The status page loads nothing from anywhere but its own origin's API; the policy
/// makes a future external asset fail loudly instead of leaking the operator's view.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
    style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// A response with `content_type` and `body`.
pub(crate) fn with_type(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Plain text, for probes and errors.
pub(crate) fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    with_type(status, PLAIN_TEXT, body)
}

/// The Prometheus exposition.
pub(crate) fn prometheus(body: String) -> Response<Body> {
    with_type(StatusCode::OK, PROMETHEUS_TEXT, body)
}

/// `value` as JSON; a value that does not serialize is a bug, answered with 500.
pub(crate) fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(body) => with_type(status, JSON, body),
        Err(error) => {
            tracing::error!(%error, "admin: response does not serialize");
            text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
        }
    }
}

/// The status page.
pub(crate) fn html(body: &'static str) -> Response<Body> {
    let mut response = with_type(StatusCode::OK, HTML, body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// 404 for any path the admin listener does not serve.
pub(crate) fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found\n")
}

/// 405 with the methods the path does allow.
pub(crate) fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// 401 asking for a bearer token.
pub(crate) fn unauthorized() -> Response<Body> {
    #[derive(Serialize)]
    struct Unauthorized {
        error: &'static str,
    }
    let body = Unauthorized {
        error: "missing or wrong bearer token",
    };
    let mut response = json(StatusCode::UNAUTHORIZED, &body);
    response.headers_mut().insert(
        HeaderName::from_static("www-authenticate"),
        HeaderValue::from_static("Bearer realm=\"portcullis-admin\""),
    );
    response
}
