//! The request as retries need it: kept whole when it is small enough to send again,
//! so one failed attempt does not lose it.

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_LENGTH;
use http::request::Parts;
use http::{Method, Request};
use http_body::Body;
use http_body_util::BodyExt;
use portcullis_config::Retry;

use crate::{BodyError, Cause, RequestBody};

/// The request of every attempt.
pub(super) struct Attempts {
    /// The request not yet sent: the original, or one handed back unsent.
    pending: Option<Request<RequestBody>>,
    /// The head of a request that was sent, handed back by the exchange: with
    /// `replay`, enough to send it again without having copied it up front.
    sent: Option<Parts>,
    /// The body, kept whole when it may be sent again.
    replay: Option<Bytes>,
    pub idempotent: bool,
}

impl Attempts {
    /// Whether the body should be read whole first, so that it can be sent again:
    /// retries on, a body, and a declared length within `max_retry_body_bytes`.
    pub(super) fn needs_buffering(request: &Request<RequestBody>, retry: &Retry) -> bool {
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let keepable = declared.is_some_and(|n| n <= retry.max_retry_body_bytes);
        retry.attempts > 0 && !request.body().is_end_stream() && keepable
    }

    /// Attempts with nothing to buffer: no body (it can always be sent again), or one
    /// that streams through once.
    pub(super) fn unbuffered(request: Request<RequestBody>, retry: &Retry) -> Self {
        let idempotent = is_idempotent(request.method());
        let empty = request.body().is_end_stream();
        let replay = (retry.attempts > 0 && empty).then(Bytes::new);
        Self {
            pending: Some(request),
            sent: None,
            replay,
            idempotent,
        }
    }

    /// Reads the whole (small) body so that it can be sent again.
    pub(super) async fn buffered(
        request: Request<RequestBody>,
        retry: &Retry,
    ) -> Result<Self, Cause> {
        let idempotent = is_idempotent(request.method());
        let (parts, body) = request.into_parts();
        let bytes = collect(body, retry.max_retry_body_bytes).await?;
        let pending = Request::from_parts(parts, RequestBody::full(bytes.clone()));
        Ok(Self {
            pending: Some(pending),
            sent: None,
            replay: Some(bytes),
            idempotent,
        })
    }

    /// The request for the next attempt, if there is one to send.
    pub(super) fn take(&mut self) -> Option<Request<RequestBody>> {
        if let Some(request) = self.pending.take() {
            return Some(request);
        }
        let bytes = self.replay.clone()?;
        Some(Request::from_parts(
            self.sent.take()?,
            RequestBody::full(bytes),
        ))
    }

    /// A request that never left, for the next attempt.
    pub(super) fn give_back(&mut self, request: Request<RequestBody>) {
        self.pending = Some(request);
    }

    /// The head of a request that went out, for rebuilding it if a retry follows.
    pub(super) fn sent(&mut self, parts: Parts) {
        self.sent = Some(parts);
    }

    /// Whether another attempt has a request to send.
    pub(super) fn can_repeat(&self) -> bool {
        self.pending.is_some() || (self.sent.is_some() && self.replay.is_some())
    }
}

/// RFC 9110 §9.2.2: repeating these has the same effect as sending them once.
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

async fn collect(mut body: RequestBody, max: u64) -> Result<Bytes, Cause> {
    let mut buffer = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| match e {
            BodyError::TooLarge => Cause::BodyTooLarge,
            BodyError::Malformed => Cause::BadRequest,
            BodyError::ClientClosed => Cause::ClientClosed,
        })?;
        if let Ok(data) = frame.into_data() {
            buffer.extend_from_slice(&data);
            if buffer.len() as u64 > max {
                // The declared length lied; the framing layer will catch the rest.
                return Err(Cause::BadRequest);
            }
        }
    }
    Ok(buffer.freeze())
}
