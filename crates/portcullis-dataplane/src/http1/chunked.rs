//! A streaming decoder of `Transfer-Encoding: chunked` request bodies.

use bytes::{Bytes, BytesMut};

/// Longest chunk-size line (with extensions) or trailer section accepted.
const MAX_LINE: usize = 4096;

/// What one decoding step produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    Data(Bytes),
    NeedMore,
    Done,
}

/// The framing is broken.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Decoder state between calls; feed it the connection's buffer again and again.
#[derive(Debug, Default)]
pub(crate) struct ChunkedDecoder {
    state: State,
    trailer_bytes: usize,
}

#[derive(Debug, Default, Clone, Copy)]
enum State {
    #[default]
    Size,
    Data(u64),
    DataEnd,
    Trailers,
    Done,
}

impl ChunkedDecoder {
    /// Decodes from the front of `buf`, consuming what it uses.
    pub(crate) fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, Malformed> {
        loop {
            match self.state {
                State::Done => return Ok(Decoded::Done),
                State::Size => match take_line(buf)? {
                    None => return Ok(Decoded::NeedMore),
                    Some(line) => {
                        let size = parse_size(&line)?;
                        self.state = if size == 0 {
                            State::Trailers
                        } else {
                            State::Data(size)
                        };
                    }
                },
                State::Data(remaining) => {
                    if buf.is_empty() {
                        return Ok(Decoded::NeedMore);
                    }
                    let n = remaining.min(buf.len() as u64);
                    let data = buf.split_to(n as usize).freeze();
                    self.state = if n == remaining {
                        State::DataEnd
                    } else {
                        State::Data(remaining - n)
                    };
                    return Ok(Decoded::Data(data));
                }
                State::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(Decoded::NeedMore);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(Malformed);
                    }
                    let _ = buf.split_to(2);
                    self.state = State::Size;
                }
                State::Trailers => match take_line(buf)? {
                    None => return Ok(Decoded::NeedMore),
                    Some(line) if line.is_empty() => self.state = State::Done,
                    Some(line) => {
                        // Trailers are read and dropped: they are not forwarded.
                        self.trailer_bytes += line.len();
                        if self.trailer_bytes > MAX_LINE {
                            return Err(Malformed);
                        }
                    }
                },
            }
        }
    }
}

/// One CRLF-terminated line without its CRLF, or `None` if it is not all here yet.
fn take_line(buf: &mut BytesMut) -> Result<Option<BytesMut>, Malformed> {
    match buf.iter().position(|&b| b == b'\n') {
        Some(end) if end >= 1 && buf[end - 1] == b'\r' => {
            let mut line = buf.split_to(end + 1);
            line.truncate(end - 1);
            Ok(Some(line))
        }
        Some(_) => Err(Malformed), // a bare LF
        None if buf.len() > MAX_LINE => Err(Malformed),
        None => Ok(None),
    }
}

/// The hex size before any `;extension`.
fn parse_size(line: &[u8]) -> Result<u64, Malformed> {
    let digits = line.split(|&b| b == b';').next().unwrap_or(&[]);
    let digits = digits.trim_ascii_end();
    if digits.is_empty() || digits.len() > 15 {
        return Err(Malformed);
    }
    digits.iter().try_fold(0u64, |size, &b| {
        let digit = (b as char).to_digit(16).ok_or(Malformed)?;
        Ok(size * 16 + u64::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8]) -> Result<Vec<u8>, Malformed> {
        let mut decoder = ChunkedDecoder::default();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        // Feed one byte at a time: every state must survive a split anywhere.
        for &b in input {
            buf.extend_from_slice(&[b]);
            loop {
                match decoder.decode(&mut buf)? {
                    Decoded::Data(d) => out.extend_from_slice(&d),
                    Decoded::NeedMore => break,
                    Decoded::Done => return Ok(out),
                }
            }
        }
        Err(Malformed)
    }

    #[test]
    fn decodes_split_anywhere() {
        let body = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n";
        assert_eq!(decode_all(body).unwrap(), b"hello, world");
    }

    #[test]
    fn rejects_broken_framing() {
        assert_eq!(decode_all(b"zz\r\n"), Err(Malformed));
        assert_eq!(decode_all(b"3\r\nabcXY"), Err(Malformed));
        assert_eq!(decode_all(b"3\nabc"), Err(Malformed));
        assert_eq!(decode_all(b"ffffffffffffffffff\r\n"), Err(Malformed));
    }
}
