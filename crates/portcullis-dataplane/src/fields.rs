//! Header fields straight from a parsed head's bytes: values share the head's buffer
//! instead of being copied one allocation each, and nothing is zeroed or copied up
//! front (a head is parsed twice per request; 4 KiB arrays each time add up).

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

/// Most header lines a head may carry.
pub(crate) const MAX_FIELDS: usize = 128;

/// Headers a proxy adds on the way through; reserved up front so the map does not
/// grow while forwarding headers are set.
const ROOM_TO_ADD: usize = 8;

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

/// The header map of a frozen head; `None` if a name or value is not valid.
pub(crate) fn header_map(head: &Bytes, spans: &[FieldSpan]) -> Option<HeaderMap> {
    let mut headers = HeaderMap::with_capacity(spans.len() + ROOM_TO_ADD);
    for span in spans {
        let (start, len) = span.name;
        let name = HeaderName::from_bytes(head.get(start..start + len)?).ok()?;
        let (start, len) = span.value;
        let value = HeaderValue::from_maybe_shared(head.slice(start..start + len)).ok()?;
        headers.append(name, value);
    }
    Some(headers)
}
