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
    /// A copy to rebuild the request from once it has been sent.
    template: Option<(Parts, Bytes)>,
    pub idempotent: bool,
}

impl Attempts {
    /// Buffers the body when retries are on and it is at most `max_retry_body_bytes`.
    pub(super) async fn new(request: Request<RequestBody>, retry: &Retry) -> Result<Self, Cause> {
        let idempotent = is_idempotent(request.method());
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let small = request.body().is_end_stream()
            || declared.is_some_and(|n| n <= retry.max_retry_body_bytes);
        if retry.attempts == 0 || !small {
            return Ok(Self {
                pending: Some(request),
                template: None,
                idempotent,
            });
        }
        let (parts, body) = request.into_parts();
        let bytes = collect(body, retry.max_retry_body_bytes).await?;
        let pending = Request::from_parts(parts.clone(), RequestBody::full(bytes.clone()));
        Ok(Self {
            pending: Some(pending),
            template: Some((parts, bytes)),
            idempotent,
        })
    }

    /// The request for the next attempt, if there is one to send.
    pub(super) fn take(&mut self) -> Option<Request<RequestBody>> {
        self.pending.take().or_else(|| {
            let (parts, bytes) = self.template.as_ref()?;
            Some(Request::from_parts(
                parts.clone(),
                RequestBody::full(bytes.clone()),
            ))
        })
    }

    /// A request that never left, for the next attempt.
    pub(super) fn give_back(&mut self, request: Request<RequestBody>) {
        self.pending = Some(request);
    }

    /// Whether another attempt has a request to send.
    pub(super) fn can_repeat(&self) -> bool {
        self.pending.is_some() || self.template.is_some()
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
