//! What a fake origin records about each request it received.

use serde::{Deserialize, Serialize};

/// One request as a [`FakeOrigin`](crate::FakeOrigin) saw it on the wire.
///
/// It is recorded once its body has been read (or has failed to arrive), so
/// `body_len` is final. [`Action::Echo`](crate::Action::Echo) sends it back as
/// JSON; [`ReceivedRequest::from_echo`] reads that JSON again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedRequest {
    /// Request method as sent, e.g. `GET`.
    pub method: String,
    /// Request target as sent, including the query string.
    pub path: String,
    /// Headers in arrival order, names lowercased, values as sent.
    pub headers: Vec<(String, String)>,
    /// Body bytes received (after chunked decoding).
    pub body_len: u64,
    /// False when the connection ended before the whole body arrived: the
    /// script was then not consulted and nothing was answered.
    pub body_complete: bool,
    /// Which accepted connection carried it (0 for the first one accepted).
    pub connection_index: usize,
    /// Position on its connection (0 for the first request on it, so any
    /// value above 0 means the connection was reused).
    pub request_index_on_connection: usize,
    /// Position among all requests this origin received (0 for the first),
    /// handy for scripts like "fail the first two".
    pub index: usize,
}

impl ReceivedRequest {
    /// The first value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (case-insensitive), in order.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Parses the body of an [`Action::Echo`](crate::Action::Echo) response.
    pub fn from_echo(body: &[u8]) -> serde_json::Result<Self> {
        serde_json::from_slice(body)
    }

    /// The JSON document [`Action::Echo`](crate::Action::Echo) answers with.
    pub(crate) fn to_echo_json(&self) -> Vec<u8> {
        // Serializing plain strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}
