//! One request/response exchange with a backend, in two steps so that a request is
//! only consumed once a connection is ready: a connect failure leaves it in hand for a
//! retry, whatever its method.

use std::time::Duration;

use tokio::time::Instant;

use super::conn::UpstreamConn;
use super::request::{write_body, write_head, HeadNotSent};
use super::response::read_head;
use super::{connect::connect, keep_alive::idle_limit, PooledBody, UpstreamError};
use crate::backend::{Backend, InFlight};
use crate::headers::Appended;
use crate::proxy::ProxiedRequest;
use crate::RequestBody;
use http::header::HOST;
use http::{HeaderValue, Response};
use http_body::Body as _;

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

/// A pooled connection if one is alive (at `now`), else a new one.
pub(crate) async fn checkout(
    backend: &Backend,
    limits: &Limits,
    now: Instant,
) -> Result<Ready, UpstreamError> {
    if let Some(conn) = backend.pool.current().take(now) {
        return Ok(Ready { conn, reused: true });
    }
    // Boxed: connecting (with name resolution) is the rare path, and its large state
    // would otherwise sit in every request's future.
    let stream = Box::pin(connect(&backend.target, limits.connect_timeout)).await?;
    Ok(Ready {
        conn: UpstreamConn::new(stream),
        reused: false,
    })
}

/// HTTP/1.1 requires `Host` (RFC 9112 §3.2) and origins reject requests without it;
/// an HTTP/1.0 client may have sent none. The backend's address stands in, as it does
/// for health checks. Returns whether it was added.
fn default_host(head: &mut ProxiedRequest, backend: &Backend) -> bool {
    if head.headers().contains_key(HOST) {
        return false;
    }
    let Ok(value) = HeaderValue::from_str(&backend.address) else {
        return false;
    };
    head.headers_mut().insert(HOST, value);
    true
}

/// A failed exchange, with the request when it never left, or else its head.
pub(crate) struct Failed {
    pub error: UpstreamError,
    pub unsent: Option<ProxiedRequest>,
    /// The request that was sent, without its body.
    pub sent: Option<ProxiedRequest>,
}

/// A response head, and the request that asked for it without its body (for a retry).
pub(crate) type Answered = (Response<PooledBody>, ProxiedRequest);

/// Sends `request` on `ready` (at `now`) and waits for the response head.
/// `response_timeout` runs from "request sent": a slow upload is the client's pace
/// (bounded by the listener's idle timeout), not the origin's.
pub(crate) async fn exchange(
    ready: Ready,
    backend: &Backend,
    limits: &Limits,
    mut head: ProxiedRequest,
    appended: &Appended,
    in_flight: InFlight,
    now: Instant,
) -> Result<Answered, Failed> {
    let Ready { mut conn, reused } = ready;
    let body = std::mem::replace(head.body_mut(), RequestBody::empty());
    let host_added = default_host(&mut head, backend);
    let tag = |mut error: UpstreamError| {
        error.reused = reused;
        error
    };
    let sent = write_head(&mut conn, &head, appended, body, limits.response_timeout).await;
    let result = match sent {
        Ok((body, chunked)) => {
            let answer = async {
                // Sent with the head, the request left just now; a streamed body only
                // just finished. Streaming is boxed: most requests have no body left
                // to send, and this future is copied into a box per request.
                let sent = if body.is_end_stream() && !chunked {
                    now
                } else {
                    Box::pin(write_body(
                        &mut conn,
                        body,
                        chunked,
                        limits.response_timeout,
                    ))
                    .await?;
                    Instant::now()
                };
                read_head(&mut conn, head.method(), sent + limits.response_timeout).await
            };
            answer.await.map_err(tag)
        }
        Err(HeadNotSent(error, body)) => {
            forget_host(&mut head, host_added);
            *head.body_mut() = body;
            return Err(Failed {
                error: tag(error),
                unsent: Some(head),
                sent: None,
            });
        }
    };
    forget_host(&mut head, host_added);
    match result {
        Ok(response) => {
            let idle = idle_limit(response.keep_alive_timeout, limits.pool_idle_timeout);
            let body = PooledBody::new(
                response.fields,
                conn,
                response.framing,
                response.keep_alive,
                idle,
                in_flight,
            );
            let mut relayed = Response::new(body);
            *relayed.status_mut() = response.status;
            *relayed.version_mut() = response.version;
            Ok((relayed, head))
        }
        Err(error) => Err(Failed {
            error,
            unsent: None,
            sent: Some(head),
        }),
    }
}

/// A retry names its own backend.
fn forget_host(head: &mut ProxiedRequest, added: bool) {
    if added {
        head.headers_mut().remove(HOST);
    }
}
