//! One HTTP/1.1 connection to an origin, driven by the request that owns it — no
//! separate connection task, so a request's write, wait and read happen on its own
//! task without a hand-off.

use std::time::Duration;

use bytes::BytesMut;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::deadline::Deadline;

/// Bytes kept for reading response heads; grows for larger heads.
const READ_BUFFER: usize = 4096;

/// Where a new connection's timer starts: later than any response deadline, so the
/// first request sets it.
const IDLE_TIMER: Duration = Duration::from_secs(24 * 3600);

/// A connection to an origin and the bytes read from it but not consumed yet.
#[derive(Debug)]
pub(crate) struct UpstreamConn {
    pub stream: TcpStream,
    pub buf: BytesMut,
    /// Reused for each request head, so encoding does not allocate.
    pub head: Vec<u8>,
    /// The response timeout of each request on this connection.
    pub deadline: Deadline,
}

impl UpstreamConn {
    pub(crate) fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: BytesMut::with_capacity(READ_BUFFER),
            head: Vec::with_capacity(512),
            // Set to each request's deadline as it is sent.
            deadline: Deadline::new(Instant::now() + IDLE_TIMER),
        }
    }

    /// Whether an idle connection can carry a request: the origin has not closed it
    /// and sent nothing unasked. Costs no syscall unless the socket became readable.
    pub(crate) fn is_reusable(&self) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }
}
