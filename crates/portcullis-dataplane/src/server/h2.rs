//! HTTP/2 with prior knowledge, served by hyper; each stream goes through the same
//! request path as HTTP/1.1.

use std::convert::Infallible;
use std::sync::Arc;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::access_log::LoggedBody;
use crate::fields::Present;
use crate::proxy::{self, ConnInfo};
use crate::{RequestBody, ResponseBody, Shared};

/// Serves one HTTP/2 connection until it ends; on drain, sends GOAWAY and lets the
/// open streams finish.
pub(crate) async fn serve<S>(
    shared: Arc<Shared>,
    conn: ConnInfo,
    io: S,
    shutdown: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let max_header_bytes = u32::try_from(conn.limits.max_header_bytes).unwrap_or(u32::MAX);
    let service = service_fn(move |request: Request<Incoming>| {
        let shared = Arc::clone(&shared);
        let conn = conn.clone();
        async move {
            let request = request.map(|body| RequestBody::h2(body, conn.limits.max_body_bytes));
            let outcome = proxy::handle(
                &shared,
                &conn,
                Box::new(request),
                Instant::now(),
                Present::UNKNOWN,
            )
            .await;
            let status = outcome.response.status().as_u16();
            let log = outcome.log;
            let response = with_origin_fields(outcome.response)
                .map(|b| LoggedBody::new(b, status, log, &shared.access_log));
            Ok::<_, Infallible>(response)
        }
    });
    let mut builder = http2::Builder::new(TokioExecutor::new());
    builder.max_header_list_size(max_header_bytes);
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// A relayed response's origin fields put into its map, which hyper writes.
fn with_origin_fields(response: Response<ResponseBody>) -> Response<ResponseBody> {
    let (mut parts, mut body) = response.into_parts();
    if let ResponseBody::Upstream(relayed) = &mut body {
        relayed.take_origin_fields().prepend_to(&mut parts.headers);
    }
    Response::from_parts(parts, body)
}
