//! Checks for single values. Each returns the parsed value or a message that
//! says what was wrong and what is expected; the caller adds the key path.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;

use crate::types::{HashOn, HostMatch, Weight};

/// A humantime duration such as `250ms`, `2s` or `5m`.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| {
        format!("invalid duration {text:?}: {e} (expected e.g. \"250ms\", \"2s\", \"5m\")")
    })
}

/// A duration that must not be zero: zero would fail every request at once.
pub(crate) fn positive_duration(text: &str) -> Result<Duration, String> {
    match duration(text)? {
        d if d.is_zero() => Err(format!("must be greater than 0, got {text:?}")),
        d => Ok(d),
    }
}

/// An IP socket address to bind, such as `0.0.0.0:8080` or `[::1]:9901`.
pub(crate) fn socket_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| {
        format!("invalid socket address {text:?} (expected IP:PORT, e.g. \"0.0.0.0:8080\" or \"[::1]:8080\")")
    })
}

/// A count that must be at least `min`.
pub(crate) fn at_least(value: i64, min: i64) -> Result<usize, String> {
    match usize::try_from(value) {
        Ok(n) if value >= min => Ok(n),
        _ => Err(format!("must be at least {min}, got {value}")),
    }
}

/// A whole number in `min..=max`.
pub(crate) fn count(value: i64, min: u32, max: u32) -> Result<u32, String> {
    match u32::try_from(value) {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be between {min} and {max}, got {value}")),
    }
}

/// A fraction in `0.0..=1.0`; `zero_ok` false excludes 0.
pub(crate) fn fraction(value: f64, zero_ok: bool) -> Result<f64, String> {
    let low_ok = if zero_ok { value >= 0.0 } else { value > 0.0 };
    if low_ok && value <= 1.0 {
        Ok(value)
    } else {
        let low = if zero_ok { "0.0" } else { "above 0.0" };
        Err(format!("must be between {low} and 1.0, got {value}"))
    }
}

/// A backend weight in `1..=1000`.
pub(crate) fn weight(value: i64) -> Result<Weight, String> {
    Weight::new(value).ok_or_else(|| {
        format!(
            "must be between {} and {}, got {value}",
            Weight::MIN,
            Weight::MAX
        )
    })
}

/// One of `choices` (listed in the message when it is not).
pub(crate) fn one_of<T: Copy>(text: &str, choices: &[(&str, T)]) -> Result<T, String> {
    if let Some((_, value)) = choices.iter().find(|(name, _)| *name == text) {
        return Ok(*value);
    }
    let names: Vec<String> = choices
        .iter()
        .map(|(name, _)| format!("{name:?}"))
        .collect();
    Err(format!("must be one of {}, got {text:?}", names.join(", ")))
}

/// A backend `host:port`: a DNS name, an IPv4 literal or a bracketed IPv6 literal.
/// Returns the host (IPv6 without brackets) and the port.
pub(crate) fn host_port(text: &str) -> Result<(String, u16), String> {
    let bad = |why: &str| {
        format!(
            "invalid backend address {text:?}: {why} (expected host:port, IPv6 as \"[::1]:80\")"
        )
    };
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (ip, port) = rest
            .split_once("]:")
            .ok_or_else(|| bad("missing \"]:PORT\""))?;
        ip.parse::<Ipv6Addr>()
            .map_err(|_| bad("not an IPv6 address in brackets"))?;
        (ip, port)
    } else {
        let (host, port) = text.rsplit_once(':').ok_or_else(|| bad("missing port"))?;
        if host.contains(':') {
            return Err(bad("IPv6 addresses need brackets"));
        }
        if !is_hostname(host) {
            return Err(bad("not a valid host name"));
        }
        (host, port)
    };
    match port.parse::<u16>() {
        Ok(port) if port > 0 => Ok((host.to_owned(), port)),
        _ => Err(bad("port must be 1..=65535")),
    }
}

/// A DNS name or IPv4 literal: dot-separated labels of letters, digits, `-`, `_`.
fn is_hostname(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// A trusted proxy range: a CIDR, or a bare IP meaning just that address.
pub(crate) fn cidr(text: &str) -> Result<IpNet, String> {
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("invalid CIDR {text:?} (expected e.g. \"10.0.0.0/8\", \"::1\")"))
}

/// A route host: `api.example.com`, `*.example.com`, or `*` for any host.
/// Lowercased, since hosts compare case-insensitively.
pub(crate) fn host_match(text: &str) -> Result<HostMatch, String> {
    let host = text.to_ascii_lowercase();
    let bad = || {
        format!(
            "invalid host {text:?} (expected \"name.example\", \"*.example\" or \"*\"; no port)"
        )
    };
    if host == "*" {
        return Ok(HostMatch::Any);
    }
    if let Some(suffix) = host.strip_prefix("*.") {
        return is_hostname(suffix)
            .then(|| HostMatch::Suffix(format!(".{suffix}")))
            .ok_or_else(bad);
    }
    let ipv6 = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .is_some_and(|h| h.parse::<Ipv6Addr>().is_ok());
    (ipv6 || is_hostname(&host))
        .then_some(HostMatch::Exact(host))
        .ok_or_else(bad)
}

/// `client_ip`, `header:NAME` or `cookie:NAME`.
pub(crate) fn hash_on(text: &str) -> Result<HashOn, String> {
    let expected = "(expected \"client_ip\", \"header:NAME\" or \"cookie:NAME\")";
    if text == "client_ip" {
        return Ok(HashOn::ClientIp);
    }
    if let Some(name) = text.strip_prefix("header:") {
        // `from_bytes` lowercases, so `header:X-User` and `header:x-user` agree.
        return http::HeaderName::from_bytes(name.as_bytes())
            .map(HashOn::Header)
            .map_err(|_| format!("invalid header name {name:?} in {text:?}"));
    }
    if let Some(name) = text.strip_prefix("cookie:") {
        return is_token(name)
            .then(|| HashOn::Cookie(name.to_owned()))
            .ok_or_else(|| format!("invalid cookie name {name:?} in {text:?}"));
    }
    Err(format!("invalid hash_on {text:?} {expected}"))
}

/// An HTTP token (RFC 9110 `tchar`s): what header names, cookie names and the
/// `Via` pseudonym are made of.
pub(crate) fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// A listener or cluster name: it becomes a metric label and appears in key paths.
pub(crate) fn name(text: &str) -> Result<(), String> {
    let ok = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    ok.then_some(())
        .ok_or_else(|| format!("invalid name {text:?} (use letters, digits, '-' and '_')"))
}

#[cfg(test)]
#[path = "values_tests.rs"]
mod tests;
