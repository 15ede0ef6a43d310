//! The bearer-token check of `POST /api/*`.

use http::header::AUTHORIZATION;
use http::HeaderMap;

/// The configured admin token; `Debug` never prints it.
pub(crate) struct Token(Box<[u8]>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Token {
    /// Wraps the configured token.
    pub(crate) fn new(token: String) -> Self {
        Self(token.into_bytes().into_boxed_slice())
    }

    /// True when `headers` carry `Authorization: Bearer <this token>`. The scheme is
    /// case-insensitive (RFC 9110); the token comparison takes the same time wherever
    /// the first difference is, so response timing does not reveal a prefix.
    pub(crate) fn admits(&self, headers: &HeaderMap) -> bool {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return false;
        };
        let value = value.as_bytes();
        let Some((scheme, credentials)) = value.split_at_checked(6) else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case(b"bearer") {
            return false;
        }
        let Some(credentials) = credentials.strip_prefix(b" ") else {
            return false;
        };
        constant_time_eq(credentials.trim_ascii(), &self.0)
    }
}

/// Compares `given` to `expected` in time that depends only on `expected`'s length.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    // Lengths are folded into the same accumulator rather than returned early.
    let mut diff = u8::from(given.len() != expected.len());
    for (i, e) in expected.iter().enumerate() {
        let g = given.get(i).copied().unwrap_or(!*e);
        diff |= g ^ e;
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn compares_whole_tokens() {
        assert!(constant_time_eq(b"s3cret", b"s3cret"));
        assert!(!constant_time_eq(b"s3cre", b"s3cret"));
        assert!(!constant_time_eq(b"s3crett", b"s3cret"));
        assert!(!constant_time_eq(b"s3creT", b"s3cret"));
        assert!(!constant_time_eq(b"", b"s3cret"));
    }

    #[test]
    fn admits_only_the_bearer_token() {
        let token = Token::new("s3cret".into());
        assert!(token.admits(&headers("Bearer s3cret")));
        assert!(token.admits(&headers("bearer s3cret")));
        assert!(!token.admits(&headers("Bearer s3cre")));
        assert!(!token.admits(&headers("Basic s3cret")));
        assert!(!token.admits(&headers("Bearers3cret")));
        assert!(!token.admits(&headers("Bearer")));
        assert!(!token.admits(&HeaderMap::new()));
    }

    #[test]
    fn refuses_two_authorization_headers() {
        let token = Token::new("s3cret".into());
        let mut both = headers("Bearer wrong");
        both.append(AUTHORIZATION, HeaderValue::from_static("Bearer s3cret"));
        assert!(!token.admits(&both));
    }

    #[test]
    fn debug_hides_the_token() {
        assert_eq!(format!("{:?}", Token::new("s3cret".into())), "Token(..)");
    }
}
