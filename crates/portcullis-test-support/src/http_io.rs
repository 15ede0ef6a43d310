//! Minimal HTTP/1.1 framing over a buffered `TcpStream`, shared by the fake
//! origin (reading requests) and the raw clients (reading responses).
//!
//! Bodies are handed to a sink chunk by chunk and never buffered here, so a
//! 1 GiB upload costs one 64 KiB buffer.

use std::io;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest request or response head accepted; beyond it the peer is broken.
pub(crate) const MAX_HEAD_BYTES: usize = 1024 * 1024;
/// Longest chunk-size or trailer line accepted in chunked framing.
const MAX_LINE_BYTES: usize = 8 * 1024;
/// How much is read from the socket at a time.
const READ_CHUNK: usize = 64 * 1024;
/// httparse needs a fixed header array; heads with more headers are rejected.
const MAX_HEADERS: usize = 256;

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

/// A parsed request line and headers (names lowercased, in order).
#[derive(Debug)]
pub(crate) struct RequestHead {
    pub method: String,
    pub path: String,
    pub minor_version: u8,
    pub headers: Vec<(String, String)>,
}

/// A parsed status line and headers (names lowercased, in order).
#[derive(Debug)]
pub(crate) struct ResponseHead {
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

/// A `TcpStream` with a read buffer that survives between messages, so
/// pipelined bytes are not lost.
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

    /// The underlying socket, for writes and socket options.
    pub(crate) fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
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

/// Parses a request head (as returned by [`HttpIo::read_head`]).
pub(crate) fn parse_request_head(head: &[u8]) -> io::Result<RequestHead> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head).map_err(|e| invalid_owned(e.to_string()))? {
        httparse::Status::Complete(_) => Ok(RequestHead {
            method: req.method.unwrap_or_default().to_owned(),
            path: req.path.unwrap_or_default().to_owned(),
            minor_version: req.version.unwrap_or(1),
            headers: owned_headers(req.headers),
        }),
        httparse::Status::Partial => Err(invalid("incomplete request head")),
    }
}

/// Parses a response head (as returned by [`HttpIo::read_head`]).
pub(crate) fn parse_response_head(head: &[u8]) -> io::Result<ResponseHead> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut headers);
    match res.parse(head).map_err(|e| invalid_owned(e.to_string()))? {
        httparse::Status::Complete(_) => Ok(ResponseHead {
            status: res.code.unwrap_or_default(),
            headers: owned_headers(res.headers),
        }),
        httparse::Status::Partial => Err(invalid("incomplete response head")),
    }
}

/// Body framing of a request: chunked wins over Content-Length (RFC 9112 §6.3).
pub(crate) fn request_framing(headers: &[(String, String)]) -> io::Result<Framing> {
    if is_chunked(headers) {
        return Ok(Framing::Chunked);
    }
    Ok(content_length(headers)?.map_or(Framing::Empty, Framing::Length))
}

/// Body framing of a response to a request (`head_request`: it was HEAD).
pub(crate) fn response_framing(
    status: u16,
    headers: &[(String, String)],
    head_request: bool,
) -> io::Result<Framing> {
    if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    if is_chunked(headers) {
        return Ok(Framing::Chunked);
    }
    Ok(content_length(headers)?.map_or(Framing::UntilClose, Framing::Length))
}

/// Whether a `Connection` header lists `token` (case-insensitively).
pub(crate) fn connection_has(headers: &[(String, String)], token: &str) -> bool {
    headers
        .iter()
        .filter(|(name, _)| name == "connection")
        .flat_map(|(_, value)| value.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn is_chunked(headers: &[(String, String)]) -> bool {
    headers
        .iter()
        .filter(|(name, _)| name == "transfer-encoding")
        .flat_map(|(_, value)| value.split(','))
        .last()
        .is_some_and(|coding| coding.trim().eq_ignore_ascii_case("chunked"))
}

fn content_length(headers: &[(String, String)]) -> io::Result<Option<u64>> {
    let mut found = None;
    for (_, value) in headers.iter().filter(|(name, _)| name == "content-length") {
        let n: u64 = value
            .trim()
            .parse()
            .map_err(|_| invalid("invalid Content-Length"))?;
        if found.is_some_and(|f| f != n) {
            return Err(invalid("conflicting Content-Length headers"));
        }
        found = Some(n);
    }
    Ok(found)
}

fn parse_chunk_size(line: &[u8]) -> io::Result<u64> {
    let digits = line.split(|&b| b == b';').next().unwrap_or_default();
    let digits = std::str::from_utf8(digits).map_err(|_| invalid("chunk size not ASCII"))?;
    u64::from_str_radix(digits.trim(), 16).map_err(|_| invalid("invalid chunk size"))
}

fn owned_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            let value = String::from_utf8_lossy(h.value).into_owned();
            (h.name.to_ascii_lowercase(), value)
        })
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn invalid_owned(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn eof(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn chunked_wins_over_content_length() {
        let headers = h(&[
            ("content-length", "5"),
            ("transfer-encoding", "gzip, chunked"),
        ]);
        assert_eq!(request_framing(&headers).unwrap(), Framing::Chunked);
    }

    #[test]
    fn response_without_length_runs_until_close() {
        assert_eq!(
            response_framing(200, &[], false).unwrap(),
            Framing::UntilClose
        );
        assert_eq!(response_framing(204, &[], false).unwrap(), Framing::Empty);
        let cl = h(&[("content-length", "3")]);
        assert_eq!(response_framing(200, &cl, true).unwrap(), Framing::Empty);
    }

    #[test]
    fn bad_or_conflicting_lengths_are_errors() {
        assert!(request_framing(&h(&[("content-length", "x")])).is_err());
        let two = h(&[("content-length", "1"), ("content-length", "2")]);
        assert!(request_framing(&two).is_err());
    }

    #[test]
    fn chunk_size_ignores_extensions() {
        assert_eq!(parse_chunk_size(b"1A;name=v").unwrap(), 26);
        assert!(parse_chunk_size(b"zz").is_err());
    }

    #[test]
    fn connection_tokens_are_matched_case_insensitively() {
        let headers = h(&[("connection", "Upgrade, Close")]);
        assert!(connection_has(&headers, "close"));
        assert!(!connection_has(&headers, "keep-alive"));
    }

    #[test]
    fn request_head_names_are_lowercased() {
        let head = parse_request_head(b"GET /a?b=1 HTTP/1.0\r\nX-Foo: Bar\r\n\r\n").unwrap();
        assert_eq!(head.path, "/a?b=1");
        assert_eq!(head.minor_version, 0);
        assert_eq!(head.headers, h(&[("x-foo", "Bar")]));
    }
}
