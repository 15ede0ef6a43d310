//! Rewrites a client request into the upstream request.

use http::header::HOST;
use http::{HeaderValue, Request, Uri, Version};

use super::ConnInfo;
use crate::headers::{self, Appended, Forwarding};
use crate::snapshot::{ListenerView, Snapshot};
use crate::RequestBody;

/// Origin-form URI, HTTP/1.1, hop-by-hop headers gone. Returns the forwarding headers
/// and the request id, which are written after the request's own headers.
pub(super) fn prepare_upstream(
    snapshot: &Snapshot,
    view: &ListenerView,
    conn: &ConnInfo,
    request: &mut Request<RequestBody>,
    request_id: &HeaderValue,
) -> Appended {
    let authority = request.uri().authority().cloned();
    let via = match request.version() {
        Version::HTTP_2 => &snapshot.via_http2,
        Version::HTTP_10 => &snapshot.via_http10,
        _ => &snapshot.via_http11,
    };
    if request.uri().authority().is_some() {
        if let Some(path) = request.uri().path_and_query().cloned() {
            *request.uri_mut() = Uri::from(path);
        }
    }
    *request.version_mut() = Version::HTTP_11;
    let headers = request.headers_mut();
    headers::remove_hop_by_hop(headers);
    let host = match headers.get(HOST) {
        Some(host) => Some(host.clone()),
        None => {
            let from_target = authority.and_then(|a| HeaderValue::from_str(a.as_str()).ok());
            if let Some(value) = &from_target {
                headers.insert(HOST, value.clone());
            }
            from_target
        }
    };
    let peer = conn.peer.ip();
    let forwarding = Forwarding {
        trusted: view.trusted_proxies.iter().any(|net| net.contains(&peer)),
        peer: &conn.peer_value,
        proto: "http",
        host: host.as_ref(),
        via,
    };
    headers::forwarding(headers, &forwarding, request_id)
}
