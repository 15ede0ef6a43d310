//! Reading an origin's response head and deciding how its body is framed and whether
//! the connection can carry another request afterwards. The head's fields are relayed
//! as bytes (see `origin_fields`).

use tokio::time::Instant;

use http::{Method, StatusCode, Version};
use tokio::io::AsyncReadExt;

use super::conn::UpstreamConn;
use super::origin_fields::{self, HopByHop, OriginFields};
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

/// A parsed response head.
pub(crate) struct Head {
    pub status: StatusCode,
    pub version: Version,
    /// Its end-to-end fields, to relay as they came.
    pub fields: OriginFields,
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
            if head.status.is_informational() {
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
    let said = HopByHop::read(&conn.buf, &spans);
    let transfer_encoding = said.transfer_encoding.clone().map(|at| &conn.buf[at]);
    let framing = framing(transfer_encoding, said.content_length, status, method)?;
    let keep_alive = framing != BodyFraming::UntilClose
        && match version {
            Version::HTTP_10 => said.keep_alive,
            _ => !said.close,
        };
    // RFC 9110 §8.6: only these may state a length for a body they do not carry.
    let declares_length = (method == Method::HEAD || status == StatusCode::NOT_MODIFIED)
        && said.transfer_encoding.is_none();
    let declared = said
        .content_length
        .ok()
        .flatten()
        .filter(|_| declares_length);
    let fields = origin_fields::keep(conn.buf.split_to(len), &spans, &said, declared);
    Ok(Some(Head {
        status,
        version,
        fields,
        framing,
        keep_alive,
        keep_alive_timeout: said.keep_alive_timeout,
    }))
}

/// RFC 9112 §6.3, for responses: `transfer_encoding` is the last such value.
fn framing(
    transfer_encoding: Option<&[u8]>,
    content_length: Result<Option<u64>, &'static str>,
    status: StatusCode,
    method: &Method,
) -> Result<BodyFraming, UpstreamError> {
    if fields::bodiless(status, method == Method::HEAD) {
        return Ok(BodyFraming::Empty);
    }
    if let Some(codings) = transfer_encoding {
        // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3); only a final
        // `chunked` delimits.
        let last = std::str::from_utf8(codings)
            .ok()
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim);
        return Ok(match last {
            Some(c) if c.eq_ignore_ascii_case("chunked") => BodyFraming::Chunked,
            _ => BodyFraming::UntilClose,
        });
    }
    let length =
        content_length.map_err(|why| UpstreamError::new(Cause::InvalidResponse, why.to_owned()))?;
    Ok(match length {
        Some(0) => BodyFraming::Empty,
        Some(n) => BodyFraming::Length(n),
        None => BodyFraming::UntilClose,
    })
}
