//! Reading an origin's response head and deciding how its body is framed and whether
//! the connection can carry another request afterwards.

use tokio::time::Instant;

use http::header::CONTENT_LENGTH;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, Version};
use tokio::io::AsyncReadExt;

use super::conn::UpstreamConn;
use super::UpstreamError;
use crate::fields;
use crate::Cause;

/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// How the response body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFraming {
    Empty,
    Length(u64),
    Chunked,
    /// Ends when the origin closes: the connection cannot be reused.
    UntilClose,
}

/// A parsed response head; its headers hold no hop-by-hop field.
pub(crate) struct Head {
    pub response: Response<()>,
    pub framing: BodyFraming,
    /// The origin will keep the connection open after this response.
    pub keep_alive: bool,
    /// The idle timeout the origin announced in `Keep-Alive`, in seconds.
    pub keep_alive_timeout: Option<u64>,
}

/// Reads the head of the response to a `method` request, skipping interim (1xx)
/// responses, until `due`. A connection that ends before a single byte arrives is
/// reported as a reset (the caller knows whether it was reused).
pub(crate) async fn read_head(
    conn: &mut UpstreamConn,
    method: &Method,
    due: Instant,
) -> Result<Head, UpstreamError> {
    loop {
        if let Some(head) = parse(conn, method)? {
            if head.response.status().is_informational() {
                continue; // 100 Continue and friends: the real answer follows
            }
            return Ok(head);
        }
        if conn.buf.len() >= MAX_HEAD {
            return Err(UpstreamError::new(
                Cause::InvalidResponse,
                "response head too large",
            ));
        }
        conn.buf.reserve(4096);
        let UpstreamConn {
            stream,
            buf,
            deadline,
            ..
        } = conn;
        match deadline.run(due, stream.read_buf(buf)).await {
            Ok(Ok(n)) if n > 0 => {}
            Ok(Ok(_)) => {
                return Err(UpstreamError::new(
                    Cause::UpstreamReset,
                    "closed before a complete response head",
                ))
            }
            Ok(Err(e)) => return Err(UpstreamError::new(Cause::UpstreamReset, e.to_string())),
            Err(_) => {
                return Err(UpstreamError::new(
                    Cause::ResponseTimeout,
                    "no response head in time",
                ))
            }
        }
    }
}

/// Parses a complete head from the front of the buffer, consuming it.
fn parse(conn: &mut UpstreamConn, method: &Method) -> Result<Option<Head>, UpstreamError> {
    let invalid = |why: &str| UpstreamError::new(Cause::InvalidResponse, why.to_owned());
    let mut slots = fields::header_slots!();
    let mut parsed = httparse::Response::new(&mut []);
    let len = match httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut parsed,
        &conn.buf,
        &mut slots,
    ) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(invalid(&format!("not valid HTTP: {e}"))),
    };
    let status = parsed
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| invalid("bad status"))?;
    let version = if parsed.version == Some(0) {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let mut spans = fields::Spans::new();
    fields::spans(&conn.buf, parsed.headers, &mut spans);
    let head = conn.buf.split_to(len).freeze();
    let (mut headers, hop) =
        fields::response_header_map(&head, &spans).ok_or_else(|| invalid("bad header"))?;
    let framing = framing(&headers, hop.transfer_encoding.as_ref(), status, method)?;
    if hop.transfer_encoding.is_some() {
        // Transfer-Encoding overrides Content-Length and a forwarder must drop the
        // length (RFC 9112 §6.3): the body is framed anew for the next hop.
        headers.remove(CONTENT_LENGTH);
    }
    let keep_alive = framing != BodyFraming::UntilClose
        && match version {
            Version::HTTP_10 => hop.keep_alive,
            _ => !hop.close,
        };
    let mut response = Response::new(());
    *response.status_mut() = status;
    *response.version_mut() = version;
    *response.headers_mut() = headers;
    Ok(Some(Head {
        response,
        framing,
        keep_alive,
        keep_alive_timeout: hop.keep_alive_timeout,
    }))
}

/// RFC 9112 §6.3, for responses.
fn framing(
    headers: &HeaderMap,
    transfer_encoding: Option<&HeaderValue>,
    status: StatusCode,
    method: &Method,
) -> Result<BodyFraming, UpstreamError> {
    let invalid = |why: &str| UpstreamError::new(Cause::InvalidResponse, why.to_owned());
    if method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok(BodyFraming::Empty);
    }
    if let Some(codings) = transfer_encoding {
        // Transfer-Encoding wins over Content-Length; only a final `chunked` delimits.
        let last = codings
            .to_str()
            .ok()
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim);
        return Ok(match last {
            Some(c) if c.eq_ignore_ascii_case("chunked") => BodyFraming::Chunked,
            _ => BodyFraming::UntilClose,
        });
    }
    let mut length = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        for part in value
            .to_str()
            .map_err(|_| invalid("bad content-length"))?
            .split(',')
        {
            let n: u64 = part
                .trim()
                .parse()
                .map_err(|_| invalid("bad content-length"))?;
            if length.is_some_and(|seen| seen != n) {
                return Err(invalid("conflicting content-length"));
            }
            length = Some(n);
        }
    }
    Ok(match length {
        Some(0) => BodyFraming::Empty,
        Some(n) => BodyFraming::Length(n),
        None => BodyFraming::UntilClose,
    })
}
