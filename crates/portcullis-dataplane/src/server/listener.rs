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

/// A listener's sockets, one per worker on the same address, not yet accepting.
pub(super) struct BoundListener {
    pub name: Arc<str>,
    pub configured: SocketAddr,
    pub local_addr: SocketAddr,
    pub max_connections: usize,
    pub sockets: Vec<std::net::TcpListener>,
}

impl BoundListener {
    /// Binds `workers` sockets with `SO_REUSEPORT`; with port 0, the first one picks
    /// the port and the others join it.
    pub(super) fn bind(
        config: &portcullis_config::Listener,
        workers: usize,
    ) -> std::io::Result<Self> {
        let first = bind_socket(config.address)?;
        let local_addr = first.local_addr()?;
        let mut sockets = vec![first];
        for _ in 1..workers.max(1) {
            sockets.push(bind_socket(local_addr)?);
        }
        Ok(Self {
            name: config.name.as_str().into(),
            configured: config.address,
            local_addr,
            max_connections: config.max_connections,
            sockets,
        })
    }
}

fn bind_socket(address: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(address), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// What an accept loop needs besides its socket.
#[derive(Clone)]
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
    /// Accepts on `socket` until `stop`; each connection runs as a task on
    /// `connections`, on this worker. Must run on the worker that owns `socket`.
    pub(super) async fn run(self, name: Arc<str>, socket: std::net::TcpListener) {
        let listener = match TcpListener::from_std(socket) {
            Ok(listener) => listener,
            Err(e) => return tracing::error!(listener = %name, error = %e, "cannot accept"),
        };
        // This worker's own child of the listener's token: each request checks it, and
        // a token's state sits behind a mutex that both workers would otherwise share.
        let stop = self.stop.child_token();
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = stop.cancelled() => break,
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(listener = %name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            if self.open.get() >= self.max_connections.load(Ordering::Relaxed) {
                drop(stream); // over max_connections: closed at once
                continue;
            }
            let guard = OpenConnection::new(&self.open);
            let (shared, stop, name) = (Arc::clone(&self.shared), stop.clone(), Arc::clone(&name));
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
