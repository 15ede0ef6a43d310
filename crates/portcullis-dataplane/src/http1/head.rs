//! Reading and checking one request head.

use bytes::{Bytes, BytesMut};
use http::header::{ACCEPT, CONNECTION, CONTENT_LENGTH, EXPECT, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Method, Request, Uri, Version};

use tokio::time::Instant;

use crate::fields::{self, Present};
use crate::proxy::ProxiedRequest;
use crate::{Cause, RequestBody};

/// The client connection preface of HTTP/2 with prior knowledge.
pub(crate) const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How the request body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFraming {
    None,
    Length(u64),
    Chunked,
}

/// A parsed, checked request head.
#[derive(Debug)]
pub(crate) struct Head {
    /// Boxed from the start, with an empty body the connection replaces: the request
    /// then moves by pointer from here to the origin.
    pub request: ProxiedRequest,
    pub framing: BodyFraming,
    /// The client wants the connection kept open after this exchange.
    pub keep_alive: bool,
    /// The client sent `Expect: 100-continue`.
    pub expects_continue: bool,
    /// When the head began to be read.
    pub arrived: Instant,
    /// Which of the fields its handling looks up it carries.
    pub present: Present,
}

/// A head that cannot be served, with the `Accept` header if it was readable.
#[derive(Debug)]
pub(crate) struct Rejection {
    pub cause: Cause,
    pub accept: Option<HeaderValue>,
}

impl Rejection {
    fn bad(accept: Option<&HeaderValue>) -> Self {
        Self {
            cause: Cause::BadRequest,
            accept: accept.cloned(),
        }
    }
}

/// Whether `buf` is (a prefix of) the HTTP/2 preface; `Some(true)` once it is whole.
pub(crate) fn is_h2_preface(buf: &[u8]) -> Option<bool> {
    let n = buf.len().min(H2_PREFACE.len());
    (buf[..n] == H2_PREFACE[..n]).then_some(n == H2_PREFACE.len())
}

/// Parses a complete head from the front of `buf`, consuming it; it began to arrive at
/// `arrived`. `Ok(None)` means more bytes are needed; the caller enforces
/// `max_header_bytes` and the timeouts.
pub(crate) fn parse(buf: &mut BytesMut, arrived: Instant) -> Result<Option<Head>, Rejection> {
    let mut slots = fields::header_slots!();
    let mut parsed = httparse::Request::new(&mut []);
    let len = match parsed.parse_with_uninit_headers(buf, &mut slots) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Rejection {
                cause: Cause::HeaderTooLarge,
                accept: None,
            })
        }
        Err(_) => return Err(Rejection::bad(None)),
    };
    let mut spans = fields::Spans::new();
    fields::spans(buf, parsed.headers, &mut spans);
    let method = Method::from_bytes(parsed.method.unwrap_or("").as_bytes());
    let version = if parsed.version == Some(0) {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let path = parsed.path.unwrap_or("");
    let path_start = path.as_ptr() as usize - buf.as_ptr() as usize;
    let path_range = path_start..path_start + path.len();
    let head_bytes = buf.split_to(len).freeze();
    let (mut headers, present) =
        fields::header_map(&head_bytes, &spans).ok_or_else(|| Rejection::bad(None))?;
    let accept = present
        .may_have(&ACCEPT)
        .then(|| headers.get(ACCEPT).cloned())
        .flatten();
    let bad = || Rejection::bad(accept.as_ref());
    let method = method.map_err(|_| bad())?;
    let uri = parse_uri(head_bytes.slice(path_range)).ok_or_else(bad)?;
    check_host(&headers, version, &uri).map_err(|()| bad())?;
    let framing = framing(&mut headers, present, version).map_err(|()| bad())?;
    let keep_alive = match present.may_have(&CONNECTION) {
        true => crate::headers::keeps_alive(&headers, version),
        false => version != Version::HTTP_10,
    };
    let expects_continue = present.may_have(&EXPECT)
        && headers
            .remove(EXPECT) // answered here; the origin sees a plain request
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let mut request = Box::new(Request::new(RequestBody::empty()));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = version;
    *request.headers_mut() = headers;
    Ok(Some(Head {
        request,
        framing,
        keep_alive,
        expects_continue,
        arrived,
        present,
    }))
}

/// The request target, sharing the head's bytes. Origin-form, absolute-form, or `*`
/// for OPTIONS; authority-form (CONNECT) is not proxied.
fn parse_uri(path: Bytes) -> Option<Uri> {
    let uri = Uri::from_maybe_shared(path.clone()).ok()?;
    let origin_form = uri.scheme().is_none() && uri.authority().is_none();
    let absolute_form = uri.scheme().is_some() && uri.authority().is_some();
    (origin_form && (path.starts_with(b"/") || &path[..] == b"*") || absolute_form).then_some(uri)
}

/// HTTP/1.1 needs exactly one valid `Host` (RFC 9112 §3.2).
fn check_host(headers: &HeaderMap, version: Version, uri: &Uri) -> Result<(), ()> {
    let mut hosts = headers.get_all(HOST).iter();
    match (hosts.next(), hosts.next()) {
        (_, Some(_)) => Err(()),
        (Some(host), None) if is_valid_host(host.as_bytes()) => Ok(()),
        (Some(_), None) => Err(()),
        (None, None) if version == Version::HTTP_11 && uri.authority().is_none() => Err(()),
        (None, None) => Ok(()),
    }
}

/// Whether a `Host` value is `uri-host [ ":" port ]` (RFC 9110 §7.2, RFC 3986 §3.2.2):
/// a registered name or IPv4 address, or an IP literal in brackets (with a zone, RFC
/// 6874), then an optional port. Checked here: `http`'s `Authority` copies the value
/// into an allocation of its own just to say yes, and lets through a user name, which
/// has no place in `Host`.
fn is_valid_host(value: &[u8]) -> bool {
    let (host, port) = match value.strip_prefix(b"[") {
        Some(literal) => {
            let Some(end) = literal.iter().position(|&b| b == b']') else {
                return false;
            };
            let address = &literal[..end];
            (address, &literal[end + 1..])
        }
        None => {
            let end = value.iter().position(|&b| b == b':').unwrap_or(value.len());
            (&value[..end], &value[end..])
        }
    };
    let extra: &[u8] = match value.first() {
        Some(b'[') => b":.-_~%",
        _ => b"-._~%!$&'()*+,;=",
    };
    !host.is_empty() && host_chars(host, extra) && is_valid_port(port)
}

/// Letters, digits and `extra`, with every `%` starting a percent-encoded byte.
fn host_chars(host: &[u8], extra: &[u8]) -> bool {
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || extra.contains(b);
    let encoded = |at: usize| {
        let hex = host.get(at + 1..at + 3);
        hex.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    };
    host.iter()
        .enumerate()
        .all(|(at, b)| allowed(b) && (*b != b'%' || encoded(at)))
}

/// Empty, or `:` and a port number (none at all after the colon is allowed).
fn is_valid_port(port: &[u8]) -> bool {
    match port.strip_prefix(b":") {
        Some(digits) => {
            let number = || {
                digits
                    .iter()
                    .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
            };
            digits.len() <= 5 && digits.iter().all(u8::is_ascii_digit) && number() <= 65535
        }
        None => port.is_empty(),
    }
}

/// Decides the body framing and rejects ambiguous framing (request smuggling):
/// Content-Length with Transfer-Encoding, differing Content-Lengths, or a
/// Transfer-Encoding other than a lone final `chunked`. Identical duplicate
/// Content-Lengths are folded into one.
fn framing(headers: &mut HeaderMap, present: Present, version: Version) -> Result<BodyFraming, ()> {
    let has_length = present.may_have(&CONTENT_LENGTH) && headers.contains_key(CONTENT_LENGTH);
    if present.may_have(&TRANSFER_ENCODING) && headers.contains_key(TRANSFER_ENCODING) {
        let codings: Vec<&HeaderValue> = headers.get_all(TRANSFER_ENCODING).iter().collect();
        let chunked_only = codings.len() == 1
            && codings[0]
                .as_bytes()
                .trim_ascii()
                .eq_ignore_ascii_case(b"chunked");
        if has_length || !chunked_only || version == Version::HTTP_10 {
            return Err(());
        }
        return Ok(BodyFraming::Chunked);
    }
    if !has_length {
        return Ok(BodyFraming::None);
    }
    let mut length: Option<u64> = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        for part in value.to_str().map_err(|_| ())?.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            let n: u64 = part.parse().map_err(|_| ())?;
            if length.is_some_and(|seen| seen != n) {
                return Err(());
            }
            length = Some(n);
        }
    }
    let length = length.ok_or(())?;
    headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    Ok(if length == 0 {
        BodyFraming::None
    } else {
        BodyFraming::Length(length)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(raw: &str) -> Result<Option<Head>, Rejection> {
        parse(&mut BytesMut::from(raw), Instant::now())
    }

    fn cause(raw: &str) -> Option<Cause> {
        parse_str(raw).err().map(|r| r.cause)
    }

    #[test]
    fn parses_a_simple_get() {
        let head = parse_str("GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.request.uri(), "/a?b=1");
        assert_eq!(head.framing, BodyFraming::None);
        assert!(head.keep_alive);
        assert!(parse_str("GET / HTTP/1.1\r\nHost: x\r\n")
            .unwrap()
            .is_none());
    }

    #[test]
    fn host_must_be_a_host_and_port() {
        let valid = [
            "x",
            "shop.test",
            "127.0.0.1:8080",
            "[::1]:80",
            "[::1]",
            "a-b_c~d",
            "h:",
            "h:65535",
            "a%20b",
            "[fe80::1%25eth0]:80",
        ];
        for host in valid {
            assert!(is_valid_host(host.as_bytes()), "{host}");
        }
        let invalid = [
            "",
            ":80",
            "a b",
            "a/b",
            "user@host",
            "[::1",
            "[::1]x",
            "h:8x",
            "a:b:c",
            "h:65536",
            "h:123456",
            "%",
            "a%2",
            "a%zz",
        ];
        for host in invalid {
            assert!(!is_valid_host(host.as_bytes()), "{host}");
        }
        assert!(!is_valid_host(b"h\x80"));
        let request = "GET / HTTP/1.1\r\nHost: user@shop.test\r\n\r\n";
        assert_eq!(cause(request), Some(Cause::BadRequest));
    }

    #[test]
    fn rejects_ambiguous_framing() {
        let both =
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(cause(both), Some(Cause::BadRequest));
        let differing =
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n";
        assert_eq!(cause(differing), Some(Cause::BadRequest));
        let gzip = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
        assert_eq!(cause(gzip), Some(Cause::BadRequest));
        let not_final = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n";
        assert_eq!(cause(not_final), Some(Cause::BadRequest));
        let same = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\n";
        assert_eq!(
            parse_str(same).unwrap().unwrap().framing,
            BodyFraming::Length(3)
        );
    }

    #[test]
    fn rejects_missing_or_double_host_and_garbage() {
        assert_eq!(cause("GET / HTTP/1.1\r\n\r\n"), Some(Cause::BadRequest));
        assert_eq!(
            cause("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            Some(Cause::BadRequest)
        );
        assert_eq!(cause("GET / HTTP/1.0\r\n\r\n"), None);
        assert_eq!(cause("\x01\x02 nonsense\r\n\r\n"), Some(Cause::BadRequest));
        assert_eq!(
            cause("GET nopath HTTP/1.1\r\nHost: a\r\n\r\n"),
            Some(Cause::BadRequest)
        );
    }

    #[test]
    fn recognises_the_h2_preface() {
        assert_eq!(is_h2_preface(b"PRI * HT"), Some(false));
        assert_eq!(is_h2_preface(H2_PREFACE), Some(true));
        assert_eq!(is_h2_preface(b"GET / HTTP/1.1"), None);
    }
}
