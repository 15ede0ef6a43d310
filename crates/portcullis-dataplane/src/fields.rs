//! Header fields straight from a parsed head's bytes: values share the head's buffer
//! instead of being copied one allocation each.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

/// Most header lines a head may carry.
pub(crate) const MAX_FIELDS: usize = 128;

/// Headers a proxy adds on the way through; reserved up front so the map does not
/// grow while forwarding headers are set.
const ROOM_TO_ADD: usize = 8;

/// Where one field sits in the head: name and value as offsets.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FieldSpan {
    name: (usize, usize),
    value: (usize, usize),
}

/// The spans of `fields`, which httparse parsed out of `head`.
pub(crate) fn spans(
    head: &[u8],
    fields: &[httparse::Header<'_>],
    out: &mut [FieldSpan; MAX_FIELDS],
) -> usize {
    let base = head.as_ptr() as usize;
    let offset = |s: &[u8]| (s.as_ptr() as usize - base, s.len());
    for (span, field) in out.iter_mut().zip(fields) {
        *span = FieldSpan {
            name: offset(field.name.as_bytes()),
            value: offset(field.value),
        };
    }
    fields.len().min(MAX_FIELDS)
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
