//! One bound listener and its accept loop.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Socket, Type};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{connection, Shared};

/// Pending connections the kernel may queue.
const BACKLOG: i32 = 4096;

/// A listening socket, not yet accepting.
pub(super) struct BoundListener {
    pub name: Arc<str>,
    pub configured: SocketAddr,
    pub local_addr: SocketAddr,
    pub max_connections: usize,
    listener: TcpListener,
}

impl BoundListener {
    pub(super) fn bind(config: &portcullis_config::Listener) -> std::io::Result<Self> {
        let socket = Socket::new(Domain::for_address(config.address), Type::STREAM, None)?;
        socket.set_reuse_address(true)?;
        socket.set_nonblocking(true)?;
        socket.bind(&config.address.into())?;
        socket.listen(BACKLOG)?;
        let listener = TcpListener::from_std(socket.into())?;
        Ok(Self {
            name: config.name.as_str().into(),
            configured: config.address,
            local_addr: listener.local_addr()?,
            max_connections: config.max_connections,
            listener,
        })
    }
}

/// What an accept loop needs besides its socket.
pub(super) struct AcceptLoop {
    pub shared: Arc<Shared>,
    /// This listener's token: cancelled when it is removed or the server drains.
    pub stop: CancellationToken,
    pub connections: TaskTracker,
    /// Updated in place by a reload.
    pub max_connections: Arc<AtomicUsize>,
    /// Connections open right now; also read by the status API.
    pub open: Arc<OpenCount>,
}

impl AcceptLoop {
    /// Accepts until `stop`; each connection runs as a task on `connections`.
    pub(super) async fn run(self, bound: BoundListener) {
        loop {
            let accepted = tokio::select! {
                accepted = bound.listener.accept() => accepted,
                () = self.stop.cancelled() => break,
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(listener = %bound.name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            if self.open.get() >= self.max_connections.load(Ordering::Relaxed) {
                drop(stream); // over max_connections: closed at once
                continue;
            }
            let guard = OpenConnection::new(&self.open);
            let (shared, stop, name) = (
                Arc::clone(&self.shared),
                self.stop.clone(),
                Arc::clone(&bound.name),
            );
            self.connections.spawn(async move {
                connection::serve(shared, name, stream, peer, stop).await;
                drop(guard);
            });
        }
    }
}

/// A listener's open connections, as a number and as its metric.
#[derive(Debug)]
pub(crate) struct OpenCount {
    count: AtomicUsize,
    gauge: metrics::Gauge,
}

impl OpenCount {
    pub(super) fn new(listener: &str) -> Self {
        let gauge = metrics::gauge!(crate::names::DOWNSTREAM_CONNECTIONS, "listener" => listener.to_owned());
        Self {
            count: AtomicUsize::new(0),
            gauge,
        }
    }

    pub(super) fn get(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

/// Counts an open connection until dropped.
struct OpenConnection(Arc<OpenCount>);

impl OpenConnection {
    fn new(open: &Arc<OpenCount>) -> Self {
        open.count.fetch_add(1, Ordering::Relaxed);
        open.gauge.increment(1.0);
        Self(Arc::clone(open))
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::Relaxed);
        self.0.gauge.decrement(1.0);
    }
}
