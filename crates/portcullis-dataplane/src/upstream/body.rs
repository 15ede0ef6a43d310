//! An origin's response body, read straight from its connection by whoever polls it;
//! at its end the connection goes back to the pool. It carries the response's fields
//! too: they are bytes on their way out, like the body (see `origin_fields`).

use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use http_body::{Body, Frame, SizeHint};
use portcullis_breaker::LimitGuard;
use tokio_util::io::poll_read_buf;

use super::conn::UpstreamConn;
use super::origin_fields::OriginFields;
use super::response::BodyFraming;
use crate::backend::InFlight;
use crate::http1::{ChunkedDecoder, Decoded};
use crate::RelayError;

/// Largest read from the origin at a time.
const READ_CHUNK: usize = 16 * 1024;

/// A relayed response body. Read to its end, its connection returns to its backend's
/// pool (when the origin keeps it alive); dropped early, the connection is closed.
pub struct PooledBody {
    /// The response's end-to-end fields, carried with its body to the writer.
    fields: OriginFields,
    conn: Option<UpstreamConn>,
    state: State,
    /// How long the connection may idle in the pool, when it can be reused.
    reuse: Option<Duration>,
    /// Also the backend whose pool takes the connection back.
    in_flight: InFlight,
    /// Places under `max_requests` and `max_requests_per_backend`: a request is in
    /// flight until its body is done, so a slowly streamed answer keeps its place.
    _cluster_place: Option<LimitGuard>,
    _backend_place: Option<LimitGuard>,
}

enum State {
    Length(u64),
    Chunked(ChunkedDecoder),
    UntilClose,
    Done,
}

impl PooledBody {
    pub(crate) fn new(
        fields: OriginFields,
        conn: UpstreamConn,
        framing: BodyFraming,
        reusable: bool,
        idle_limit: Duration,
        in_flight: InFlight,
    ) -> Self {
        let state = match framing {
            BodyFraming::Empty | BodyFraming::Length(0) => State::Done,
            BodyFraming::Length(n) => State::Length(n),
            BodyFraming::Chunked => State::Chunked(ChunkedDecoder::default()),
            BodyFraming::UntilClose => State::UntilClose,
        };
        let reuse = reusable.then_some(idle_limit);
        let mut body = Self {
            fields,
            conn: Some(conn),
            state,
            reuse,
            in_flight,
            _cluster_place: None,
            _backend_place: None,
        };
        if matches!(body.state, State::Done) {
            body.release();
        }
        body
    }

    /// The origin's end-to-end fields, as it sent them.
    pub(crate) fn origin_fields(&self) -> &OriginFields {
        &self.fields
    }

    pub(crate) fn take_origin_fields(&mut self) -> OriginFields {
        std::mem::take(&mut self.fields)
    }

    /// Answers with `id` as the request id (see [`OriginFields::request_id`]).
    pub(crate) fn echo_request_id(&mut self, id: HeaderValue) {
        self.fields.echo_request_id(id);
    }

    /// Keeps the cluster's `max_requests` place until this body is dropped.
    pub(crate) fn hold_cluster_place(&mut self, place: LimitGuard) {
        self._cluster_place = Some(place);
    }

    /// Keeps the backend's `max_requests_per_backend` place, if it has a cap, until
    /// this body is dropped.
    pub(crate) fn hold_backend_place(&mut self, place: Option<LimitGuard>) {
        self._backend_place = place;
    }

    /// The body is complete: the connection goes back to the pool if it can carry
    /// another request (nothing unread, the origin keeps it alive).
    fn release(&mut self) {
        self.state = State::Done;
        let (Some(conn), Some(idle_limit)) = (self.conn.take(), self.reuse.take()) else {
            return;
        };
        if conn.buf.is_empty() {
            self.in_flight
                .backend()
                .pool
                .current()
                .put(conn, idle_limit);
        }
    }

    fn fail(&mut self) -> Poll<Option<Result<Frame<Bytes>, RelayError>>> {
        self.conn = None;
        self.reuse = None;
        self.state = State::Done;
        Poll::Ready(Some(Err(RelayError::Incomplete)))
    }

    /// Reads more from the origin; `Ok(false)` at its end of stream.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, ()>> {
        let Some(conn) = self.conn.as_mut() else {
            return Poll::Ready(Err(()));
        };
        conn.buf.reserve(READ_CHUNK);
        match ready!(poll_read_buf(Pin::new(&mut conn.stream), cx, &mut conn.buf)) {
            Ok(0) => Poll::Ready(Ok(false)),
            Ok(_) => Poll::Ready(Ok(true)),
            Err(_) => Poll::Ready(Err(())),
        }
    }

    fn buffered(&mut self, max: u64) -> Option<Bytes> {
        let conn = self.conn.as_mut()?;
        if conn.buf.is_empty() {
            return None;
        }
        let n = (conn.buf.len() as u64).min(max) as usize;
        Some(conn.buf.split_to(n).freeze())
    }
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = RelayError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, RelayError>>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Done => return Poll::Ready(None),
                State::Length(remaining) => {
                    let remaining = *remaining;
                    if let Some(data) = this.buffered(remaining) {
                        let left = remaining - data.len() as u64;
                        this.state = State::Length(left);
                        if left == 0 {
                            this.release();
                        }
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    if !matches!(ready!(this.poll_fill(cx)), Ok(true)) {
                        return this.fail();
                    }
                }
                State::Chunked(decoder) => {
                    let Some(conn) = this.conn.as_mut() else {
                        return this.fail();
                    };
                    match decoder.decode(&mut conn.buf) {
                        Ok(Decoded::Data(data)) => return Poll::Ready(Some(Ok(Frame::data(data)))),
                        Ok(Decoded::Done) => {
                            this.release();
                            return Poll::Ready(None);
                        }
                        Ok(Decoded::NeedMore) => {
                            if !matches!(ready!(this.poll_fill(cx)), Ok(true)) {
                                return this.fail();
                            }
                        }
                        Err(_) => return this.fail(),
                    }
                }
                State::UntilClose => {
                    if let Some(data) = this.buffered(u64::MAX) {
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    match ready!(this.poll_fill(cx)) {
                        Ok(true) => {}
                        Ok(false) => {
                            this.state = State::Done;
                            this.conn = None;
                            return Poll::Ready(None);
                        }
                        Err(()) => return this.fail(),
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, State::Done)
    }

    fn size_hint(&self) -> SizeHint {
        match self.state {
            State::Done => SizeHint::with_exact(0),
            State::Length(n) => SizeHint::with_exact(n),
            _ => SizeHint::default(),
        }
    }
}
