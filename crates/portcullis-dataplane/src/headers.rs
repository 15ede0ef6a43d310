//! Header rules on the way through: hop-by-hop removal in both directions, forwarding
//! headers, and request ids.

use std::cell::RefCell;
use std::net::IpAddr;
use std::ops::Range;

use bytes::BytesMut;

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
pub(crate) const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
const PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// Removes `Connection`, every header it names, and the fixed hop-by-hop set; and a
/// `Content-Length` that came along with a `Transfer-Encoding`.
pub(crate) fn remove_hop_by_hop(headers: &mut HeaderMap) {
    // One pass over the names finds the hop-by-hop ones present (most messages carry
    // one or none): a hashed removal of an absent name costs as much as a present one.
    let present = headers.keys().fold(0u16, |present, name| {
        match HOP_BY_HOP.iter().position(|h| h == name) {
            Some(i) => present | 1 << i,
            None => present,
        }
    });
    if present == 0 {
        return;
    }
    let has = |name: &HeaderName| {
        HOP_BY_HOP
            .iter()
            .position(|h| h == name)
            .is_some_and(|i| present & 1 << i != 0)
    };
    if has(&TRANSFER_ENCODING) {
        // Transfer-Encoding overrides Content-Length and a forwarder must drop the
        // length (RFC 9112 §6.3): the body is framed anew for the next hop, and a stale
        // length there would cut it short or run into the next response.
        headers.remove(CONTENT_LENGTH);
    }
    if has(&CONNECTION) {
        // Names listed in Connection are hop-by-hop too; collect first, then remove.
        // `close` names no header, and the fixed set goes below anyway.
        let named: Vec<HeaderName> = headers
            .get_all(CONNECTION)
            .iter()
            .flat_map(connection_tokens)
            .filter(|t| !t.eq_ignore_ascii_case(b"close"))
            .filter_map(|t| HeaderName::from_bytes(t).ok())
            .filter(|name| name != HOST && !HOP_BY_HOP.contains(name))
            .collect();
        for name in named {
            headers.remove(name);
        }
    }
    for (i, name) in HOP_BY_HOP.iter().enumerate() {
        if present & 1 << i != 0 {
            headers.remove(name);
        }
    }
}

/// The fixed hop-by-hop set, and `Proxy-Authenticate`: not hop-by-hop, but a proxy's
/// own challenge belongs to the hop that sent it and must not travel on.
pub(crate) const HOP_BY_HOP: [HeaderName; 8] = [
    CONNECTION,
    KEEP_ALIVE,
    PROXY_CONNECTION,
    TE,
    TRAILER,
    TRANSFER_ENCODING,
    UPGRADE,
    PROXY_AUTHENTICATE,
];

/// The comma-separated tokens of a `Connection` value, trimmed (compare them
/// ignoring case).
pub(crate) fn connection_tokens(value: &HeaderValue) -> impl Iterator<Item = &[u8]> + '_ {
    let value = value.as_bytes();
    list_items(value, 0..value.len()).map(|item| &value[item])
}

/// Where each item of the comma-separated list at `list` in `bytes` sits, blanks
/// around it trimmed; empty items left out. Positions rather than slices, for callers
/// that rewrite `bytes` afterwards.
pub(crate) fn list_items(
    bytes: &[u8],
    list: Range<usize>,
) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut at = list.start;
    std::iter::from_fn(move || {
        while at < list.end {
            let end = bytes[at..list.end]
                .iter()
                .position(|&b| b == b',')
                .map_or(list.end, |comma| at + comma);
            let item = trim_blanks(bytes, at..end);
            at = end + 1;
            if !item.is_empty() {
                return Some(item);
            }
        }
        None
    })
}

/// `range` without the spaces and tabs at either end of it.
pub(crate) fn trim_blanks(bytes: &[u8], mut range: Range<usize>) -> Range<usize> {
    let blank = |b: u8| b == b' ' || b == b'\t';
    while range.start < range.end && blank(bytes[range.start]) {
        range.start += 1;
    }
    while range.end > range.start && blank(bytes[range.end - 1]) {
        range.end -= 1;
    }
    range
}

/// Whether the sender of a message with these headers keeps the connection open
/// afterwards: HTTP/1.1 unless it says `close`, HTTP/1.0 only if it says `keep-alive`.
pub(crate) fn keeps_alive(headers: &HeaderMap, version: http::Version) -> bool {
    let mut tokens = headers
        .get_all(CONNECTION)
        .iter()
        .flat_map(connection_tokens);
    match version {
        http::Version::HTTP_10 => tokens.any(|t| t.eq_ignore_ascii_case(b"keep-alive")),
        _ => !tokens.any(|t| t.eq_ignore_ascii_case(b"close")),
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

/// 32 random hex digits, cut from a buffer this thread fills: one allocation per
/// 128 ids, where a copied value would take two per request (the copy, then a
/// shared header when it is first cloned for the upstream request).
pub(crate) fn generate_request_id() -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    const ID_LEN: usize = 32;
    thread_local! {
        static IDS: RefCell<BytesMut> = RefCell::new(BytesMut::new());
    }
    let mut out = [0u8; ID_LEN];
    for (digits, byte) in out
        .chunks_exact_mut(2)
        .zip(fastrand::u128(..).to_le_bytes())
    {
        digits[0] = HEX[usize::from(byte >> 4)];
        digits[1] = HEX[usize::from(byte & 0xf)];
    }
    let id = IDS.with(|ids| {
        let mut ids = ids.borrow_mut();
        if ids.capacity() < ID_LEN {
            *ids = BytesMut::with_capacity(ID_LEN * 128);
        }
        ids.extend_from_slice(&out);
        ids.split_to(ID_LEN).freeze()
    });
    HeaderValue::from_maybe_shared(id).unwrap_or_else(|_| HeaderValue::from_static("0"))
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

/// The headers this hop sets on a forwarded request. They are written after the
/// client's own when the head is encoded: inserting them into the map would hash and
/// grow it on every request, for headers that are only ever written out.
#[derive(Debug, Clone)]
pub(crate) struct Appended {
    forwarded_for: HeaderValue,
    forwarded_proto: Option<HeaderValue>,
    forwarded_host: Option<HeaderValue>,
    via: HeaderValue,
    request_id: HeaderValue,
}

impl Appended {
    /// Name and value of each header to write.
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
        let values = [
            Some(&self.forwarded_for),
            self.forwarded_proto.as_ref(),
            self.forwarded_host.as_ref(),
            Some(&self.via),
            Some(&self.request_id),
        ];
        SET_HERE
            .iter()
            .zip(values)
            .filter_map(|(name, value)| Some((name, value?)))
    }
}

/// The headers [`Appended`] sets, in the order of its fields.
static SET_HERE: [HeaderName; 5] = [
    X_FORWARDED_FOR,
    X_FORWARDED_PROTO,
    X_FORWARDED_HOST,
    VIA,
    X_REQUEST_ID,
];

/// `X-Forwarded-For/Proto/Host`, `Via` (appended to) and `X-Request-Id` for a
/// request with `headers`, from which the client's own versions of them are removed.
pub(crate) fn forwarding(
    headers: &mut HeaderMap,
    f: &Forwarding<'_>,
    request_id: &HeaderValue,
) -> Appended {
    // Which of them the client sent, in one pass over the names: usually none.
    let sent = headers.keys().fold(0u8, |sent, name| {
        match SET_HERE.iter().position(|h| h == name) {
            Some(i) => sent | 1 << i,
            None => sent,
        }
    });
    let has = |i: usize| sent & 1 << i != 0;
    // The client's values of header `i`, removed from the map.
    let mut take = |i: usize, name: &HeaderName| {
        if !has(i) {
            return None;
        }
        let prior = joined(headers, name);
        headers.remove(name);
        prior
    };
    let prior_for = take(0, &X_FORWARDED_FOR);
    let forwarded_for = match prior_for.filter(|_| f.trusted) {
        Some(prior) => combine(&prior, f.peer),
        None => f.peer.clone(),
    };
    let own = |keep: bool, value: Option<HeaderValue>| (!keep).then_some(value).flatten();
    let keep_proto = f.trusted && has(1);
    let keep_host = f.trusted && has(2);
    if !keep_proto {
        take(1, &X_FORWARDED_PROTO);
    }
    if !keep_host {
        take(2, &X_FORWARDED_HOST);
    }
    let via = match take(3, &VIA) {
        Some(prior) => combine(&prior, f.via),
        None => f.via.clone(),
    };
    take(4, &X_REQUEST_ID);
    Appended {
        forwarded_for,
        forwarded_proto: own(keep_proto, Some(HeaderValue::from_static(f.proto))),
        forwarded_host: own(keep_host, f.host.cloned()),
        via,
        request_id: request_id.clone(),
    }
}

/// Every value of `name`, joined with `, ` (a list header may come in several lines).
fn joined(headers: &HeaderMap, name: &HeaderName) -> Option<HeaderValue> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?.clone();
    values.try_fold(first, |acc, next| Some(combine(&acc, next)))
}

/// `prior, next`.
fn combine(prior: &HeaderValue, next: &HeaderValue) -> HeaderValue {
    let mut value = Vec::with_capacity(prior.len() + 2 + next.len());
    value.extend_from_slice(prior.as_bytes());
    value.extend_from_slice(b", ");
    value.extend_from_slice(next.as_bytes());
    HeaderValue::from_bytes(&value).unwrap_or_else(|_| next.clone())
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

    fn appended(h: &mut HeaderMap, trusted: bool, host: Option<&HeaderValue>) -> HeaderMap {
        let via = HeaderValue::from_static("1.1 portcullis");
        let peer = peer_value("10.0.0.9".parse().unwrap());
        let f = Forwarding {
            peer: &peer,
            trusted,
            proto: "http",
            host,
            via: &via,
        };
        let id = HeaderValue::from_static("id-1");
        let mut out = HeaderMap::new();
        for (name, value) in forwarding(h, &f, &id).fields() {
            out.append(name.clone(), value.clone());
        }
        out
    }

    fn client_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.append(X_FORWARDED_FOR, HeaderValue::from_static("6.6.6.6"));
        h.append(X_FORWARDED_FOR, HeaderValue::from_static("7.7.7.7"));
        h.insert(X_FORWARDED_PROTO, HeaderValue::from_static("https"));
        h.insert(X_FORWARDED_HOST, HeaderValue::from_static("client.example"));
        h.insert(VIA, HeaderValue::from_static("1.0 edge"));
        h.insert(X_REQUEST_ID, HeaderValue::from_static("id-1"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        h
    }

    #[test]
    fn forwarding_headers_replace_an_untrusted_clients() {
        let host = HeaderValue::from_static("site.example");
        let mut h = client_headers();
        let out = appended(&mut h, false, Some(&host));
        assert_eq!(out[X_FORWARDED_FOR], "10.0.0.9");
        assert_eq!(out[X_FORWARDED_PROTO], "http");
        assert_eq!(out[X_FORWARDED_HOST], "site.example");
        assert_eq!(
            out[VIA], "1.0 edge, 1.1 portcullis",
            "Via is always appended to"
        );
        assert_eq!(out[X_REQUEST_ID], "id-1");
        let left: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        assert_eq!(left, ["x-kept"], "each is written once, by this hop");
    }

    #[test]
    fn forwarding_headers_extend_a_trusted_proxys() {
        let mut h = client_headers();
        let out = appended(&mut h, true, None);
        assert_eq!(out[X_FORWARDED_FOR], "6.6.6.6, 7.7.7.7, 10.0.0.9");
        assert!(
            !out.contains_key(X_FORWARDED_PROTO),
            "the client's stays in the map"
        );
        assert_eq!(h[X_FORWARDED_PROTO], "https");
        assert_eq!(h[X_FORWARDED_HOST], "client.example");
        assert!(!h.contains_key(X_FORWARDED_FOR) && !h.contains_key(VIA));
    }

    #[test]
    fn forwarding_headers_for_a_plain_request() {
        let mut h = HeaderMap::new();
        let out = appended(&mut h, false, None);
        assert_eq!(out[X_FORWARDED_FOR], "10.0.0.9");
        assert_eq!(out[VIA], "1.1 portcullis");
        assert!(
            !out.contains_key(X_FORWARDED_HOST),
            "no Host, no X-Forwarded-Host"
        );
        assert!(h.is_empty());
    }
}
