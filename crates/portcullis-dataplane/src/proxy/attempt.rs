//! The request as retries need it: kept whole when it is small enough to send again,
//! so one failed attempt does not lose it.

use bytes::{Bytes, BytesMut};
use http::{Method, Request};
use http_body::Body;
use http_body_util::BodyExt;
use portcullis_config::Retry;

use super::ProxiedRequest;
use crate::{BodyError, Cause, RequestBody};

/// The request of every attempt.
pub(super) struct Attempts {
    /// The request not yet sent: the original, or one handed back unsent.
    pending: Option<ProxiedRequest>,
    /// A request that was sent, handed back by the exchange without its body: with
    /// `replay`, enough to send it again without having copied it up front.
    sent: Option<ProxiedRequest>,
    /// The body, kept whole when it may be sent again.
    replay: Option<Bytes>,
    pub idempotent: bool,
}

impl Attempts {
    /// Whether the body should be read whole first, so that it can be sent again:
    /// retries on, a body, and a declared length within `max_retry_body_bytes`.
    pub(super) fn needs_buffering(request: &Request<RequestBody>, retry: &Retry) -> bool {
        // The body knows its declared length: no header lookup.
        let declared = request.body().size_hint().exact();
        let keepable = declared.is_some_and(|n| n <= retry.max_retry_body_bytes);
        retry.attempts > 0 && !request.body().is_end_stream() && keepable
    }

    /// Attempts with nothing to buffer: no body (it can always be sent again), or one
    /// that streams through once.
    pub(super) fn unbuffered(request: ProxiedRequest, retry: &Retry) -> Self {
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
        mut request: ProxiedRequest,
        retry: &Retry,
    ) -> Result<Self, Cause> {
        let idempotent = is_idempotent(request.method());
        let body = std::mem::replace(request.body_mut(), RequestBody::empty());
        let bytes = collect(body, retry.max_retry_body_bytes).await?;
        *request.body_mut() = RequestBody::full(bytes.clone());
        Ok(Self {
            pending: Some(request),
            sent: None,
            replay: Some(bytes),
            idempotent,
        })
    }

    /// The request for the next attempt, if there is one to send.
    pub(super) fn take(&mut self) -> Option<ProxiedRequest> {
        if let Some(request) = self.pending.take() {
            return Some(request);
        }
        let bytes = self.replay.clone()?;
        let mut request = self.sent.take()?;
        *request.body_mut() = RequestBody::full(bytes);
        Some(request)
    }

    /// A request that never left, for the next attempt.
    pub(super) fn give_back(&mut self, request: ProxiedRequest) {
        self.pending = Some(request);
    }

    /// A request that went out (its body taken), for rebuilding it if a retry follows.
    pub(super) fn sent(&mut self, head: ProxiedRequest) {
        self.sent = Some(head);
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
