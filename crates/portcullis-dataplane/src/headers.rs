//! Header rules on the way through: hop-by-hop removal in both directions, forwarding
//! headers, and request ids.

use std::net::IpAddr;

use http::header::{
    CONNECTION, CONTENT_LENGTH, HOST, PROXY_AUTHENTICATE, TE, TRAILER, TRANSFER_ENCODING, UPGRADE,
    VIA,
};
use http::{HeaderMap, HeaderName, HeaderValue};

/// RFC 9209 `Proxy-Status`.
pub(crate) const PROXY_STATUS: HeaderName = HeaderName::from_static("proxy-status");
/// Request id, kept when valid, echoed on the response.
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub(crate) const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub(crate) const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
pub(crate) const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
const PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// Removes `Connection`, every header it names, and the fixed hop-by-hop set; and a
/// `Content-Length` that came along with a `Transfer-Encoding`.
pub(crate) fn remove_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry none: one pass over the names beats eight hashed removals.
    if !headers.keys().any(|name| HOP_BY_HOP.contains(name)) {
        return;
    }
    if headers.contains_key(TRANSFER_ENCODING) {
        // Transfer-Encoding overrides Content-Length and a forwarder must drop the
        // length (RFC 9112 §6.3): the body is framed anew for the next hop, and a stale
        // length there would cut it short or run into the next response.
        headers.remove(CONTENT_LENGTH);
    }
    if let Some(connection) = headers.get(CONNECTION) {
        // Names listed in Connection are hop-by-hop too; collect first, then remove.
        let named: Vec<HeaderName> = connection_tokens(connection)
            .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
            .filter(|name| name != HOST)
            .collect();
        for name in named {
            headers.remove(name);
        }
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// The fixed hop-by-hop set, and `Proxy-Authenticate`: not hop-by-hop, but a proxy's
/// own challenge belongs to the hop that sent it and must not travel on.
const HOP_BY_HOP: [HeaderName; 8] = [
    CONNECTION,
    KEEP_ALIVE,
    PROXY_CONNECTION,
    TE,
    TRAILER,
    TRANSFER_ENCODING,
    UPGRADE,
    PROXY_AUTHENTICATE,
];

/// The comma-separated tokens of every `Connection` value, lowercased.
pub(crate) fn connection_tokens(value: &HeaderValue) -> impl Iterator<Item = String> + '_ {
    value
        .to_str()
        .unwrap_or("")
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
}

/// Whether the sender of a message with these headers keeps the connection open
/// afterwards: HTTP/1.1 unless it says `close`, HTTP/1.0 only if it says `keep-alive`.
pub(crate) fn keeps_alive(headers: &HeaderMap, version: http::Version) -> bool {
    let mut tokens = headers
        .get_all(CONNECTION)
        .iter()
        .flat_map(connection_tokens);
    match version {
        http::Version::HTTP_10 => tokens.any(|t| t == "keep-alive"),
        _ => !tokens.any(|t| t == "close"),
    }
}

/// The client's request id when it is a sane token, else a fresh one.
pub(crate) fn request_id(headers: &HeaderMap) -> HeaderValue {
    match headers.get(X_REQUEST_ID) {
        Some(value) if is_valid_request_id(value.as_bytes()) => value.clone(),
        _ => generate_request_id(),
    }
}

fn is_valid_request_id(id: &[u8]) -> bool {
    (1..=128).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:+/=".contains(b))
}

/// 32 random hex digits.
pub(crate) fn generate_request_id() -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bits = fastrand::u128(..);
    let mut out = [0u8; 32];
    for byte in out.iter_mut() {
        *byte = HEX[(bits & 0xf) as usize];
        bits >>= 4;
    }
    HeaderValue::from_bytes(&out).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

/// Who sent a request and how, for the forwarding headers.
pub(crate) struct Forwarding<'a> {
    /// The peer's address, rendered once per connection.
    pub peer: &'a HeaderValue,
    /// The peer is a trusted proxy: its forwarding headers are kept and appended to.
    pub trusted: bool,
    pub proto: &'static str,
    pub host: Option<&'a HeaderValue>,
    /// `1.1 portcullis`, pre-rendered.
    pub via: &'a HeaderValue,
}

/// A peer address as a header value, made once per connection.
pub(crate) fn peer_value(peer: IpAddr) -> HeaderValue {
    HeaderValue::try_from(peer.to_string()).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

/// Sets `X-Forwarded-For/Proto/Host` and appends to `Via`.
pub(crate) fn add_forwarding(headers: &mut HeaderMap, f: &Forwarding<'_>) {
    let appended = match headers.get(X_FORWARDED_FOR) {
        Some(_) if f.trusted => {
            let prior: Vec<&str> = headers
                .get_all(X_FORWARDED_FOR)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            let peer = f.peer.to_str().unwrap_or("");
            HeaderValue::try_from(format!("{}, {peer}", prior.join(", "))).ok()
        }
        _ => None,
    };
    headers.insert(X_FORWARDED_FOR, appended.unwrap_or_else(|| f.peer.clone()));
    if !(f.trusted && headers.contains_key(X_FORWARDED_PROTO)) {
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(f.proto));
    }
    if !(f.trusted && headers.contains_key(X_FORWARDED_HOST)) {
        match f.host {
            Some(host) => headers.insert(X_FORWARDED_HOST, host.clone()),
            None => headers.remove(X_FORWARDED_HOST),
        };
    }
    append_via(headers, f.via);
}

fn append_via(headers: &mut HeaderMap, via: &HeaderValue) {
    let combined = headers.get(VIA).and_then(|prior| {
        let mut value = prior.as_bytes().to_vec();
        value.extend_from_slice(b", ");
        value.extend_from_slice(via.as_bytes());
        HeaderValue::from_bytes(&value).ok()
    });
    headers.insert(VIA, combined.unwrap_or_else(|| via.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_fixed_and_named_hop_by_hop_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            CONNECTION,
            HeaderValue::from_static("keep-alive, X-Secret, host"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(TE, HeaderValue::from_static("trailers"));
        h.insert(HOST, HeaderValue::from_static("a"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        remove_hop_by_hop(&mut h);
        let mut names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["host", "x-kept"]);
    }

    #[test]
    fn content_length_goes_with_transfer_encoding() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_LENGTH, HeaderValue::from_static("2"));
        h.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        remove_hop_by_hop(&mut h);
        assert!(h.is_empty(), "{h:?}");
        let mut plain = HeaderMap::new();
        plain.insert(CONTENT_LENGTH, HeaderValue::from_static("2"));
        remove_hop_by_hop(&mut plain);
        assert_eq!(plain[CONTENT_LENGTH], "2", "a lone length stays");
    }

    #[test]
    fn request_ids_are_kept_when_sane() {
        let mut h = HeaderMap::new();
        h.insert(X_REQUEST_ID, HeaderValue::from_static("abc-1"));
        assert_eq!(request_id(&h), "abc-1");
        h.insert(X_REQUEST_ID, HeaderValue::from_static("bad id <script>"));
        let fresh = request_id(&h);
        assert_eq!(fresh.len(), 32);
        assert_ne!(fresh, generate_request_id());
    }

    #[test]
    fn forwarded_for_is_replaced_unless_trusted() {
        let via = HeaderValue::from_static("1.1 portcullis");
        let mut h = HeaderMap::new();
        h.insert(X_FORWARDED_FOR, HeaderValue::from_static("6.6.6.6"));
        let mut f = Forwarding {
            peer: &peer_value("10.0.0.9".parse().unwrap()),
            trusted: false,
            proto: "http",
            host: None,
            via: &via,
        };
        add_forwarding(&mut h.clone(), &f);
        let mut untrusted = h.clone();
        add_forwarding(&mut untrusted, &f);
        assert_eq!(untrusted[X_FORWARDED_FOR], "10.0.0.9");
        f.trusted = true;
        add_forwarding(&mut h, &f);
        assert_eq!(h[X_FORWARDED_FOR], "6.6.6.6, 10.0.0.9");
        assert_eq!(h[VIA], "1.1 portcullis");
    }
}
