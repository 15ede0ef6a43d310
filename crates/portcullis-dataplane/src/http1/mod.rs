//! The HTTP/1.1 server side, written for a proxy: the request head is read and checked
//! here (size, time, framing) so that every rejection gets a full generated response,
//! and bodies stream both ways without being buffered.

mod body;
mod chunked;
mod conn;
mod head;
mod write;

pub(crate) use chunked::{ChunkedDecoder, Decoded};
pub(crate) use conn::serve;
pub(crate) use head::is_h2_preface;
