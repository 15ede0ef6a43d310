//! [`FakeOrigin`]: an HTTP/1.1 origin on raw tokio TCP that follows a
//! [`Script`] and records what it received.
//!
//! One accept task owns a `JoinSet` of connection tasks. Stopping shuts the
//! listening socket down at once (new connects are refused from then on) and
//! aborts the accept task, which drops the `JoinSet` and so every connection.

mod conn;
mod respond;
mod state;

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::{ReceivedRequest, Script};
use state::Shared;

/// A scripted origin listening on `127.0.0.1` (random port).
///
/// Serves keep-alive HTTP/1.1 (and 1.0) on any number of concurrent
/// connections, pipelining included; reads request bodies fully
/// (Content-Length or chunked), counting but not storing them, and answers
/// `Expect: 100-continue` with `100 Continue` first. A head that does not
/// parse closes the connection without an answer and is not counted.
/// Dropping it is [`FakeOrigin::stop`].
#[derive(Debug)]
pub struct FakeOrigin {
    addr: SocketAddr,
    shared: Arc<Shared>,
    listener: Arc<TcpListener>,
    task: JoinHandle<()>,
}

impl FakeOrigin {
    /// Binds `127.0.0.1:0` and starts serving `script`.
    ///
    /// # Panics
    /// When the loopback bind fails (a broken test machine); see
    /// [`FakeOrigin::try_start`].
    pub async fn start(script: Script) -> Self {
        match Self::try_start(script).await {
            Ok(origin) => origin,
            Err(e) => panic!("fake origin: cannot bind 127.0.0.1:0: {e}"),
        }
    }

    /// [`FakeOrigin::start`] returning the bind error instead of panicking.
    pub async fn try_start(script: Script) -> io::Result<Self> {
        let listener = Arc::new(TcpListener::bind(("127.0.0.1", 0)).await?);
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(script));
        let task = tokio::spawn(accept_loop(Arc::clone(&listener), Arc::clone(&shared)));
        Ok(Self {
            addr,
            shared,
            listener,
            task,
        })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the script; open connections use it from their next step.
    pub fn set_script(&self, script: Script) {
        self.shared.set_script(script);
    }

    /// Request heads fully received (including requests later dropped).
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// TCP connections accepted.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// The most requests ever in flight at the same time.
    pub fn max_concurrent(&self) -> usize {
        self.shared.max_concurrent.load(Ordering::SeqCst)
    }

    /// Requests in flight: head received, handling not finished (response
    /// not fully written, or still hanging/delayed).
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// Every request recorded so far, in the order their bodies completed.
    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.shared.received()
    }

    /// Stops accepting (new connects are refused immediately) and closes
    /// every connection (as soon as the runtime drops their tasks).
    /// Idempotent; also done on drop.
    pub fn stop(&self) {
        // shutdown(SHUT_RD) on a listening socket makes Linux close it
        // synchronously, so a connect right after stop() is refused instead
        // of racing with the task abort below.
        let _ = socket2::SockRef::from(&*self.listener).shutdown(Shutdown::Read);
        self.task.abort();
    }
}

impl Drop for FakeOrigin {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn accept_loop(listener: Arc<TcpListener>, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    // Ends when stop() shuts the listener down (accept fails) or aborts us.
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let index = shared.accept_connection();
                    connections.spawn(conn::serve(stream, index, Arc::clone(&shared)));
                }
                Err(e) if is_transient(&e) => {}
                Err(_) => break,
            },
            // Reap finished connections so the set does not grow for ever.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Accept errors caused by one connection, not by the listener.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}
