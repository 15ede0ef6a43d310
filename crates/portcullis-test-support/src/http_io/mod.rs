//! Minimal HTTP/1.1 reading over a buffered `TcpStream`, shared by the fake
//! origin (reading requests) and the raw clients (reading responses);
//! `framing.rs` parses heads and decides how a body is delimited.
//!
//! Bodies are handed to a sink chunk by chunk and never buffered here, so a
//! 1 GiB upload costs one 64 KiB buffer.

use std::io;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod framing;

use framing::parse_chunk_size;
pub(crate) use framing::{
    connection_has, parse_request_head, parse_response_head, request_framing, response_framing,
    RequestHead, ResponseHead,
};

/// Largest request or response head accepted; beyond it the peer is broken.
const MAX_HEAD_BYTES: usize = 1024 * 1024;
/// Longest chunk-size or trailer line accepted in chunked framing.
const MAX_LINE_BYTES: usize = 8 * 1024;
/// How much is read from the socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body at all.
    Empty,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// The body runs until the peer closes (responses only).
    UntilClose,
}

/// A `TcpStream` with a read buffer that survives between messages, so
/// pipelined bytes are not lost.
#[derive(Debug)]
pub(crate) struct HttpIo {
    stream: TcpStream,
    buf: BytesMut,
}

impl HttpIo {
    pub(crate) fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: BytesMut::with_capacity(READ_CHUNK),
        }
    }

    /// The underlying socket, for addresses and socket options.
    pub(crate) fn get_ref(&self) -> &TcpStream {
        &self.stream
    }

    /// Gives the socket back (buffered bytes are dropped).
    pub(crate) fn into_stream(self) -> TcpStream {
        self.stream
    }

    /// Bytes already read from the socket but not yet consumed.
    pub(crate) fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Reads once from the socket into the buffer; `Ok(0)` means EOF.
    pub(crate) async fn fill(&mut self) -> io::Result<usize> {
        self.buf.reserve(READ_CHUNK);
        self.stream.read_buf(&mut self.buf).await
    }

    /// Throws away everything buffered.
    pub(crate) fn discard_buffer(&mut self) {
        self.buf.clear();
    }

    /// Writes all of `bytes` to the socket.
    pub(crate) async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Reads up to and including the blank line ending a head. `Ok(None)`
    /// when the peer closed before sending a single byte.
    pub(crate) async fn read_head(&mut self) -> io::Result<Option<Bytes>> {
        let mut searched = 0;
        // Ends: each pass reads more bytes, bounded by MAX_HEAD_BYTES or EOF.
        loop {
            if let Some(end) = find(&self.buf[searched..], b"\r\n\r\n") {
                let len = searched + end + 4;
                return Ok(Some(self.buf.split_to(len).freeze()));
            }
            searched = self.buf.len().saturating_sub(3);
            if self.buf.len() > MAX_HEAD_BYTES {
                return Err(invalid("head too large"));
            }
            if self.fill().await? == 0 {
                return match self.buf.is_empty() {
                    true => Ok(None),
                    false => Err(eof("connection closed inside a head")),
                };
            }
        }
    }

    /// Reads a body framed as `framing`, passing every byte to `sink`;
    /// returns the body length. A body cut short is an `UnexpectedEof`.
    pub(crate) async fn read_body(
        &mut self,
        framing: Framing,
        sink: &mut (dyn FnMut(&[u8]) + Send),
    ) -> io::Result<u64> {
        match framing {
            Framing::Empty => Ok(0),
            Framing::Length(n) => self.read_exact_into(n, sink).await.map(|()| n),
            Framing::Chunked => self.read_chunked(sink).await,
            Framing::UntilClose => self.read_to_close(sink).await,
        }
    }

    async fn read_exact_into(
        &mut self,
        mut remaining: u64,
        sink: &mut (dyn FnMut(&[u8]) + Send),
    ) -> io::Result<()> {
        while remaining > 0 {
            if self.buf.is_empty() && self.fill().await? == 0 {
                return Err(eof("connection closed inside a body"));
            }
            let take = usize::try_from(remaining).map_or(self.buf.len(), |r| r.min(self.buf.len()));
            sink(&self.buf[..take]);
            self.buf.advance(take);
            remaining -= take as u64;
        }
        Ok(())
    }

    async fn read_chunked(&mut self, sink: &mut (dyn FnMut(&[u8]) + Send)) -> io::Result<u64> {
        let mut total = 0u64;
        // Ends at the zero-size chunk; every pass consumes input or fails at EOF.
        loop {
            let line = self.read_line().await?;
            let size = parse_chunk_size(&line)?;
            if size == 0 {
                return self.skip_trailers().await.map(|()| total);
            }
            self.read_exact_into(size, sink).await?;
            if !self.read_line().await?.is_empty() {
                return Err(invalid("chunk data not followed by CRLF"));
            }
            total += size;
        }
    }

    async fn skip_trailers(&mut self) -> io::Result<()> {
        // Ends at the empty line; each trailer line is bounded.
        while !self.read_line().await?.is_empty() {}
        Ok(())
    }

    async fn read_to_close(&mut self, sink: &mut (dyn FnMut(&[u8]) + Send)) -> io::Result<u64> {
        let mut total = 0u64;
        // Ends at EOF (or a read error).
        loop {
            if !self.buf.is_empty() {
                sink(&self.buf);
                total += self.buf.len() as u64;
                self.buf.clear();
            }
            if self.fill().await? == 0 {
                return Ok(total);
            }
        }
    }

    /// Reads one CRLF-terminated line and returns it without the CRLF.
    async fn read_line(&mut self) -> io::Result<Bytes> {
        let mut searched = 0;
        loop {
            if let Some(end) = find(&self.buf[searched..], b"\r\n") {
                let line = self.buf.split_to(searched + end + 2).freeze();
                return Ok(line.slice(..line.len() - 2));
            }
            searched = self.buf.len().saturating_sub(1);
            if self.buf.len() > MAX_LINE_BYTES {
                return Err(invalid("line too long in chunked body"));
            }
            if self.fill().await? == 0 {
                return Err(eof("connection closed inside a chunked body"));
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn eof(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, msg)
}
