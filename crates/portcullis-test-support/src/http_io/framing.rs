//! Parsing heads and deciding body framing (RFC 9112 §6), without I/O.

use std::io;

use super::{invalid, Framing};

/// httparse needs a fixed header array; heads with more headers are rejected.
const MAX_HEADERS: usize = 256;

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

pub(super) fn parse_chunk_size(line: &[u8]) -> io::Result<u64> {
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

fn invalid_owned(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
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
