//! An origin's response body that hands its connection back to the pool at its end.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use portcullis_breaker::LimitGuard;

use crate::backend::{Backend, InFlight};
use crate::RequestBody;

/// A relayed response body. When it has been read to its end, the connection goes
/// back to its backend's pool; if it is dropped early, the connection is closed.
pub struct PooledBody {
    body: Incoming,
    reuse: Option<Reuse>,
    _in_flight: InFlight,
    /// Places under `max_requests` and `max_requests_per_backend`: a request is in
    /// flight until its body is done, so a slowly streamed answer keeps its place.
    _cluster_place: Option<LimitGuard>,
    _backend_place: Option<LimitGuard>,
}

struct Reuse {
    backend: Arc<Backend>,
    sender: SendRequest<RequestBody>,
    idle_limit: Duration,
}

impl PooledBody {
    pub(crate) fn new(
        body: Incoming,
        backend: Arc<Backend>,
        sender: Option<SendRequest<RequestBody>>,
        idle_limit: Duration,
        in_flight: InFlight,
    ) -> Self {
        let reuse = sender.map(|sender| Reuse {
            backend,
            sender,
            idle_limit,
        });
        let mut pooled = Self {
            body,
            reuse,
            _in_flight: in_flight,
            _cluster_place: None,
            _backend_place: None,
        };
        if pooled.body.is_end_stream() {
            pooled.release();
        }
        pooled
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

    fn release(&mut self) {
        if let Some(reuse) = self.reuse.take() {
            reuse
                .backend
                .pool
                .current()
                .put(reuse.sender, reuse.idle_limit);
        }
    }
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let frame = ready!(Pin::new(&mut this.body).poll_frame(cx));
        match &frame {
            None => this.release(),
            Some(Ok(_)) if this.body.is_end_stream() => this.release(),
            Some(Ok(_)) => {}
            Some(Err(_)) => this.reuse = None,
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
