//! The admin listener's lifecycle: bind, accept, serve HTTP/1.1, shut down.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Token;
use crate::handlers::{self, State};
use crate::AdminSource;

/// A request head must arrive within this; an admin port is no place for slowloris.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// After shutdown, open requests (a reload, a scrape) get this long to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// A failed accept (out of file descriptors, most likely) is retried after this.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The admin listener, bound and not yet serving.
///
/// ```no_run
/// # use std::sync::Arc;
/// # async fn example(source: Arc<dyn portcullis_admin::AdminSource>) -> std::io::Result<()> {
/// use portcullis_admin::AdminServer;
/// let server = AdminServer::bind("127.0.0.1:9901".parse().unwrap()).await?;
/// let render = Arc::new(|| String::from("# no metrics\n"));
/// server.run(source, render, None, std::future::pending()).await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct AdminServer {
    listener: TcpListener,
    local_addr: SocketAddr,
}

impl AdminServer {
    /// Binds `address` (the config's `admin.address`). Must be called inside a tokio
    /// runtime.
    pub async fn bind(address: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let local_addr = listener.local_addr()?;
        Ok(Self {
            listener,
            local_addr,
        })
    }

    /// The address bound to (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves the admin endpoints until `shutdown` resolves, then stops accepting,
    /// closes idle connections and gives open requests up to 5 s to finish.
    ///
    /// `render_metrics` returns the Prometheus text exposition (the binary passes its
    /// exporter handle's `render`). When `token` is `Some`, `POST /api/v1/reload`
    /// requires `Authorization: Bearer <token>`. Resolve `shutdown` after the data
    /// plane has drained, so `/readyz` keeps answering 503 while it does.
    pub async fn run(
        self,
        source: Arc<dyn AdminSource>,
        render_metrics: Arc<dyn Fn() -> String + Send + Sync>,
        token: Option<String>,
        shutdown: impl Future<Output = ()>,
    ) {
        let state = Arc::new(State {
            source,
            render_metrics,
            token: token.map(Token::new),
        });
        let stop = CancellationToken::new();
        let connections = TaskTracker::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _peer)) => {
                        connections.spawn(serve_connection(Arc::clone(&state), stream, stop.clone()));
                    }
                    Err(error) => {
                        tracing::warn!(%error, "admin: accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
            }
        }
        drop(self.listener);
        stop.cancel();
        connections.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, connections.wait())
            .await
            .is_err()
        {
            tracing::warn!(remaining = connections.len(), "admin: shutdown grace over");
        }
    }
}

/// Serves one connection until the client closes it or shutdown is asked for.
async fn serve_connection(state: Arc<State>, stream: TcpStream, stop: CancellationToken) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| {
        let state = Arc::clone(&state);
        async move { Ok::<_, Infallible>(handlers::handle(state, request).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, "admin: connection ended with an error");
    }
}
