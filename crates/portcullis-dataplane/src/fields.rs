//! Header fields straight from a parsed head's bytes: values share the head's buffer
//! instead of being copied one allocation each, and nothing is zeroed or copied up
//! front (a head is parsed twice per request; 4 KiB arrays each time add up).

use bytes::Bytes;
use http::header::{ACCEPT, CONNECTION, CONTENT_LENGTH, EXPECT, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::headers::{HOP_BY_HOP, KEEP_ALIVE, X_REQUEST_ID};

/// Most header lines a head may carry.
pub(crate) const MAX_FIELDS: usize = 128;

/// Headers added to a parsed message's map on the way through (`X-Request-Id` and
/// `Proxy-Status` on a response; forwarding headers are written, not inserted):
/// reserved up front so the map does not grow.
const ROOM_TO_ADD: usize = 2;

/// Where one field sits in the head: name and value as offsets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldSpan {
    name: (usize, usize),
    value: (usize, usize),
}

/// Up to `MAX_FIELDS` spans, inline.
pub(crate) type Spans = arrayvec::ArrayVec<FieldSpan, MAX_FIELDS>;

/// Room for httparse to parse `MAX_FIELDS` headers into, left uninitialised. A macro,
/// not a function: returning the array by value would copy it.
macro_rules! header_slots {
    () => {
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() };
            $crate::fields::MAX_FIELDS]
    };
}
pub(crate) use header_slots;

/// Records in `out` the spans of `fields`, which httparse parsed out of `head`.
/// Filled in place rather than returned, for the same reason.
pub(crate) fn spans(head: &[u8], fields: &[httparse::Header<'_>], out: &mut Spans) {
    let base = head.as_ptr() as usize;
    let offset = |s: &[u8]| (s.as_ptr() as usize - base, s.len());
    for field in fields.iter().take(MAX_FIELDS) {
        let span = FieldSpan {
            name: offset(field.name.as_bytes()),
            value: offset(field.value),
        };
        out.push(span);
    }
}

/// Which of the fields a request's handling looks up it carries, noted while its map
/// is built: most requests carry few of them, and looking up an absent name costs a
/// hash and a probe for nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Present(u8);

/// The fields [`Present`] notes, by bit.
static NOTED: [HeaderName; 6] = [
    CONTENT_LENGTH,
    TRANSFER_ENCODING,
    CONNECTION,
    EXPECT,
    ACCEPT,
    X_REQUEST_ID,
];

impl Present {
    /// Nothing known: every lookup is made (a message whose map was built elsewhere).
    pub(crate) const UNKNOWN: Self = Self(u8::MAX);

    fn note(&mut self, name: &HeaderName) {
        if let Some(i) = NOTED.iter().position(|noted| noted == name) {
            self.0 |= 1 << i;
        }
    }

    /// Whether `name` may be present (always, for a name not noted).
    pub(crate) fn may_have(self, name: &HeaderName) -> bool {
        NOTED
            .iter()
            .position(|noted| noted == name)
            .is_none_or(|i| self.0 & 1 << i != 0)
    }
}

/// The header map of a frozen head, and which noted fields it has; `None` if a name
/// or value is not valid.
pub(crate) fn header_map(head: &Bytes, spans: &[FieldSpan]) -> Option<(HeaderMap, Present)> {
    let mut headers = HeaderMap::with_capacity(spans.len() + ROOM_TO_ADD);
    let mut present = Present(0);
    for span in spans {
        let (name, value) = field(head, span)?;
        present.note(&name);
        headers.append(name, value);
    }
    Some((headers, present))
}

fn field(head: &Bytes, span: &FieldSpan) -> Option<(HeaderName, HeaderValue)> {
    let (start, len) = span.name;
    let name = HeaderName::from_bytes(head.get(start..start + len)?).ok()?;
    let (start, len) = span.value;
    let value = HeaderValue::from_maybe_shared(head.slice(start..start + len)).ok()?;
    Some((name, value))
}

/// What a response's connection-level ("hop-by-hop") fields said. They are read while
/// the map is built and never enter it: every one of them would otherwise be inserted
/// only to be removed again before the response is relayed.
#[derive(Debug, Default)]
pub(crate) struct HopByHop {
    /// A `Connection` token was `close`.
    pub close: bool,
    /// A `Connection` token was `keep-alive`.
    pub keep_alive: bool,
    /// `Keep-Alive: timeout=N`, in seconds.
    pub keep_alive_timeout: Option<u64>,
    /// The last `Transfer-Encoding` value, whose last coding frames the body.
    pub transfer_encoding: Option<HeaderValue>,
}

/// The header map of a frozen response head without its hop-by-hop fields (the fixed
/// set, `Proxy-Authenticate`, and any field `Connection` names), and what those said.
/// `None` if a name or value is not valid.
pub(crate) fn response_header_map(
    head: &Bytes,
    spans: &[FieldSpan],
) -> Option<(HeaderMap, HopByHop)> {
    let mut headers = HeaderMap::with_capacity(spans.len() + ROOM_TO_ADD);
    let mut hop = HopByHop::default();
    let mut named = Vec::new();
    for span in spans {
        let (name, value) = field(head, span)?;
        if name == CONNECTION {
            for token in crate::headers::connection_tokens(&value) {
                if token.eq_ignore_ascii_case("close") {
                    hop.close = true;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    hop.keep_alive = true;
                } else if let Ok(name) = HeaderName::from_bytes(token.as_bytes()) {
                    named.push(name);
                }
            }
        } else if name == TRANSFER_ENCODING {
            hop.transfer_encoding = Some(value);
        } else if name == KEEP_ALIVE {
            hop.keep_alive_timeout = crate::upstream::announced_timeout(&value);
        } else if !HOP_BY_HOP.contains(&name) {
            headers.append(name, value);
        }
    }
    for name in named.into_iter().filter(|name| name != HOST) {
        headers.remove(name);
    }
    Some((headers, hop))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response_fields(head: &'static [u8]) -> (HeaderMap, HopByHop) {
        let mut slots = header_slots!();
        let mut parsed = httparse::Response::new(&mut []);
        httparse::ParserConfig::default()
            .parse_response_with_uninit_headers(&mut parsed, head, &mut slots)
            .expect("a valid head");
        let mut found = Spans::new();
        spans(head, parsed.headers, &mut found);
        response_header_map(&Bytes::from_static(head), &found).expect("valid fields")
    }

    #[test]
    fn hop_by_hop_fields_are_read_and_left_out() {
        let (headers, hop) = response_fields(
            b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, X-Secret, host\r\n\
              Keep-Alive: timeout=5, max=10\r\nX-Secret: 1\r\nHost: h\r\nTE: trailers\r\n\
              Transfer-Encoding: gzip, chunked\r\nProxy-Authenticate: Basic\r\n\
              Content-Type: text/plain\r\n\r\n",
        );
        let mut names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["content-type", "host"]);
        assert!(hop.keep_alive && !hop.close);
        assert_eq!(hop.keep_alive_timeout, Some(5));
        assert_eq!(hop.transfer_encoding.unwrap(), "gzip, chunked");
    }

    #[test]
    fn present_notes_the_looked_up_fields_a_request_carries() {
        let head: &'static [u8] = b"GET / HTTP/1.1\r\nHost: a\r\nexpect: 100-continue\r\n\r\n";
        let mut slots = header_slots!();
        let mut parsed = httparse::Request::new(&mut []);
        parsed
            .parse_with_uninit_headers(head, &mut slots)
            .expect("a valid head");
        let mut found = Spans::new();
        spans(head, parsed.headers, &mut found);
        let (headers, present) = header_map(&Bytes::from_static(head), &found).unwrap();
        assert_eq!(headers.len(), 2);
        assert!(present.may_have(&EXPECT));
        assert!(!present.may_have(&CONTENT_LENGTH) && !present.may_have(&X_REQUEST_ID));
        assert!(
            present.may_have(&HOST),
            "a name not noted may always be there"
        );
        assert!(Present::UNKNOWN.may_have(&CONTENT_LENGTH));
    }

    #[test]
    fn close_is_seen_in_any_connection_field() {
        let (headers, hop) =
            response_fields(b"HTTP/1.1 200 OK\r\nconnection: upgrade\r\nConnection: close\r\n\r\n");
        assert!(hop.close && !hop.keep_alive);
        assert!(headers.is_empty());
    }
}
