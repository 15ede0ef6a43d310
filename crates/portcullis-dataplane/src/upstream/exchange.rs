//! One request/response exchange with a backend, in two steps so that a request is
//! only consumed once a connection is ready: a connect failure leaves it in hand for a
//! retry, whatever its method.

use std::sync::Arc;
use std::time::Duration;

use http::header::HOST;
use http::{HeaderValue, Request, Response};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

use super::{connect::connect, keep_alive::idle_limit, PooledBody, UpstreamError};
use crate::backend::{Backend, InFlight};
use crate::{Cause, RequestBody};

/// A cluster's timeouts, as the exchange needs them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub pool_idle_timeout: Duration,
}

/// A connection ready for one request.
pub(crate) struct Ready {
    sender: SendRequest<RequestBody>,
    /// It carried a request before: a failure before any response byte is then most
    /// likely the origin closing it as idle (the keep-alive race).
    reused: bool,
}

/// A pooled connection if one is alive, else a new one.
pub(crate) async fn checkout(backend: &Backend, limits: &Limits) -> Result<Ready, UpstreamError> {
    while let Some(mut sender) = backend.pool.current().take() {
        // One returned before its connection task caught up is awaited; a dead one skipped.
        if sender.ready().await.is_ok() {
            return Ok(Ready {
                sender,
                reused: true,
            });
        }
    }
    let stream = connect(&backend.target, limits.connect_timeout).await?;
    let (sender, connection) = http1::Builder::new()
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|e| UpstreamError::from_hyper(&e, false))?;
    tokio::spawn(async move {
        // The connection's end is seen by its sender; nothing to report here.
        let _ = connection.await;
    });
    Ok(Ready {
        sender,
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

/// Sends `request` on `ready` and waits for the response head.
pub(crate) async fn exchange(
    ready: Ready,
    backend: &Arc<Backend>,
    limits: &Limits,
    request: Request<RequestBody>,
    in_flight: InFlight,
) -> Result<Response<PooledBody>, Failed> {
    let Ready { mut sender, reused } = ready;
    let mut request = request;
    let host_added = default_host(&mut request, backend);
    let body_sent = request.body_mut().notify_when_sent();
    let send = sender.try_send_request(request);
    tokio::pin!(send);
    // The response timeout runs from "request sent": a slow upload is the client's
    // pace (bounded by the listener's idle timeout), not the origin's.
    let early = match body_sent {
        Some(sent) => tokio::select! {
            result = &mut send => Some(result),
            () = sent.notified() => None,
        },
        None => None,
    };
    let sent = match early {
        Some(result) => Ok(result),
        None => tokio::time::timeout(limits.response_timeout, send).await,
    };
    let response = match sent {
        Ok(Ok(response)) => response,
        Ok(Err(mut e)) => {
            let mut unsent = e.take_message();
            if let Some(unsent) = unsent.as_mut().filter(|_| host_added) {
                unsent.headers_mut().remove(HOST); // a retry names its own backend
            }
            let error = UpstreamError::from_hyper(e.error(), reused);
            return Err(Failed { error, unsent });
        }
        Err(_) => {
            let mut error = UpstreamError::new(Cause::ResponseTimeout, "no response head in time");
            error.reused = reused;
            return Err(Failed {
                error,
                unsent: None,
            });
        }
    };
    let limit = idle_limit(response.headers(), limits.pool_idle_timeout);
    let backend = Arc::clone(backend);
    Ok(response.map(|body| PooledBody::new(body, backend, Some(sender), limit, in_flight)))
}
