//! The request path: route, pick a backend, forward (retrying what is safe), relay —
//! or answer with a generated response that names the cause.

mod attempt;
mod forward;
mod prepare;
mod select;

use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderValue, Request, Response, StatusCode};
use portcullis_config::ProxyStatusMode;
use tokio::time::Instant;

use crate::access_log::RequestLog;
use crate::fields::Present;
use crate::headers::{self, PROXY_STATUS, X_REQUEST_ID};
use crate::response::{generated_response, preferred_format, BodyFormat, Generated};
use crate::snapshot::{ConnLimits, Snapshot};
use crate::upstream::PooledBody;
use crate::{Cause, RequestBody, ResponseBody, Shared};

/// A request on its way through the proxy, boxed once: it is handed down through
/// several layers of futures, and a 300-byte value would be copied into each. Once
/// sent, the same box carries the request's head (its body taken) for a retry.
pub(crate) type ProxiedRequest = Box<Request<RequestBody>>;

/// What a connection knows about itself, for every request on it.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub listener: Arc<str>,
    pub peer: SocketAddr,
    /// `peer`'s IP as a header value, for `X-Forwarded-For`.
    pub peer_value: HeaderValue,
    pub limits: ConnLimits,
}

/// A finished request: the response to write and its log record.
pub(crate) struct Outcome {
    pub response: Response<ResponseBody>,
    pub log: Option<Box<RequestLog>>,
    /// The client connection must close after this response.
    pub close: bool,
}

/// Handles one request end to end, up to the response head. `started`: when its head
/// began to be read; `present`: which noted fields it carries.
pub(crate) async fn handle(
    shared: &Shared,
    conn: &ConnInfo,
    request: ProxiedRequest,
    started: Instant,
    present: Present,
) -> Outcome {
    let snapshot = crate::snapshot::current(&shared.snapshot);
    let request_id = match present.may_have(&X_REQUEST_ID) {
        true => headers::request_id(request.headers()),
        false => headers::generate_request_id(),
    };
    let mut log = shared
        .access_log
        .enabled()
        .then(|| RequestLog::start(conn, &request, &request_id));
    let mut routed = None;
    let result = forward::forward(
        &snapshot,
        conn,
        request,
        &request_id,
        &mut routed,
        log.as_deref_mut(),
        started,
    )
    .await;
    let (response, close) = match result {
        Ok(response) => (relayed(&snapshot, response, &request_id), false),
        Err(failure) => {
            count_generated(shared, &snapshot, conn, routed, &failure);
            if let Some(log) = log.as_deref_mut() {
                log.cause = Some(failure.cause);
            }
            (
                generated(&snapshot, &failure, &request_id),
                failure.cause.closes_connection(),
            )
        }
    };
    let status = response.status().as_u16();
    if let Some(view) = snapshot.listeners.get(&*conn.listener) {
        view.metrics.request(routed, status);
    }
    if let Some(cluster) = routed.and_then(|i| snapshot.clusters.get(i)) {
        cluster.tally().request();
        cluster.metrics.duration.record(started.elapsed());
    }
    if let Some(log) = log.as_deref_mut() {
        log.proxy_time = started.elapsed();
    }
    Outcome {
        response,
        log,
        close,
    }
}

/// A generated answer in the making: why, with which status, for whom.
pub(crate) struct Failure {
    pub cause: Cause,
    pub status: StatusCode,
    pub format: BodyFormat,
    /// Seconds after which trying again may succeed, where waiting helps.
    pub retry_after: Option<u64>,
    pub next_hop: Option<String>,
}

impl Failure {
    pub(crate) fn new(cause: Cause, accept: Option<&HeaderValue>) -> Self {
        let format = preferred_format(accept.map(HeaderValue::as_bytes));
        Self {
            cause,
            status: cause.status(),
            format,
            retry_after: None,
            next_hop: None,
        }
    }
}

/// The generated response for a failure, per the snapshot's `Proxy-Status` settings.
pub(crate) fn generated(
    snapshot: &Snapshot,
    failure: &Failure,
    request_id: &HeaderValue,
) -> Response<ResponseBody> {
    let g = Generated {
        cause: failure.cause,
        status: failure.status,
        request_id,
        retry_after: failure.retry_after,
        next_hop: failure
            .next_hop
            .as_deref()
            .filter(|_| snapshot.expose_next_hop),
        format: failure.format,
    };
    let identity = (snapshot.proxy_status != ProxyStatusMode::Off).then_some(&snapshot.identity);
    generated_response(&g, identity)
}

/// Counts a generated response: process-wide, and against its cluster or none.
pub(crate) fn count_generated(
    shared: &Shared,
    snapshot: &Snapshot,
    conn: &ConnInfo,
    cluster: Option<usize>,
    failure: &Failure,
) {
    let status = failure.status.as_u16();
    shared.tally.generated(failure.cause);
    match cluster.and_then(|i| snapshot.clusters.get(i)) {
        Some(cluster) => {
            cluster.tally().generated(failure.cause);
            cluster.metrics.generated.increment(failure.cause, status);
        }
        None => {
            if let Some(view) = snapshot.listeners.get(&*conn.listener) {
                view.metrics
                    .unrouted_generated
                    .increment(failure.cause, status);
            }
        }
    }
}

/// The origin's response on its way to the client: the request id echoed,
/// `Proxy-Status` when configured to always be sent. The origin's own fields travel
/// with the body, its hop-by-hop ones already gone, and so does the request id (see
/// `upstream::origin_fields`): the map holds at most `Proxy-Status`, and is usually
/// never allocated.
fn relayed(
    snapshot: &Snapshot,
    mut response: Response<PooledBody>,
    request_id: &HeaderValue,
) -> Response<ResponseBody> {
    response.body_mut().echo_request_id(request_id.clone());
    if snapshot.proxy_status == ProxyStatusMode::Always {
        let status = response.status().as_u16();
        let value = snapshot.identity.for_relayed(status, None);
        response.headers_mut().insert(PROXY_STATUS, value);
    }
    response.map(ResponseBody::Upstream)
}
