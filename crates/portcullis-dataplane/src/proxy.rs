//! The request path: route, pick a backend, forward, relay — or answer with a
//! generated response that names the cause.

use std::net::SocketAddr;
use std::sync::Arc;

use http::header::{ACCEPT, CONTENT_LENGTH, HOST};
use http::{HeaderValue, Request, Response, Uri, Version};
use portcullis_config::ProxyStatusMode;
use tokio::time::Instant;

use crate::access_log::RequestLog;
use crate::cluster::{Backend, Cluster};
use crate::headers::{self, Forwarding, PROXY_STATUS, X_REQUEST_ID};
use crate::response::{generated_response, preferred_format, Generated};
use crate::routing::normalize_host;
use crate::snapshot::{ConnLimits, ListenerView, Snapshot};
use crate::upstream::{self, UpstreamError};
use crate::{Cause, RequestBody, ResponseBody, Shared};

/// What a connection knows about itself, for every request on it.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub listener: Arc<str>,
    pub peer: SocketAddr,
    pub limits: ConnLimits,
}

/// A finished request: the response to write and its log record.
pub(crate) struct Outcome {
    pub response: Response<ResponseBody>,
    pub log: Option<Box<RequestLog>>,
    /// The client connection must close after this response.
    pub close: bool,
}

/// Handles one request end to end, up to the response head.
pub(crate) async fn handle(
    shared: &Shared,
    conn: &ConnInfo,
    request: Request<RequestBody>,
) -> Outcome {
    let started = Instant::now();
    let snapshot = shared.snapshot.load_full();
    let request_id = headers::request_id(request.headers());
    let mut log = shared
        .access_log
        .enabled()
        .then(|| RequestLog::start(conn, &request, &request_id));
    let result = forward(&snapshot, conn, request, &request_id, log.as_deref_mut()).await;
    let (response, close) = match result {
        Ok(response) => (
            finish_relayed(&snapshot, response, &request_id, log.as_deref_mut()),
            false,
        ),
        Err(failure) => {
            if let Some(log) = log.as_deref_mut() {
                log.cause = Some(failure.cause);
            }
            let close = failure.cause.closes_connection();
            (generated(&snapshot, &failure, &request_id), close)
        }
    };
    if let Some(log) = log.as_deref_mut() {
        log.proxy_time = started.elapsed();
    }
    Outcome {
        response,
        log,
        close,
    }
}

/// A generated answer in the making: why, for whom, and what to say about the backend.
pub(crate) struct Failure {
    pub cause: Cause,
    pub format: crate::response::BodyFormat,
    pub retry_after: Option<u64>,
    pub next_hop: Option<String>,
}

impl Failure {
    pub(crate) fn new(cause: Cause, accept: Option<&HeaderValue>) -> Self {
        let format = preferred_format(accept.map(HeaderValue::as_bytes));
        Self {
            cause,
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

async fn forward(
    snapshot: &Snapshot,
    conn: &ConnInfo,
    mut request: Request<RequestBody>,
    request_id: &HeaderValue,
    mut log: Option<&mut RequestLog>,
) -> Result<Response<crate::upstream::PooledBody>, Failure> {
    let accept = request.headers().get(ACCEPT).cloned();
    let fail = |cause| Failure::new(cause, accept.as_ref());
    let view = snapshot
        .listeners
        .get(&*conn.listener)
        .ok_or_else(|| fail(Cause::NoRoute))?;
    let cluster = route(snapshot, view, &request).ok_or_else(|| fail(Cause::NoRoute))?;
    if let Some(log) = log.as_deref_mut() {
        log.cluster = Some(Arc::clone(cluster));
    }
    if exceeds_body_limit(&request, view.limits.max_body_bytes) {
        return Err(fail(Cause::BodyTooLarge));
    }
    let key = cluster.select_key(request.headers(), conn.peer.ip());
    let backend = cluster
        .select(key, &mut |_| true)
        .ok_or_else(|| fail(Cause::NoHealthyBackend))?;
    if let Some(log) = log.as_deref_mut() {
        log.backend = Some(Arc::clone(backend));
        log.attempts = 1;
    }
    prepare_upstream(snapshot, view, conn, &mut request, request_id);
    let upstream_started = Instant::now();
    let result = upstream::send(backend, &cluster.limits, request, backend.start_request()).await;
    if let Some(log) = log {
        log.upstream_time = Some(upstream_started.elapsed());
    }
    result.map_err(|e| upstream_failure(e, backend, accept.as_ref()))
}

fn upstream_failure(e: UpstreamError, backend: &Backend, accept: Option<&HeaderValue>) -> Failure {
    tracing::debug!(backend = %backend.address, error = %e, "upstream exchange failed");
    let mut failure = Failure::new(e.cause, accept);
    failure.next_hop = Some(backend.address.clone());
    failure
}

fn route<'s>(
    snapshot: &'s Snapshot,
    view: &ListenerView,
    request: &Request<RequestBody>,
) -> Option<&'s Arc<Cluster>> {
    let host = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    let index = view
        .routes
        .lookup(&normalize_host(host), request.uri().path())?;
    snapshot.clusters.get(index)
}

fn exceeds_body_limit(request: &Request<RequestBody>, limit: Option<u64>) -> bool {
    let Some(limit) = limit else { return false };
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    declared.is_some_and(|length| length > limit)
}

/// Rewrites a client request into the upstream request: origin-form URI, HTTP/1.1,
/// hop-by-hop headers gone, forwarding headers and the request id set.
fn prepare_upstream(
    snapshot: &Snapshot,
    view: &ListenerView,
    conn: &ConnInfo,
    request: &mut Request<RequestBody>,
    request_id: &HeaderValue,
) {
    let authority = request.uri().authority().cloned();
    let via = match request.version() {
        Version::HTTP_2 => &snapshot.via_http2,
        Version::HTTP_10 => &snapshot.via_http10,
        _ => &snapshot.via_http11,
    };
    if let Some(path) = request.uri().path_and_query().cloned() {
        *request.uri_mut() = Uri::from(path);
    }
    *request.version_mut() = Version::HTTP_11;
    let headers = request.headers_mut();
    headers::remove_hop_by_hop(headers);
    if !headers.contains_key(HOST) {
        if let Some(value) = authority.and_then(|a| HeaderValue::from_str(a.as_str()).ok()) {
            headers.insert(HOST, value);
        }
    }
    let peer = conn.peer.ip();
    let host = headers.get(HOST).cloned();
    let forwarding = Forwarding {
        peer,
        trusted: view.trusted_proxies.iter().any(|net| net.contains(&peer)),
        proto: "http",
        host: host.as_ref(),
        via,
    };
    headers::add_forwarding(headers, &forwarding);
    headers.insert(X_REQUEST_ID, request_id.clone());
}

fn finish_relayed(
    snapshot: &Snapshot,
    response: Response<crate::upstream::PooledBody>,
    request_id: &HeaderValue,
    log: Option<&mut RequestLog>,
) -> Response<ResponseBody> {
    let mut response = response.map(ResponseBody::Upstream);
    let status = response.status().as_u16();
    if let Some(log) = log {
        log.upstream_status = Some(status);
    }
    let headers = response.headers_mut();
    headers::remove_hop_by_hop(headers);
    headers.insert(X_REQUEST_ID, request_id.clone());
    if snapshot.proxy_status == ProxyStatusMode::Always {
        headers.insert(PROXY_STATUS, snapshot.identity.for_relayed(status, None));
    }
    response
}
