//! RFC 9209 `Proxy-Status` values in structured-field syntax (RFC 8941).

use std::fmt::Write as _;

use http::HeaderValue;

use crate::Cause;

/// This hop's name, pre-rendered as a structured-field item: a token when the name is
/// one, else a quoted string, so every `Proxy-Status` we emit parses.
#[derive(Debug, Clone)]
pub struct ProxyIdentity {
    item: String,
}

impl ProxyIdentity {
    /// Renders `proxy_name` once, at configuration time.
    pub fn new(proxy_name: &str) -> Self {
        let item = if is_sf_token(proxy_name) {
            proxy_name.to_owned()
        } else {
            sf_string(proxy_name)
        };
        Self { item }
    }

    /// `name; error=...; details="cause"[; next-hop="addr"]` for a generated response.
    pub(crate) fn for_cause(&self, cause: Cause, next_hop: Option<&str>) -> HeaderValue {
        let mut value = self.item.clone();
        if let Some(error) = cause.proxy_status_error() {
            let _ = write!(value, "; error={error}");
        }
        let _ = write!(value, "; details=\"{}\"", cause.as_str());
        if let Some(hop) = next_hop {
            let _ = write!(value, "; next-hop={}", sf_string(hop));
        }
        to_header(value)
    }

    /// `name; received-status=N[; next-hop="addr"]` for a relayed response.
    pub(crate) fn for_relayed(&self, status: u16, next_hop: Option<&str>) -> HeaderValue {
        let mut value = self.item.clone();
        let _ = write!(value, "; received-status={status}");
        if let Some(hop) = next_hop {
            let _ = write!(value, "; next-hop={}", sf_string(hop));
        }
        to_header(value)
    }
}

fn to_header(value: String) -> HeaderValue {
    // Only printable ASCII goes in: sf_string escapes the rest away.
    HeaderValue::try_from(value).unwrap_or_else(|_| HeaderValue::from_static("portcullis"))
}

/// RFC 8941 sf-token: starts with ALPHA or `*`, then tchar, `:` or `/`.
fn is_sf_token(s: &str) -> bool {
    let mut bytes = s.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == b'*')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/".contains(&b))
}

/// RFC 8941 sf-string: printable ASCII, `"` and `\` escaped; anything else dropped.
fn sf_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars().filter(|c| (' '..='~').contains(c)) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_token_or_string_names() {
        let plain = ProxyIdentity::new("portcullis");
        let value = plain.for_cause(Cause::ConnectRefused, None);
        assert_eq!(
            value,
            "portcullis; error=connection_refused; details=\"connect_refused\""
        );
        let odd = ProxyIdentity::new("edge \"1\"");
        let value = odd.for_cause(Cause::BadRequest, Some("10.0.0.1:80"));
        assert_eq!(
            value,
            "\"edge \\\"1\\\"\"; details=\"bad_request\"; next-hop=\"10.0.0.1:80\""
        );
        assert_eq!(
            plain.for_relayed(200, None),
            "portcullis; received-status=200"
        );
    }
}
