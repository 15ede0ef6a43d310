//! Header fields straight from a parsed head's bytes: values share the head's buffer
//! instead of being copied one allocation each, and nothing is zeroed or copied up
//! front (a head is parsed twice per request; 4 KiB arrays each time add up). A
//! response's fields are relayed as bytes: see `upstream::origin_fields`.

use bytes::Bytes;
use http::header::{ACCEPT, CONNECTION, CONTENT_LENGTH, EXPECT, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::headers::X_REQUEST_ID;

/// Most header lines a head may carry.
pub(crate) const MAX_FIELDS: usize = 128;

/// Headers added to a parsed request's map on the way through (`Host`, when this hop
/// sets it; forwarding headers are written, not inserted): reserved up front so the
/// map does not grow.
const ROOM_TO_ADD: usize = 1;

/// Where one field sits in the head: name and value as offsets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldSpan {
    name: (usize, usize),
    value: (usize, usize),
}

impl FieldSpan {
    pub(crate) fn name(&self) -> std::ops::Range<usize> {
        self.name.0..self.name.0 + self.name.1
    }

    pub(crate) fn value(&self) -> std::ops::Range<usize> {
        self.value.0..self.value.0 + self.value.1
    }
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
    let name = HeaderName::from_bytes(head.get(span.name())?).ok()?;
    let value = HeaderValue::from_maybe_shared(head.slice(span.value())).ok()?;
    Some((name, value))
}

/// Writes one `name: value` line of an HTTP/1.1 head. Always inlined: it runs for
/// every field of every head, and as a call it cost about 100 instructions a request.
#[inline(always)]
pub(crate) fn put_field(head: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    head.extend_from_slice(name);
    head.extend_from_slice(b": ");
    head.extend_from_slice(value);
    head.extend_from_slice(b"\r\n");
}

/// A response that never has a body, whatever its fields say (RFC 9112 §6.3): to
/// HEAD, interim (1xx), 204 and 304. One rule for reading an origin's response and
/// for writing a client's, so the two never disagree on a length.
pub(crate) fn bodiless(status: StatusCode, to_head: bool) -> bool {
    to_head
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::HOST;

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
}
