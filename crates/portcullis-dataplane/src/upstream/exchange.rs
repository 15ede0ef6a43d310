//! One request/response exchange with a backend, in two steps so that a request is
//! only consumed once a connection is ready: a connect failure leaves it in hand for a
//! retry, whatever its method.

use std::sync::Arc;
use std::time::Duration;

use super::conn::UpstreamConn;
use super::request::{write_body, write_head, HeadNotSent};
use super::response::read_head;
use super::{connect::connect, keep_alive::idle_limit, PooledBody, UpstreamError};
use crate::backend::{Backend, InFlight};
use crate::RequestBody;
use http::header::HOST;
use http::{HeaderValue, Request, Response};

/// A cluster's timeouts, as the exchange needs them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub pool_idle_timeout: Duration,
}

/// A connection ready for one request.
pub(crate) struct Ready {
    conn: UpstreamConn,
    /// It carried a request before: a failure before any response byte is then most
    /// likely the origin closing it as idle (the keep-alive race).
    reused: bool,
}

/// A pooled connection if one is alive, else a new one.
pub(crate) async fn checkout(backend: &Backend, limits: &Limits) -> Result<Ready, UpstreamError> {
    if let Some(conn) = backend.pool.current().take() {
        return Ok(Ready { conn, reused: true });
    }
    let stream = connect(&backend.target, limits.connect_timeout).await?;
    Ok(Ready {
        conn: UpstreamConn::new(stream),
        reused: false,
    })
}

/// HTTP/1.1 requires `Host` (RFC 9112 §3.2) and origins reject requests without it;
/// an HTTP/1.0 client may have sent none. The backend's address stands in, as it does
/// for health checks. Returns whether it was added.
fn default_host(request: &mut Request<RequestBody>, backend: &Backend) -> bool {
    if request.headers().contains_key(HOST) {
        return false;
    }
    let Ok(value) = HeaderValue::from_str(&backend.address) else {
        return false;
    };
    request.headers_mut().insert(HOST, value);
    true
}

/// A failed exchange, with the request when it never left.
pub(crate) struct Failed {
    pub error: UpstreamError,
    pub unsent: Option<Request<RequestBody>>,
}

/// Sends `request` on `ready` and waits for the response head. `response_timeout`
/// runs from "request sent": a slow upload is the client's pace (bounded by the
/// listener's idle timeout), not the origin's.
pub(crate) async fn exchange(
    ready: Ready,
    backend: &Arc<Backend>,
    limits: &Limits,
    mut request: Request<RequestBody>,
    in_flight: InFlight,
) -> Result<Response<PooledBody>, Failed> {
    let Ready { mut conn, reused } = ready;
    let host_added = default_host(&mut request, backend);
    let method = request.method().clone();
    let tag = |mut error: UpstreamError| {
        error.reused = reused;
        error
    };
    let (body, chunked) = match write_head(&mut conn, request, limits.response_timeout).await {
        Ok(sent) => sent,
        Err(HeadNotSent(error, mut unsent)) => {
            if host_added {
                unsent.headers_mut().remove(HOST); // a retry names its own backend
            }
            return Err(Failed {
                error: tag(error),
                unsent: Some(unsent),
            });
        }
    };
    let sent = async {
        write_body(&mut conn, body, chunked, limits.response_timeout).await?;
        read_head(&mut conn, &method, limits.response_timeout).await
    };
    let head = sent.await.map_err(|error| Failed {
        error: tag(error),
        unsent: None,
    })?;
    let idle = idle_limit(head.response.headers(), limits.pool_idle_timeout);
    let body = PooledBody::new(
        conn,
        head.framing,
        Arc::clone(backend),
        head.keep_alive,
        idle,
        in_flight,
    );
    Ok(head.response.map(|()| body))
}
