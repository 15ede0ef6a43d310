//! Body types that flow through the proxy in both directions.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::sync::mpsc;

use crate::upstream::{OriginFields, PooledBody};

/// Why a request body could not be read to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body exceeded the listener's `max_body_bytes`.
    #[error("request body exceeds max_body_bytes")]
    TooLarge,
    /// The client went away mid-body.
    #[error("client closed the connection mid-body")]
    ClientClosed,
    /// The body's framing (chunked encoding) is broken.
    #[error("malformed request body framing")]
    Malformed,
}

/// A request body on its way upstream, counted against `max_body_bytes`.
pub struct RequestBody {
    source: Source,
    remaining_hint: Option<u64>,
    received: u64,
    limit: Option<u64>,
}

impl std::fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestBody")
            .field("received", &self.received)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

enum Source {
    Empty,
    /// Fed by the HTTP/1.1 connection task, which owns the socket.
    Channel(mpsc::Receiver<Result<Bytes, BodyError>>),
    /// An HTTP/2 stream.
    H2(Incoming),
    /// Held whole in memory so that it can be sent again on a retry.
    Full(Option<Bytes>),
}

impl RequestBody {
    fn new(source: Source, remaining_hint: Option<u64>, limit: Option<u64>) -> Self {
        Self {
            source,
            remaining_hint,
            received: 0,
            limit,
        }
    }

    /// A body with nothing in it.
    pub fn empty() -> Self {
        Self::new(Source::Empty, Some(0), None)
    }

    pub(crate) fn channel(
        rx: mpsc::Receiver<Result<Bytes, BodyError>>,
        length: Option<u64>,
    ) -> Self {
        Self::new(Source::Channel(rx), length, None)
    }

    /// A body held in memory, sent as one frame.
    pub(crate) fn full(data: Bytes) -> Self {
        let length = data.len() as u64;
        let source = if data.is_empty() {
            Source::Empty
        } else {
            Source::Full(Some(data))
        };
        Self::new(source, Some(length), None)
    }

    pub(crate) fn h2(incoming: Incoming, limit: Option<u64>) -> Self {
        let remaining_hint = incoming.size_hint().exact();
        Self::new(Source::H2(incoming), remaining_hint, limit)
    }

    /// The whole body, when it is held in memory and not sent yet.
    pub(crate) fn in_memory(&self) -> Option<&Bytes> {
        match &self.source {
            Source::Full(Some(data)) => Some(data),
            _ => None,
        }
    }

    /// Marks an in-memory body as sent (it went out with the request head).
    pub(crate) fn skip_in_memory(&mut self) {
        if let Source::Full(Some(_)) = self.source {
            self.source = Source::Empty;
        }
    }

    fn count(&mut self, data: &Bytes) -> Result<(), BodyError> {
        self.received += data.len() as u64;
        match self.limit {
            Some(limit) if self.received > limit => Err(BodyError::TooLarge),
            _ => Ok(()),
        }
    }

    fn finish(&mut self) {
        self.source = Source::Empty;
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        let next = match &mut this.source {
            Source::Empty => None,
            Source::Channel(rx) => ready!(rx.poll_recv(cx)),
            Source::Full(data) => data.take().map(Ok),
            Source::H2(incoming) => match ready!(Pin::new(incoming).poll_frame(cx)) {
                None => None,
                Some(Err(_)) => Some(Err(BodyError::ClientClosed)),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => Some(Ok(data)),
                    // Request trailers are not forwarded.
                    Err(_) => return Poll::Ready(None),
                },
            },
        };
        let frame = match next {
            None => {
                this.finish();
                None
            }
            Some(Err(e)) => Some(Err(e)),
            Some(Ok(data)) => Some(this.count(&data).map(|()| Frame::data(data))),
        };
        if this.remaining_hint.is_some_and(|n| this.received >= n) {
            this.finish(); // all declared bytes are out: nothing more will come
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.source, Source::Empty)
    }

    fn size_hint(&self) -> SizeHint {
        match self.remaining_hint {
            Some(n) => SizeHint::with_exact(n.saturating_sub(self.received)),
            None => SizeHint::default(),
        }
    }
}

/// A response body on its way to the client: generated here, or relayed from an origin.
// Relayed is the common case, and boxing it would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
pub enum ResponseBody {
    /// A body held whole in memory (generated responses).
    Full(Option<Bytes>),
    /// An origin's body, returning its connection to the pool when done.
    Upstream(PooledBody),
}

impl ResponseBody {
    /// An empty body.
    pub fn empty() -> Self {
        Self::Full(None)
    }

    /// A relayed origin's end-to-end fields: they are not in the response's map.
    pub(crate) fn origin_fields(&self) -> Option<&OriginFields> {
        match self {
            ResponseBody::Full(_) => None,
            ResponseBody::Upstream(body) => Some(body.origin_fields()),
        }
    }
}

/// A relayed body that could not be delivered whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    /// The origin's body ended early, was reset, or broke its framing.
    #[error("the origin's response body was cut short")]
    Incomplete,
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = RelayError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, RelayError>>> {
        match self.get_mut() {
            ResponseBody::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            ResponseBody::Upstream(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ResponseBody::Full(data) => data.is_none(),
            ResponseBody::Upstream(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResponseBody::Full(data) => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            ResponseBody::Upstream(body) => body.size_hint(),
        }
    }
}
