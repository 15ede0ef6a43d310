//! One HTTP/1.1 client connection: read a head, stream the body up while the proxy
//! works, write the response, repeat while keep-alive allows.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::BytesMut;
use http::Method;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::{timeout_at, Instant};
use tokio_util::sync::CancellationToken;

use super::body::{pump, Input, PumpEnd};
use super::head::{self, BodyFraming, Head, Rejection};
use super::write::{write_response, Answering, TryWrite, Written};
use crate::access_log::{LoggedBody, RequestLog};
use crate::deadline::Deadline;
use crate::proxy::{self, ConnInfo, Failure};
use crate::{Cause, RequestBody, Shared};

/// Initial read buffer; grows up to `max_header_bytes` for a head.
const READ_BUFFER: usize = 4096;

thread_local! {
    /// Read buffers of connections gone idle, lent to the next connection with a
    /// request to read: an idle connection holds no buffer, and a request does not
    /// allocate one.
    static SPARE_READ_BUFFERS: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// Spare read buffers kept per worker thread.
const MAX_SPARE_READ_BUFFERS: usize = 64;

fn lend_read_buffer() -> BytesMut {
    let spare = SPARE_READ_BUFFERS.with(|spares| spares.borrow_mut().pop());
    let mut buf = spare.unwrap_or_default();
    buf.clear();
    // Reuses the buffer's memory once nothing read into it earlier is still alive.
    buf.reserve(READ_BUFFER);
    buf
}

fn return_read_buffer(buf: BytesMut) {
    // A buffer grown for a large head is not kept.
    if buf.capacity() == 0 || buf.capacity() > 4 * READ_BUFFER {
        return;
    }
    SPARE_READ_BUFFERS.with(|spares| {
        let mut spares = spares.borrow_mut();
        if spares.len() < MAX_SPARE_READ_BUFFERS {
            spares.push(buf);
        }
    });
}

/// A reader that can wait for data without a buffer, so an idle keep-alive
/// connection holds no buffer memory.
pub(crate) trait Readable {
    /// Ready when a read would not block (data, end of stream or an error). Polled,
    /// not a future: what an idle connection waits on stays small.
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>>;
}

impl Readable for tokio::net::tcp::OwnedReadHalf {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.as_ref().poll_read_ready(cx)
    }
}

/// Serves requests on one connection until it closes, idles out or the server drains.
/// `buf` holds bytes already read from `reader`. Between requests the connection
/// holds no buffers and its task is small: each exchange lives in its own box.
#[allow(clippy::manual_async_fn)] // the `async fn` form would keep a second copy
pub(crate) fn serve<R, W>(
    shared: Arc<Shared>,
    conn: ConnInfo,
    mut reader: R,
    mut writer: W,
    mut buf: BytesMut,
    shutdown: CancellationToken,
) -> impl Future<Output = ()>
where
    R: AsyncRead + Readable + Unpin,
    W: AsyncWrite + TryWrite + Unpin,
{
    // A function returning an `async move` block rather than an `async fn`: the
    // block's captures are the arguments' only copy (an `async fn` keeps two), in the
    // task of every idle connection.
    async move {
        let mut first = true;
        let mut deadline = Deadline::new(Instant::now() + conn.limits.header_timeout);
        loop {
            let reading = read_head(
                &mut reader,
                &mut buf,
                &conn,
                first,
                &shutdown,
                &mut deadline,
            );
            let head = match reading.await {
                Ok(Some(head)) => head,
                Ok(None) => break,
                Err(rejection) => {
                    Box::pin(reject(&shared, &conn, &mut writer, rejection)).await;
                    break;
                }
            };
            first = false;
            let exchange = exchange(
                &shared,
                &conn,
                &mut reader,
                &mut writer,
                &mut buf,
                head,
                &shutdown,
            );
            if !Box::pin(exchange).await {
                break;
            }
        }
        linger_close(&mut reader, &mut writer).await;
    }
}

/// Reads the next head. `Ok(None)`: the connection ended or idled out quietly.
async fn read_head<R: AsyncRead + Readable + Unpin>(
    reader: &mut R,
    buf: &mut BytesMut,
    conn: &ConnInfo,
    first: bool,
    shutdown: &CancellationToken,
    deadline: &mut Deadline,
) -> Result<Option<Head>, Rejection> {
    let limits = &conn.limits;
    if buf.is_empty() {
        // Waiting between requests: idle timeout, or the server is draining.
        let wait = if first {
            limits.header_timeout
        } else {
            limits.idle_timeout
        };
        let due = Instant::now() + wait;
        return_read_buffer(std::mem::take(buf)); // an idle connection keeps no buffer
        if !wait_for_request(reader, shutdown, deadline, due).await {
            return Ok(None);
        }
        *buf = lend_read_buffer();
        // Readiness can be spurious: the read itself is bounded too.
        match deadline.run(due, reader.read_buf(buf)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return Ok(None),
        }
    }
    let arrived = Instant::now();
    let due = arrived + limits.header_timeout;
    loop {
        if let Some(head) = head::parse(buf, arrived)? {
            return Ok(Some(head));
        }
        if buf.len() >= limits.max_header_bytes {
            return Err(Rejection {
                cause: Cause::HeaderTooLarge,
                accept: None,
            });
        }
        buf.reserve(READ_BUFFER.min(limits.max_header_bytes + 1 - buf.len()));
        match deadline.run(due, reader.read_buf(buf)).await {
            Ok(Ok(n)) if n > 0 => {}
            Ok(_) => return Ok(None), // closed mid-head: nobody to answer
            Err(_) => {
                return Err(Rejection {
                    cause: Cause::HeaderTimeout,
                    accept: None,
                })
            }
        }
    }
}

/// Waits between requests until the client sends something (`true`), or the idle
/// timeout passes or the server drains (`false`). Polled by hand rather than as a
/// `select!` of futures: this is the state idle connections spend their time in, and
/// it is now a few words instead of about 500 bytes per connection.
async fn wait_for_request<R: Readable>(
    reader: &R,
    shutdown: &CancellationToken,
    deadline: &mut Deadline,
    due: Instant,
) -> bool {
    let drained = shutdown.cancelled();
    tokio::pin!(drained);
    poll_fn(|cx| {
        if let Poll::Ready(ready) = reader.poll_read_ready(cx) {
            return Poll::Ready(ready.is_ok());
        }
        if drained.as_mut().poll(cx).is_ready() {
            return Poll::Ready(false);
        }
        deadline.poll_until(cx, due).map(|()| false)
    })
    .await
}

/// One request and its response. `false`: the connection must close.
async fn exchange<R, W>(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    reader: &mut R,
    writer: &mut W,
    buf: &mut BytesMut,
    head: Head,
    shutdown: &CancellationToken,
) -> bool
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + TryWrite + Unpin,
{
    let Head {
        request,
        framing,
        keep_alive,
        expects_continue,
        arrived,
        present,
    } = head;
    let limit = conn.limits.max_body_bytes;
    let too_large = matches!(framing, BodyFraming::Length(n) if limit.is_some_and(|l| n > l));
    let wants_continue = expects_continue && framing != BodyFraming::None && !too_large;
    let continued = async {
        writer
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .await
            .is_ok()
    };
    if wants_continue && !continued.await {
        return false;
    }
    let answering = Answering {
        version: request.version(),
        head_request: request.method() == Method::HEAD,
        keep_alive: keep_alive && !shutdown.is_cancelled(),
        write_timeout: conn.limits.idle_timeout,
    };
    let (tx, body) = match framing {
        BodyFraming::None => (None, RequestBody::empty()),
        BodyFraming::Length(n) => channel(Some(n)),
        BodyFraming::Chunked => channel(None),
    };
    let mut request = request;
    *request.body_mut() = body;
    let mut pump_end = tx.is_none().then_some(PumpEnd::Complete);
    let pump = async {
        match tx {
            Some(tx) => {
                let input = Input {
                    reader,
                    buf,
                    idle: conn.limits.idle_timeout,
                };
                // Boxed: most requests have no body, and this future is copied into a
                // box per request.
                Box::pin(pump(input, framing, limit, tx)).await
            }
            None => PumpEnd::Complete,
        }
    };
    tokio::pin!(pump);
    // In its own block: the finished handler's state then shares space with the
    // response writer's in this future, which is copied into a box per request.
    let outcome = {
        let handle = proxy::handle(shared, conn, request, arrived, present);
        tokio::pin!(handle);
        alongside(pump.as_mut(), &mut pump_end, handle).await
    };
    let status = outcome.response.status().as_u16();
    let response = outcome
        .response
        .map(|b| LoggedBody::new(b, status, outcome.log, &shared.access_log));
    let answering = Answering {
        keep_alive: answering.keep_alive && !outcome.close,
        ..answering
    };
    let write = write_response(writer, response, answering);
    tokio::pin!(write);
    let written = alongside(pump.as_mut(), &mut pump_end, write).await;
    written == Written::KeepAlive && pump_end == Some(PumpEnd::Complete)
}

/// Runs `work` while the request body keeps streaming up through `pump`, whose end is
/// noted in `pump_end` (already set when there is no body to pump).
async fn alongside<F: Future>(
    mut pump: Pin<&mut impl Future<Output = PumpEnd>>,
    pump_end: &mut Option<PumpEnd>,
    mut work: Pin<&mut F>,
) -> F::Output {
    poll_fn(|cx| {
        if pump_end.is_none() {
            if let Poll::Ready(end) = pump.as_mut().poll(cx) {
                *pump_end = Some(end);
            }
        }
        work.as_mut().poll(cx)
    })
    .await
}

fn channel(
    length: Option<u64>,
) -> (
    Option<mpsc::Sender<Result<bytes::Bytes, crate::BodyError>>>,
    RequestBody,
) {
    let (tx, rx) = mpsc::channel(4);
    (Some(tx), RequestBody::channel(rx, length))
}

/// Answers a head that cannot be served, then the connection closes.
async fn reject<W: AsyncWrite + TryWrite + Unpin>(
    shared: &Shared,
    conn: &ConnInfo,
    writer: &mut W,
    rejection: Rejection,
) {
    let snapshot = shared.snapshot.load();
    let request_id = crate::headers::generate_request_id();
    let failure = Failure::new(rejection.cause, rejection.accept.as_ref());
    let response = proxy::generated(&snapshot, &failure, &request_id);
    proxy::count_generated(shared, &snapshot, conn, None, &failure);
    if let Some(view) = snapshot.listeners.get(&*conn.listener) {
        view.metrics.request(None, failure.status.as_u16());
    }
    let log = shared
        .access_log
        .enabled()
        .then(|| RequestLog::rejected(conn, &request_id, rejection.cause));
    let status = response.status().as_u16();
    let response = response.map(|b| LoggedBody::new(b, status, log, &shared.access_log));
    let answering = Answering {
        version: http::Version::HTTP_11,
        head_request: false,
        keep_alive: false,
        write_timeout: conn.limits.idle_timeout,
    };
    let _ = write_response(writer, response, answering).await;
}

/// Closes after the last response without resetting it away: stop writing, then read
/// and discard for a moment so unread request bytes do not turn the close into a RST
/// that could destroy the response in flight.
async fn linger_close<R, W>(reader: &mut R, writer: &mut W)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let _ = writer.shutdown().await;
    // On the heap: an array here would sit in every connection's task while it idles.
    let mut scratch = vec![0u8; 4096];
    let deadline = Instant::now() + std::time::Duration::from_secs(1);
    for _ in 0..64 {
        match timeout_at(deadline, reader.read(&mut scratch)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => break,
        }
    }
}
