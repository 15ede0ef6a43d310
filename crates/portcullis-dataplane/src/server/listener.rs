//! One bound listener and its accept loop.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Socket, Type};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::workers::Load;
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
    /// A child of `stop` per worker, for the connections it serves: each request
    /// checks its token, and a token's state sits behind a mutex that workers sharing
    /// one token would contend on.
    pub worker_stops: Arc<[CancellationToken]>,
    pub connections: TaskTracker,
    /// Updated in place by a reload.
    pub max_connections: Arc<AtomicUsize>,
    /// Connections open right now; also read by the status API.
    pub open: Arc<OpenCount>,
    /// Every worker's runtime, to hand a connection to.
    pub workers: Arc<[Handle]>,
    /// Connections open per worker, to pick the one to hand to.
    pub load: Arc<Load>,
}

impl AcceptLoop {
    /// Accepts on `socket` until `stop`; each connection runs as a task on
    /// `connections`, on the least busy worker. Must run on worker `index`, which
    /// owns `socket`.
    pub(super) async fn run(self, name: Arc<str>, socket: std::net::TcpListener, index: usize) {
        let listener = match TcpListener::from_std(socket) {
            Ok(listener) => listener,
            Err(e) => return tracing::error!(listener = %name, error = %e, "cannot accept"),
        };
        let accepting = &self.worker_stops[index];
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = accepting.cancelled() => break,
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
            let worker = self.load.least_busy(index);
            let guards = (OpenConnection::new(&self.open), self.load.open(worker));
            let shared = Arc::clone(&self.shared);
            let stop = self.worker_stops[worker].clone();
            let name = Arc::clone(&name);
            if worker == index {
                self.connections.spawn(async move {
                    connection::serve(shared, name, stream, peer, stop).await;
                    drop(guards);
                });
                continue;
            }
            // To another worker: its runtime must own the socket's registration.
            let Ok(stream) = stream.into_std() else {
                continue;
            };
            let serve = async move {
                if let Ok(stream) = TcpStream::from_std(stream) {
                    connection::serve(shared, name, stream, peer, stop).await;
                }
                drop(guards);
            };
            self.connections.spawn_on(serve, &self.workers[worker]);
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
