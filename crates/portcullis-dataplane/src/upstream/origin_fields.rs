//! An origin's response fields on their way to the client, kept as the bytes it sent.
//!
//! Relaying a head through a header map cost about a quarter of the proxy's own work
//! per request: every name and value checked and copied into its own type, a hash
//! table built, written out again and freed. Instead the hop-by-hop fields are read
//! and cut out of the head in place, and the rest goes out as one block. httparse has
//! already held every name and value to the grammar `http`'s types check, so nothing
//! invalid passes. An HTTP/2 client's response still needs a map: it is built from the
//! block (see [`OriginFields::prepend_to`]).

use std::ops::Range;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::fields::{put_field, FieldSpan, MAX_FIELDS};
use crate::headers::{list_items, trim_blanks, HOP_BY_HOP, KEEP_ALIVE, X_REQUEST_ID};

/// The end-to-end fields of an origin's response, as `name: value` lines ending in
/// CRLF, ready to be written into an HTTP/1.1 head; the length a response without a
/// body declares; and the request id this hop echoes after them. Kept here rather than
/// in the response's map, which a relayed response then never needs to allocate.
#[derive(Debug, Default)]
pub(crate) struct OriginFields {
    block: Bytes,
    declared_length: Option<u64>,
    request_id: Option<HeaderValue>,
}

impl OriginFields {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.block
    }

    /// The `X-Request-Id` this hop answers with, in place of any the origin sent.
    pub(crate) fn request_id(&self) -> Option<&HeaderValue> {
        self.request_id.as_ref()
    }

    pub(crate) fn echo_request_id(&mut self, id: HeaderValue) {
        self.request_id = Some(id);
    }

    /// The length a response to HEAD or a 304 declares for the full response: its
    /// `Content-Length`, when valid, frames nothing and is passed on as a number.
    pub(crate) fn declared_length(&self) -> Option<u64> {
        self.declared_length
    }

    /// Puts the fields into `headers`, ahead of the ones already there: a
    /// `Proxy-Status` list runs from the origin's end to the client's.
    pub(crate) fn prepend_to(self, headers: &mut HeaderMap) {
        let ours = std::mem::take(headers);
        headers.reserve(ours.len() + self.block.len() / 32 + 1);
        for (name, value) in self.lines() {
            headers.append(name, value);
        }
        if let Some(length) = self.declared_length {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
        }
        if let Some(id) = self.request_id {
            headers.insert(X_REQUEST_ID, id);
        }
        for (name, value) in &ours {
            headers.append(name, value.clone());
        }
    }

    fn lines(&self) -> impl Iterator<Item = (HeaderName, HeaderValue)> + '_ {
        let block = &self.block;
        let mut at = 0;
        std::iter::from_fn(move || loop {
            let rest = block.get(at..)?;
            let len = rest.windows(2).position(|w| w == b"\r\n")?;
            let line = at..at + len;
            at += len + 2;
            if let Some(field) = field(block, line) {
                return Some(field);
            }
        })
    }
}

/// One `name: value` line of a block: httparse checked it, so this never fails for a
/// block built here.
fn field(block: &Bytes, line: Range<usize>) -> Option<(HeaderName, HeaderValue)> {
    let colon = block[line.clone()].iter().position(|&b| b == b':')?;
    let name = HeaderName::from_bytes(&block[line.start..line.start + colon]).ok()?;
    let value = trim_blanks(block, line.start + colon + 1..line.end);
    let value = HeaderValue::from_maybe_shared(block.slice(value)).ok()?;
    Some((name, value))
}

/// What a response's connection-level ("hop-by-hop") fields said, and its length.
#[derive(Debug)]
pub(crate) struct HopByHop {
    /// A `Connection` token was `close`.
    pub close: bool,
    /// A `Connection` token was `keep-alive`.
    pub keep_alive: bool,
    /// `Keep-Alive: timeout=N`, in seconds.
    pub keep_alive_timeout: Option<u64>,
    /// Where the last `Transfer-Encoding` value sits in the head: its last coding
    /// frames the body.
    pub transfer_encoding: Option<Range<usize>>,
    /// `Content-Length`, every copy agreeing; an error is only one if the length
    /// frames the body.
    pub content_length: Result<Option<u64>, &'static str>,
    /// Where the other names `Connection` lists sit in the head (rarely any).
    named: Vec<Range<usize>>,
    /// Which fields, by index, are end-to-end.
    end_to_end: u128,
}

/// How a field name is treated on the way through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Connection,
    KeepAlive,
    TransferEncoding,
    /// The rest of the fixed hop-by-hop set: dropped unread.
    OtherHopByHop,
    /// Framing: written anew by the next hop.
    ContentLength,
    /// Replaced by this hop's own.
    RequestId,
    EndToEnd,
}

/// The lengths of the names [`kind`] tells apart, as bits: most fields are end-to-end,
/// and their name's length alone says so.
const KNOWN_LENGTHS: u32 =
    1 << 2 | 1 << 7 | 1 << 10 | 1 << 12 | 1 << 14 | 1 << 16 | 1 << 17 | 1 << 18;

fn kind(name: &[u8]) -> Kind {
    if name.len() >= 32 || KNOWN_LENGTHS & 1 << name.len() == 0 {
        return Kind::EndToEnd;
    }
    let is = |known: &HeaderName| name.eq_ignore_ascii_case(known.as_str().as_bytes());
    if is(&CONTENT_LENGTH) {
        Kind::ContentLength
    } else if is(&CONNECTION) {
        Kind::Connection
    } else if is(&KEEP_ALIVE) {
        Kind::KeepAlive
    } else if is(&TRANSFER_ENCODING) {
        Kind::TransferEncoding
    } else if HOP_BY_HOP.iter().any(is) {
        Kind::OtherHopByHop
    } else if is(&X_REQUEST_ID) {
        Kind::RequestId
    } else {
        Kind::EndToEnd
    }
}

impl HopByHop {
    /// Reads the hop-by-hop fields and the length among `spans`, parsed out of `head`.
    pub(crate) fn read(head: &[u8], spans: &[FieldSpan]) -> Self {
        let mut said = Self {
            close: false,
            keep_alive: false,
            keep_alive_timeout: None,
            transfer_encoding: None,
            content_length: Ok(None),
            named: Vec::new(),
            end_to_end: 0,
        };
        for (i, span) in spans.iter().enumerate().take(MAX_FIELDS) {
            let value = span.value();
            match kind(&head[span.name()]) {
                Kind::EndToEnd => said.end_to_end |= 1 << i,
                Kind::Connection => said.connection(head, value),
                Kind::KeepAlive => {
                    said.keep_alive_timeout = crate::upstream::announced_timeout(&head[value]);
                }
                Kind::TransferEncoding => said.transfer_encoding = Some(value),
                Kind::ContentLength => {
                    let seen = said.content_length;
                    said.content_length = seen.and_then(|seen| agreed_length(seen, &head[value]));
                }
                _ => {}
            }
        }
        said
    }

    fn connection(&mut self, head: &[u8], value: Range<usize>) {
        for at in list_items(head, value) {
            let token = &head[at.clone()];
            if token.eq_ignore_ascii_case(b"close") {
                self.close = true;
            } else if token.eq_ignore_ascii_case(b"keep-alive") {
                self.keep_alive = true;
            } else if !token.eq_ignore_ascii_case(HOST.as_str().as_bytes()) {
                // Offsets, not slices: the head is rewritten once all are known.
                self.named.push(at);
            }
        }
    }

    /// Which fields, by index, travel on: the end-to-end ones `Connection` does not
    /// name. Never a `Content-Length`: the next hop writes the one it frames with, or
    /// the one a HEAD or 304 response declares (see [`OriginFields::declared_length`]).
    fn kept(&self, head: &[u8], spans: &[FieldSpan]) -> u128 {
        let mut kept = self.end_to_end;
        if self.named.is_empty() {
            return kept;
        }
        for (i, span) in spans.iter().enumerate().take(MAX_FIELDS) {
            let name = &head[span.name()];
            let listed = |at: &Range<usize>| head[at.clone()].eq_ignore_ascii_case(name);
            if self.named.iter().any(listed) {
                kept &= !(1 << i);
            }
        }
        kept
    }
}

/// The length a `Content-Length` value (a comma list of copies) gives, agreeing with
/// any seen before.
fn agreed_length(seen: Option<u64>, value: &[u8]) -> Result<Option<u64>, &'static str> {
    let value = std::str::from_utf8(value).map_err(|_| "bad content-length")?;
    let mut length = seen;
    for part in value.split(',') {
        let n: u64 = part.trim().parse().map_err(|_| "bad content-length")?;
        if length.is_some_and(|seen| seen != n) {
            return Err("conflicting content-length");
        }
        length = Some(n);
    }
    Ok(length)
}

/// Cuts `head` (a whole response head, whose fields are `spans`) down to the fields
/// that travel on. In place when every field line ends in CRLF, as they do from every
/// origin worth the name; otherwise the lines are written anew. `declared_length`:
/// see [`OriginFields::declared_length`].
pub(crate) fn keep(
    head: BytesMut,
    spans: &[FieldSpan],
    said: &HopByHop,
    declared_length: Option<u64>,
) -> OriginFields {
    // Decided before the head is touched: `said` points into it.
    let kept = said.kept(&head, spans);
    let block = if crlf_lines(&head, spans) {
        compacted(head, spans, kept)
    } else {
        rewritten(&head, spans, kept)
    };
    OriginFields {
        block,
        declared_length,
        request_id: None,
    }
}

/// The kept lines moved together, in place.
fn compacted(mut head: BytesMut, spans: &[FieldSpan], kept: u128) -> Bytes {
    let spans = &spans[..spans.len().min(MAX_FIELDS)];
    let start = spans.first().map_or(0, |span| span.name().start);
    let mut end = start;
    for (i, span) in spans.iter().enumerate() {
        if kept & 1 << i != 0 {
            let line = span.name().start..line_end(&head, spans, i);
            // Never past the line being read: later lines are intact until reached.
            if line.start != end {
                head.copy_within(line.clone(), end);
            }
            end += line.len();
        }
    }
    head.truncate(end);
    head.advance(start);
    head.freeze()
}

/// Where field `i`'s whole line ends, its line break included: where the next one
/// starts, or the head's closing blank line.
fn line_end(head: &[u8], spans: &[FieldSpan], i: usize) -> usize {
    spans
        .get(i + 1)
        .map_or(head.len() - 2, |next| next.name().start)
}

/// Whether every field line, and the blank line after them, ends in CRLF.
fn crlf_lines(head: &[u8], spans: &[FieldSpan]) -> bool {
    let spans = &spans[..spans.len().min(MAX_FIELDS)];
    head.ends_with(b"\r\n\r\n")
        && spans.iter().enumerate().all(|(i, span)| {
            let end = line_end(head, spans, i);
            end >= span.value().end + 2 && head[end - 2..end] == *b"\r\n"
        })
}

/// The kept fields as fresh `name: value` lines.
fn rewritten(head: &[u8], spans: &[FieldSpan], kept: u128) -> Bytes {
    let mut out = Vec::new();
    for (i, span) in spans.iter().enumerate().take(MAX_FIELDS) {
        if kept & 1 << i != 0 {
            put_field(&mut out, &head[span.name()], &head[span.value()]);
        }
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{header_slots, spans, Spans};

    /// The fields `head` relays, and what its hop-by-hop fields said.
    fn relayed(head: &[u8]) -> (String, HopByHop) {
        let mut slots = header_slots!();
        let mut parsed = httparse::Response::new(&mut []);
        httparse::ParserConfig::default()
            .parse_response_with_uninit_headers(&mut parsed, head, &mut slots)
            .expect("a valid head");
        let mut found = Spans::new();
        spans(head, parsed.headers, &mut found);
        let said = HopByHop::read(head, &found);
        let fields = keep(BytesMut::from(head), &found, &said, None);
        let text = String::from_utf8(fields.as_bytes().to_vec()).unwrap();
        (text, said)
    }

    #[test]
    fn hop_by_hop_fields_are_read_and_cut_out() {
        let (fields, said) = relayed(
            b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, X-Secret, host\r\n\
              Keep-Alive: timeout=5, max=10\r\nX-Secret: 1\r\nHost: h\r\nTE: trailers\r\n\
              Transfer-Encoding: gzip, chunked\r\nProxy-Authenticate: Basic\r\n\
              X-Request-Id: theirs\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\n",
        );
        assert_eq!(fields, "Host: h\r\nContent-Type: text/plain\r\n");
        assert!(said.keep_alive && !said.close);
        assert_eq!(said.keep_alive_timeout, Some(5));
        assert_eq!(said.content_length, Ok(Some(3)));
        assert!(said.transfer_encoding.is_some());
    }

    #[test]
    fn end_to_end_lines_go_out_as_sent() {
        let head = b"HTTP/1.1 200 OK\r\nServer: o\r\nCache-Control:no-cache  \r\n\
                     Connection: close\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\n";
        let (fields, said) = relayed(head);
        assert_eq!(
            fields,
            "Server: o\r\nCache-Control:no-cache  \r\nETag: \"x\"\r\n"
        );
        assert!(said.close);
    }

    #[test]
    fn a_length_never_travels_as_a_line() {
        let head = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nX-A: 1\r\n\r\n";
        assert_eq!(relayed(head).0, "X-A: 1\r\n");
        let connection_names_it =
            b"HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 5\r\n\r\n";
        assert_eq!(relayed(connection_names_it).0, "");
    }

    #[test]
    fn the_last_of_the_most_fields_a_head_may_carry_is_kept_or_cut() {
        let mut head = String::from("HTTP/1.1 200 OK\r\n");
        for i in 0..MAX_FIELDS - 1 {
            head.push_str(&format!("X-{i}: {i}\r\n"));
        }
        let (kept, _) = relayed(format!("{head}X-Last: 1\r\n\r\n").as_bytes());
        assert!(kept.ends_with("X-126: 126\r\nX-Last: 1\r\n"), "{kept}");
        let (cut, _) = relayed(format!("{head}Keep-Alive: timeout=1\r\n\r\n").as_bytes());
        assert!(cut.ends_with("X-126: 126\r\n"), "{cut}");
    }

    #[test]
    fn bare_line_feeds_are_written_anew() {
        let all = b"HTTP/1.1 200 OK\nServer: o\nConnection: close\nX-A:  1\n\n";
        assert_eq!(relayed(all).0, "Server: o\r\nX-A: 1\r\n");
        let one_among_crlf = b"HTTP/1.1 200 OK\r\nServer: o\r\nX-A: 1\nX-B: 2\r\n\r\n";
        let expected = "Server: o\r\nX-A: 1\r\nX-B: 2\r\n";
        assert_eq!(relayed(one_among_crlf).0, expected);
    }

    #[test]
    fn lengths_must_agree() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 6\r\n\r\n";
        assert_eq!(
            relayed(head).1.content_length,
            Err("conflicting content-length")
        );
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: five\r\n\r\n";
        assert_eq!(relayed(head).1.content_length, Err("bad content-length"));
    }

    #[test]
    fn a_map_gets_the_origin_fields_first() {
        let (text, _) =
            relayed(b"HTTP/1.1 200 OK\r\nProxy-Status: origin\r\nX-A:\t1 \r\nX-B:\r\n\r\n");
        let fields = OriginFields {
            block: Bytes::from(text),
            declared_length: Some(7),
            request_id: Some(HeaderValue::from_static("id-1")),
        };
        let mut headers = HeaderMap::new();
        headers.insert("proxy-status", HeaderValue::from_static("portcullis"));
        fields.prepend_to(&mut headers);
        let statuses: Vec<_> = headers.get_all("proxy-status").iter().collect();
        assert_eq!(statuses, ["origin", "portcullis"]);
        assert_eq!(headers["x-a"], "1");
        assert_eq!(headers["x-b"], "");
        assert_eq!(headers["content-length"], "7", "a declared length is kept");
        assert_eq!(headers["x-request-id"], "id-1");
    }

    #[test]
    fn every_name_told_apart_has_a_known_length() {
        let named = HOP_BY_HOP.into_iter().chain([CONTENT_LENGTH, X_REQUEST_ID]);
        for name in named {
            let upper = name.as_str().to_ascii_uppercase();
            assert_ne!(kind(upper.as_bytes()), Kind::EndToEnd, "{name}");
        }
        assert_eq!(kind(b"content-type"), Kind::EndToEnd);
    }

    #[test]
    fn no_fields_is_an_empty_block() {
        assert_eq!(relayed(b"HTTP/1.1 204 No Content\r\n\r\n").0, "");
    }
}
