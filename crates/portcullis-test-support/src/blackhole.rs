//! Addresses that fail to connect in controlled ways: one whose `connect()`
//! hangs (for connect timeouts) and one that refuses.
//!
//! How the hang works on Linux: a listener with backlog 0 admits one
//! completed connection to its accept queue. Once that queue is full the
//! kernel drops further SYNs (`tcp_conn_request`: `sk_acceptq_is_full` ->
//! drop; SYN cookies do not bypass this), so the client keeps resending SYNs
//! with exponential backoff (`net.ipv4.tcp_syn_retries`, ~2 min by default)
//! and `connect()` neither succeeds nor fails. `net.ipv4.tcp_abort_on_overflow`
//! only matters for handshakes that complete while the queue is full, which a
//! dropped SYN never does. We fill the queue from inside and keep those
//! sockets, probing until a connect attempt stalls.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

/// How long a filling connect may take before we take it as stalled
/// (a loopback handshake takes microseconds).
const PROBE_TIMEOUT: Duration = Duration::from_millis(50);
/// Upper bound on filling connects; the kernel needs one or two.
const MAX_FILLERS: usize = 16;

/// A loopback listener that never accepts and whose accept queue is full,
/// so a new `connect()` to [`BlackHole::addr`] hangs until it times out.
/// Dropping it closes everything (later connects are refused).
#[derive(Debug)]
pub struct BlackHole {
    addr: SocketAddr,
    _listener: Socket,
    _fillers: Vec<Socket>,
}

impl BlackHole {
    /// The address whose connects hang.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Makes a [`BlackHole`] on `127.0.0.1` (random port).
///
/// Blocks the calling thread for about 50 ms while probing the queue.
///
/// # Panics
/// If the socket calls fail or the accept queue never fills (not Linux-like
/// behaviour); see [`try_unaccepting_listener`].
pub fn unaccepting_listener() -> BlackHole {
    match try_unaccepting_listener() {
        Ok(hole) => hole,
        Err(e) => panic!("unaccepting_listener: {e}"),
    }
}

/// [`unaccepting_listener`] returning the error instead of panicking.
pub fn try_unaccepting_listener() -> io::Result<BlackHole> {
    let listener = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    listener.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    listener.listen(0)?;
    let addr = listener
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("listener has no IP address"))?;
    let mut fillers = Vec::new();
    for _ in 0..MAX_FILLERS {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        match socket.connect_timeout(&addr.into(), PROBE_TIMEOUT) {
            Ok(()) => fillers.push(socket),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                return Ok(BlackHole {
                    addr,
                    _listener: listener,
                    _fillers: fillers,
                });
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(
        "accept queue never filled: connects do not hang here",
    ))
}

/// A loopback address on which nothing listens, so connects are refused.
///
/// It binds a free port below the ephemeral range and releases it, so the tests'
/// own port-0 sockets never reuse it; another process could, which is unlikely.
///
/// # Panics
/// If binding a loopback socket fails.
pub fn closed_port() -> SocketAddr {
    // Below the kernel's ephemeral range (32768 and up by default), so no socket bound
    // to port 0 elsewhere in the test run can be handed this port afterwards.
    for _ in 0..1000 {
        let port = fastrand::u16(20_000..32_000);
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            if let Ok(addr) = listener.local_addr() {
                return addr;
            }
        }
    }
    panic!("closed_port: no free loopback port in 20000..32000")
}
