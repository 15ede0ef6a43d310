//! Writing a response to an HTTP/1.x client: head, framing and body.

use std::time::Duration;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{Response, Version};
use http_body::Body;
use http_body_util::BodyExt;
use std::future::Future;
use std::io::Write as _;

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::access_log::LoggedBody;
use crate::fields::{bodiless, put_field};
use crate::headers::X_REQUEST_ID;

/// What the request that is being answered asked for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answering {
    pub version: Version,
    pub head_request: bool,
    /// Keep the connection open afterwards, as far as the request and server allow.
    pub keep_alive: bool,
    /// Longest wait for the client to take each piece of the response.
    pub write_timeout: Duration,
}

/// How the response went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// Complete; the connection may carry another request.
    KeepAlive,
    /// Complete or not, the connection must close now.
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

/// A writer that can try a write without waiting, so the usual write that the socket
/// takes at once needs no timer.
pub(crate) trait TryWrite {
    /// Writes what the socket takes now; `WouldBlock` when it takes nothing.
    fn try_write(&self, buf: &[u8]) -> std::io::Result<usize>;
}

impl TryWrite for tokio::net::tcp::OwnedWriteHalf {
    fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
        tokio::net::tcp::OwnedWriteHalf::try_write(self, buf)
    }
}

impl<W: TryWrite> TryWrite for &mut W {
    fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
        (**self).try_write(buf)
    }
}

thread_local! {
    /// One output buffer per worker thread, lent to each response in turn: a response
    /// that finds it lent out (another one is waiting on a slow client) makes its own.
    static SPARE: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

fn spare_buffer() -> Vec<u8> {
    let mut buffer = SPARE.take();
    buffer.clear();
    buffer.reserve(512);
    buffer
}

fn return_buffer(buffer: Vec<u8>) {
    // A buffer grown by a large response is not kept.
    if buffer.capacity() <= 2 * COALESCE {
        SPARE.set(buffer);
    }
}

/// Body pieces up to this size go out in the same write as what precedes them.
const COALESCE: usize = 16 * 1024;

/// Writes `response`; body errors and slow clients end the connection. The head and
/// a small body leave in one write, with no buffer kept between responses.
/// Used in place, not split into parts and body, and written as a function returning an
/// `async move` block, not an `async fn`: the future then holds one copy of it.
#[allow(clippy::manual_async_fn)] // the `async fn` form would keep a second copy
pub(crate) fn write_response<W: AsyncWrite + TryWrite + Unpin>(
    out: &mut W,
    mut response: Response<LoggedBody>,
    answering: Answering,
) -> impl Future<Output = Written> + '_ {
    async move {
        let framing = framing(&response, answering);
        let keep_alive = answering.keep_alive && framing != Framing::UntilClose;
        let mut pending = spare_buffer();
        encode_head(
            &mut pending,
            &response,
            framing,
            keep_alive,
            answering.version,
        );
        let complete = match framing {
            Framing::Empty => send(out, &mut pending, answering.write_timeout).await,
            _ => {
                write_body(
                    out,
                    &mut pending,
                    response.body_mut(),
                    framing,
                    answering.write_timeout,
                )
                .await
            }
        };
        return_buffer(pending);
        if complete && keep_alive {
            Written::KeepAlive
        } else {
            Written::Close
        }
    }
}

fn framing(response: &Response<LoggedBody>, answering: Answering) -> Framing {
    if bodiless(response.status(), answering.head_request) {
        return Framing::Empty;
    }
    // The body's own exact size first: it is the declared length whenever there is
    // one (a relayed body is framed by it), and it costs no header lookup.
    let declared = || {
        let value = response.headers().get(CONTENT_LENGTH)?;
        value.to_str().ok()?.parse().ok()
    };
    match response.body().size_hint().exact().or_else(declared) {
        Some(length) => Framing::Length(length),
        None if answering.version == Version::HTTP_11 => Framing::Chunked,
        None => Framing::UntilClose,
    }
}

fn encode_head(
    head: &mut Vec<u8>,
    response: &Response<LoggedBody>,
    framing: Framing,
    keep_alive: bool,
    version: Version,
) {
    let status = response.status();
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(status.canonical_reason().unwrap_or("Unknown").as_bytes());
    head.extend_from_slice(b"\r\n");
    // A relayed response's own fields, hop-by-hop ones already cut out; then this hop's.
    let origin = response.body().origin_fields();
    if let Some(origin) = origin {
        head.extend_from_slice(origin.as_bytes());
        if let Some(id) = origin.request_id() {
            put_field(head, X_REQUEST_ID.as_str().as_bytes(), id.as_bytes());
        }
    }
    for (name, value) in response.headers() {
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING || name == CONNECTION {
            continue; // framing and connection handling are this hop's to decide
        }
        put_field(head, name.as_str().as_bytes(), value.as_bytes());
    }
    let mut digits = itoa::Buffer::new();
    let length = match framing {
        Framing::Length(n) => Some(digits.format(n).as_bytes()),
        // HEAD and 304 keep the length the full response would have: a generated
        // one's in its map, a relayed one's as the origin declared it.
        Framing::Empty => match response.headers().get(CONTENT_LENGTH) {
            Some(value) => Some(value.as_bytes()),
            None => origin
                .and_then(|fields| fields.declared_length())
                .map(|n| digits.format(n).as_bytes()),
        },
        Framing::Chunked => {
            head.extend_from_slice(b"transfer-encoding: chunked\r\n");
            None
        }
        Framing::UntilClose => None,
    };
    if let Some(length) = length {
        put_field(head, b"content-length", length);
    }
    if !keep_alive {
        head.extend_from_slice(b"connection: close\r\n");
    } else if version == Version::HTTP_10 {
        head.extend_from_slice(b"connection: keep-alive\r\n");
    }
    head.extend_from_slice(b"\r\n");
}

/// Copies the body after what `pending` holds; `false` if it could not be
/// delivered whole. Each piece is written as it arrives: a streamed response must not
/// wait in our buffer.
async fn write_body<W: AsyncWrite + TryWrite + Unpin>(
    out: &mut W,
    pending: &mut Vec<u8>,
    body: &mut LoggedBody,
    framing: Framing,
    timeout: Duration,
) -> bool {
    let mut written = 0u64;
    loop {
        let data = match body.frame().await {
            None => break,
            Some(Err(_)) => return false, // cut short: the client must see the connection end
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => data,
                Err(_) => continue, // trailers are not relayed over HTTP/1.1
            },
        };
        if data.is_empty() {
            continue;
        }
        written += data.len() as u64;
        if matches!(framing, Framing::Length(n) if written > n) {
            return false; // more than declared: never let it run into the next response
        }
        if !write_piece(out, pending, &data, framing == Framing::Chunked, timeout).await {
            return false;
        }
    }
    match framing {
        Framing::Length(n) if written != n => false,
        Framing::Chunked => {
            pending.extend_from_slice(b"0\r\n\r\n");
            send(out, pending, timeout).await
        }
        _ => send(out, pending, timeout).await,
    }
}

/// One body piece, chunk-framed when `chunked`: a small one joins `pending` in one
/// write, a large one follows it straight from its own buffer.
async fn write_piece<W: AsyncWrite + TryWrite + Unpin>(
    out: &mut W,
    pending: &mut Vec<u8>,
    data: &Bytes,
    chunked: bool,
    timeout: Duration,
) -> bool {
    if chunked {
        let _ = write!(pending, "{:x}\r\n", data.len());
    }
    if data.len() <= COALESCE {
        pending.extend_from_slice(data);
    } else {
        if !send(out, pending, timeout).await {
            return false;
        }
        let sent = tokio::time::timeout(timeout, out.write_all(data)).await;
        if !matches!(sent, Ok(Ok(()))) {
            return false;
        }
    }
    if chunked {
        pending.extend_from_slice(b"\r\n");
    }
    send(out, pending, timeout).await
}

/// Writes and empties `pending`; `false` when the client does not take it in time.
async fn send<W: AsyncWrite + TryWrite + Unpin>(
    out: &mut W,
    pending: &mut Vec<u8>,
    timeout: Duration,
) -> bool {
    if pending.is_empty() {
        return true;
    }
    // At once when the socket takes it all (the usual case, with no timer set up),
    // else wait up to `timeout` for the client to read the rest.
    let written = match out.try_write(pending) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
        Err(_) => return false,
    };
    let sent = written == pending.len()
        || matches!(
            tokio::time::timeout(timeout, out.write_all(&pending[written..])).await,
            Ok(Ok(()))
        );
    pending.clear();
    sent
}
