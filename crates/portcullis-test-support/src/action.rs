//! [`Action`]: what a fake origin does with one request, and the
//! [`Response`] builder for well-formed answers.

use std::time::Duration;

use bytes::Bytes;

/// The bytes [`Action::Stream`] repeats: body byte `i` is
/// `STREAM_PATTERN[i % STREAM_PATTERN.len()]`.
pub const STREAM_PATTERN: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

/// The `len` bytes of an [`Action::Stream`] body starting at `offset`, to
/// compare with what a client received.
pub fn stream_pattern(offset: u64, len: usize) -> Vec<u8> {
    let period = STREAM_PATTERN.len() as u64;
    (offset..offset + len as u64)
        .map(|i| STREAM_PATTERN[(i % period) as usize])
        .collect()
}

/// What a [`FakeOrigin`](crate::FakeOrigin) does with one complete request
/// (head and body already read).
#[derive(Debug, Clone)]
pub enum Action {
    /// Answer with a well-formed response.
    Respond(Response),
    /// `200` with `Content-Length: len` and a body of [`STREAM_PATTERN`]
    /// generated while writing, so any size costs no memory.
    Stream {
        /// Body length in bytes.
        len: u64,
    },
    /// Close with a TCP RST (`SO_LINGER` 0) without answering: the client
    /// sees `ECONNRESET`.
    Reset,
    /// Close with a FIN without answering.
    Close,
    /// Write these bytes raw (e.g. `NOT HTTP\r\n\r\n`), then close with a FIN.
    Garbage(Bytes),
    /// Never answer. The connection is read (and discarded) until the client
    /// closes it or the origin stops; the request counts as in flight until then.
    Hang,
    /// `200` with `Content-Type: application/json` and the
    /// [`ReceivedRequest`](crate::ReceivedRequest) as body; parse it with
    /// [`ReceivedRequest::from_echo`](crate::ReceivedRequest::from_echo).
    Echo,
}

impl Action {
    /// `Respond(Response::ok())`: 200 with body `ok`.
    pub fn ok() -> Self {
        Self::Respond(Response::ok())
    }

    /// `Respond(Response::new(status))`: an empty body.
    pub fn status(status: u16) -> Self {
        Self::Respond(Response::new(status))
    }
}

impl From<Response> for Action {
    fn from(response: Response) -> Self {
        Self::Respond(response)
    }
}

/// A response for [`Action::Respond`].
///
/// Framing is added for you: `Content-Length`, or chunked encoding after
/// [`Response::chunked`]. If you set `Content-Length` or `Transfer-Encoding`
/// yourself nothing is added and the body is written as given, which lets
/// you lie (e.g. claim 100 bytes, send 10, then [`Response::then_close`]).
/// No body is written for HEAD requests, 1xx, 204 and 304.
#[derive(Debug, Clone)]
pub struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
    pub(crate) delay: Option<Duration>,
    pub(crate) body_delay: Option<Duration>,
    pub(crate) chunked: bool,
    pub(crate) then_close: bool,
}

impl Response {
    /// `status` with no headers and an empty body.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            delay: None,
            body_delay: None,
            chunked: false,
            then_close: false,
        }
    }

    /// `200` with body `ok`.
    pub fn ok() -> Self {
        Self::new(200).body("ok")
    }

    /// Replaces the status code (any three digits, valid or not).
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Appends a header, sent as written.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Waits this long before writing the head (a slow origin).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Waits this long between the head and the body (a slow body).
    pub fn body_delay(mut self, delay: Duration) -> Self {
        self.body_delay = Some(delay);
        self
    }

    /// Sends the body with `Transfer-Encoding: chunked`.
    pub fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }

    /// Closes the connection (FIN) right after writing, without adding a
    /// `Connection: close` header.
    pub fn then_close(mut self) -> Self {
        self.then_close = true;
        self
    }
}
