//! One HTTP/1.1 connection to an origin, driven by the request that owns it — no
//! separate connection task, so a request's write, wait and read happen on its own
//! task without a hand-off.

use bytes::BytesMut;
use tokio::net::TcpStream;

/// Bytes kept for reading response heads; grows for larger heads.
const READ_BUFFER: usize = 4096;

/// A connection to an origin and the bytes read from it but not consumed yet.
#[derive(Debug)]
pub(crate) struct UpstreamConn {
    pub stream: TcpStream,
    pub buf: BytesMut,
    /// Reused for each request head, so encoding does not allocate.
    pub head: Vec<u8>,
}

impl UpstreamConn {
    pub(crate) fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: BytesMut::with_capacity(READ_BUFFER),
            head: Vec::with_capacity(512),
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
