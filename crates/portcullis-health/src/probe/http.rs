//! `kind = "http"`: `GET path` on a fresh HTTP/1.1 connection; the backend passes
//! when the response status is in `expect_status`. Only the head is awaited; the
//! body is never read and the connection is dropped.

use bytes::Bytes;
use http::header::{CONNECTION, HOST, USER_AGENT};
use http::{Request, Uri};
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use portcullis_config::{Backend, HealthCheck, StatusRanges};

use super::{connect::connect, Probe};
use crate::error::ProbeError;

/// `User-Agent` of probes, so origins can tell them from traffic.
const PROBE_USER_AGENT: &str = "portcullis-health";

/// An HTTP/1.1 GET probe of one backend.
#[derive(Debug, Clone)]
pub struct HttpProbe {
    host: String,
    port: u16,
    path: String,
    /// `Host` header: the check's `host`, else the backend address as written.
    authority: String,
    expect: StatusRanges,
}

impl HttpProbe {
    /// A probe of `backend` as `check` describes it.
    pub fn new(check: &HealthCheck, backend: &Backend) -> Self {
        let authority = check
            .host
            .clone()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| backend.address.clone());
        Self {
            host: backend.host.clone(),
            port: backend.port,
            path: check.path.clone(),
            authority,
            expect: check.expect_status.clone(),
        }
    }

    fn request(&self) -> Result<Request<Empty<Bytes>>, ProbeError> {
        let uri: Uri = self
            .path
            .parse()
            .map_err(|e: http::uri::InvalidUri| ProbeError::Request(e.into()))?;
        Request::get(uri)
            .header(HOST, self.authority.as_str())
            .header(USER_AGENT, PROBE_USER_AGENT)
            .header(CONNECTION, "close")
            .body(Empty::new())
            .map_err(ProbeError::Request)
    }
}

impl Probe for HttpProbe {
    async fn probe(&self) -> Result<(), ProbeError> {
        let request = self.request()?;
        let stream = connect(&self.host, self.port).await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(ProbeError::Http)?;
        // Drive the connection in this task; dropping it afterwards closes the
        // socket. With `Connection: close` the connection may finish first: the
        // response (or hyper's "closed before message completed") is in `send`.
        let mut conn = std::pin::pin!(conn);
        let mut send = std::pin::pin!(sender.send_request(request));
        let response = tokio::select! {
            biased;
            response = &mut send => response,
            closed = &mut conn => {
                closed.map_err(ProbeError::Http)?;
                send.await
            }
        }
        .map_err(ProbeError::Http)?;
        let status = response.status().as_u16();
        if self.expect.contains(status) {
            Ok(())
        } else {
            Err(ProbeError::Status(status))
        }
    }
}
