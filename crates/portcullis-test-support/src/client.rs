//! Raw HTTP/1.1 clients: send any bytes (malformed, slow, pipelined) and
//! read back exactly one response, noting whether the server then closed.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::net::TcpStream;
use tokio::time::{timeout, timeout_at, Instant};

use crate::http_io::{self, Framing, HttpIo};

/// Default per-operation timeout of a [`RawClient`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to watch for a close after a response that did not announce
/// `Connection: close` (one that did is watched until the timeout).
const CLOSE_GRACE: Duration = Duration::from_millis(50);

/// One HTTP response as read off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// Headers in order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body after removing chunked framing.
    pub body: Bytes,
    /// The server closed (FIN or RST) the connection after this response:
    /// the body ran until close, or a close arrived within the timeout after
    /// `Connection: close`, or within 50 ms otherwise.
    pub closed: bool,
}

impl RawResponse {
    /// The first value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_all(name).first().copied()
    }

    /// Every value of header `name` (case-insensitive), in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let named = self.headers.iter();
        let named = named.filter(|(n, _)| n.eq_ignore_ascii_case(name));
        named.map(|(_, v)| v.as_str()).collect()
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Connects to `addr`, writes `request` as is, reads one response.
///
/// Everything (connect, write, read, watching for the close) fits in
/// `timeout`, else the error kind is `TimedOut`. A server that closes or
/// resets before a response head gives `UnexpectedEof` or `ConnectionReset`.
pub async fn raw_exchange(
    addr: SocketAddr,
    request: &[u8],
    timeout: Duration,
) -> io::Result<RawResponse> {
    let deadline = Instant::now() + timeout;
    let client = timeout_at(deadline, RawClient::connect(addr))
        .await
        .map_err(|_| timed_out("connect"))??;
    let mut client = client.with_timeout(deadline.saturating_duration_since(Instant::now()));
    client.send(request).await
}

/// A keep-alive connection for several requests in a row.
///
/// HEAD is recognised when a write starts with `HEAD `, so its response is
/// read without a body.
#[derive(Debug)]
pub struct RawClient {
    io: HttpIo,
    timeout: Duration,
    head_request: bool,
}

impl RawClient {
    /// Connects to `addr` (within [`DEFAULT_TIMEOUT`]).
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = timeout(DEFAULT_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| timed_out("connect"))??;
        stream.set_nodelay(true)?;
        Ok(Self {
            io: HttpIo::new(stream),
            timeout: DEFAULT_TIMEOUT,
            head_request: false,
        })
    }

    /// Sets the timeout of each later write and response read
    /// (default [`DEFAULT_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Writes raw bytes (a whole request, or a piece of one).
    pub async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some(method) = request_method(bytes) {
            self.head_request = method == b"HEAD";
        }
        timeout(self.timeout, self.io.write_all(bytes))
            .await
            .map_err(|_| timed_out("write"))?
    }

    /// Reads one response, then watches briefly whether the server closes.
    pub async fn read_response(&mut self) -> io::Result<RawResponse> {
        let deadline = Instant::now() + self.timeout;
        let (head, body, framing) = timeout_at(deadline, self.read_message())
            .await
            .map_err(|_| timed_out("response"))??;
        let closed = if framing == Framing::UntilClose {
            true
        } else if http_io::connection_has(&head.headers, "close") {
            self.wait_closed(deadline.saturating_duration_since(Instant::now()))
                .await
        } else {
            self.wait_closed(CLOSE_GRACE).await
        };
        Ok(RawResponse {
            status: head.status,
            headers: head.headers,
            body,
            closed,
        })
    }

    /// [`RawClient::write_all`] then [`RawClient::read_response`].
    pub async fn send(&mut self, request: &[u8]) -> io::Result<RawResponse> {
        self.write_all(request).await?;
        self.read_response().await
    }

    /// True if the server closes (FIN or RST) the connection within
    /// `within`; false if it stays open or sends more bytes (kept for the
    /// next read).
    pub async fn wait_closed(&mut self, within: Duration) -> bool {
        if self.io.buffered() > 0 {
            return false;
        }
        match timeout(within, self.io.fill()).await {
            Ok(Ok(0)) | Ok(Err(_)) => true,
            Ok(Ok(_)) | Err(_) => false,
        }
    }

    async fn read_message(&mut self) -> io::Result<(http_io::ResponseHead, Bytes, Framing)> {
        let Some(raw) = self.io.read_head().await? else {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before a response",
            ));
        };
        let head = http_io::parse_response_head(&raw)?;
        let framing = http_io::response_framing(head.status, &head.headers, self.head_request)?;
        let mut body = BytesMut::new();
        self.io
            .read_body(framing, &mut |chunk| body.extend_from_slice(chunk))
            .await?;
        Ok((head, body.freeze(), framing))
    }
}

/// The method token if `bytes` starts like a request line (`TOKEN `).
fn request_method(bytes: &[u8]) -> Option<&[u8]> {
    let end = bytes.iter().position(|&b| b == b' ')?;
    let method = &bytes[..end];
    let looks_like = (1..=16).contains(&method.len()) && method.iter().all(u8::is_ascii_uppercase);
    looks_like.then_some(method)
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} timed out"))
}
