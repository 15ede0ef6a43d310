//! Writing a request to an origin: the head in one write (with a small in-memory
//! body), then the body as it arrives, chunked when its length is unknown.

use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::Request;
use http_body::Body;
use http_body_util::BodyExt;
use std::io::Write as _;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::conn::UpstreamConn;
use super::UpstreamError;
use crate::fields::put_field;
use crate::headers::Appended;
use crate::{BodyError, Cause, RequestBody};

/// Body chunks up to this size are copied next to their framing for a single write.
const STAGE_LIMIT: usize = 16 * 1024;

/// How the body goes on the wire.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length,
    Chunked,
}

/// Encodes the head of `request` (whose body was taken out: it is `body`) into
/// `conn.head`: origin-form target, HTTP/1.1, the headers as prepared, and the framing
/// this hop chose.
fn encode_head(
    conn: &mut UpstreamConn,
    request: &Request<RequestBody>,
    appended: &Appended,
    body: &RequestBody,
) -> Framing {
    let framing = if request.headers().contains_key(CONTENT_LENGTH) {
        Framing::Length
    } else if body.is_end_stream() {
        Framing::None
    } else {
        Framing::Chunked
    };
    let head = &mut conn.head;
    head.clear();
    head.extend_from_slice(request.method().as_str().as_bytes());
    head.push(b' ');
    let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
    head.extend_from_slice(target.as_bytes());
    head.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in request.headers().iter().chain(appended.fields()) {
        put_field(head, name.as_str().as_bytes(), value.as_bytes());
    }
    if framing == Framing::Chunked {
        head.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    head.extend_from_slice(b"\r\n");
    framing
}

/// The head could not be written: the body is handed back untouched.
pub(crate) struct HeadNotSent(pub UpstreamError, pub RequestBody);

/// Writes the head (and an in-memory body with it); the body, if any, is returned to
/// be streamed by [`write_body`].
pub(crate) async fn write_head(
    conn: &mut UpstreamConn,
    request: &Request<RequestBody>,
    appended: &Appended,
    mut body: RequestBody,
    timeout: Duration,
) -> Result<(RequestBody, bool), HeadNotSent> {
    debug_assert!(!request.headers().contains_key(TRANSFER_ENCODING));
    let framing = encode_head(conn, request, appended, &body);
    if let Some(data) = body.in_memory() {
        conn.head.extend_from_slice(data);
    }
    match write_soon(&mut conn.stream, &conn.head, timeout).await {
        Ok(()) => {
            body.skip_in_memory();
            Ok((body, framing == Framing::Chunked))
        }
        Err(error) => Err(HeadNotSent(error, body)),
    }
}

/// Streams the rest of the body; `chunked` adds the chunked framing.
pub(crate) async fn write_body(
    conn: &mut UpstreamConn,
    mut body: RequestBody,
    chunked: bool,
    timeout: Duration,
) -> Result<(), UpstreamError> {
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(client_side)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if !data.is_empty() {
            write(conn, data, chunked, timeout).await?;
        }
    }
    if chunked {
        write_all(conn, b"0\r\n\r\n", timeout).await?;
    }
    Ok(())
}

async fn write(
    conn: &mut UpstreamConn,
    data: Bytes,
    chunked: bool,
    timeout: Duration,
) -> Result<(), UpstreamError> {
    if !chunked {
        return write_all(conn, &data, timeout).await;
    }
    // Chunk framing and a small chunk leave in one write, staged in the head buffer
    // (the head itself has gone out already).
    conn.head.clear();
    let _ = write!(conn.head, "{:x}\r\n", data.len());
    if data.len() <= STAGE_LIMIT {
        conn.head.extend_from_slice(&data);
        conn.head.extend_from_slice(b"\r\n");
        return write_soon(&mut conn.stream, &conn.head, timeout).await;
    }
    write_soon(&mut conn.stream, &conn.head, timeout).await?;
    write_all(conn, &data, timeout).await?;
    write_all(conn, b"\r\n", timeout).await
}

async fn write_all(
    conn: &mut UpstreamConn,
    bytes: &[u8],
    timeout: Duration,
) -> Result<(), UpstreamError> {
    write_soon(&mut conn.stream, bytes, timeout).await
}

/// Writes `bytes`: at once when the socket takes them all (the usual case, with no
/// timer set up), else waiting up to `timeout` for the origin to read the rest.
async fn write_soon(
    stream: &mut TcpStream,
    bytes: &[u8],
    timeout: Duration,
) -> Result<(), UpstreamError> {
    let written = match stream.try_write(bytes) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
        Err(e) => return Err(UpstreamError::new(Cause::UpstreamReset, e.to_string())),
    };
    if written == bytes.len() {
        return Ok(());
    }
    match tokio::time::timeout(timeout, stream.write_all(&bytes[written..])).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(UpstreamError::new(Cause::UpstreamReset, e.to_string())),
        Err(_) => Err(UpstreamError::new(
            Cause::ResponseTimeout,
            "the origin stopped reading the request",
        )),
    }
}

/// A request body that failed on the client's side: not the origin's fault.
fn client_side(e: BodyError) -> UpstreamError {
    let cause = match e {
        BodyError::TooLarge => Cause::BodyTooLarge,
        BodyError::Malformed => Cause::BadRequest,
        BodyError::ClientClosed => Cause::ClientClosed,
    };
    UpstreamError::new(cause, e.to_string())
}
