//! One request/response exchange with a backend over a pooled or new connection.

use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

use super::{connect::connect, keep_alive::idle_limit, PooledBody, UpstreamError};
use crate::cluster::{Backend, InFlight};
use crate::{Cause, RequestBody};

/// A cluster's timeouts, as the exchange needs them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub pool_idle_timeout: Duration,
}

/// Sends `request` to `backend` and waits for the response head.
pub(crate) async fn send(
    backend: &Arc<Backend>,
    limits: &Limits,
    request: Request<RequestBody>,
    in_flight: InFlight,
) -> Result<Response<PooledBody>, UpstreamError> {
    let (mut sender, reused) = match pooled(backend).await {
        Some(sender) => (sender, true),
        None => (handshake(backend, limits).await?, false),
    };
    let sent = tokio::time::timeout(limits.response_timeout, sender.send_request(request)).await;
    let response = match sent {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => return Err(UpstreamError::from_hyper(&e, reused)),
        Err(_) => {
            let mut error = UpstreamError::new(Cause::ResponseTimeout, "no response head in time");
            error.reused = reused;
            return Err(error);
        }
    };
    let limit = idle_limit(response.headers(), limits.pool_idle_timeout);
    let backend = Arc::clone(backend);
    Ok(response.map(|body| PooledBody::new(body, backend, Some(sender), limit, in_flight)))
}

/// A pooled connection that is ready for a request. One that was returned before its
/// connection task caught up is awaited; one that died meanwhile is skipped.
async fn pooled(backend: &Backend) -> Option<SendRequest<RequestBody>> {
    while let Some(mut sender) = backend.pool.take() {
        if sender.ready().await.is_ok() {
            return Some(sender);
        }
    }
    None
}

async fn handshake(
    backend: &Backend,
    limits: &Limits,
) -> Result<SendRequest<RequestBody>, UpstreamError> {
    let stream = connect(&backend.target, limits.connect_timeout).await?;
    let (sender, connection) = http1::Builder::new()
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|e| UpstreamError::from_hyper(&e, false))?;
    tokio::spawn(async move {
        // The connection's end is seen by its sender; nothing to report here.
        let _ = connection.await;
    });
    Ok(sender)
}
