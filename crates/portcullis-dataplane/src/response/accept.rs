//! Picks the body format of a generated response from the request's `Accept` header.

/// A generated body's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    Json,
    Html,
    Text,
}

/// JSON or HTML when the client asks for one of them (the higher `q` wins, JSON on a
/// tie), plain text otherwise: `*/*` alone, as curl sends, gets text.
pub(crate) fn preferred_format(accept: Option<&[u8]>) -> BodyFormat {
    let Some(accept) = accept.and_then(|raw| std::str::from_utf8(raw).ok()) else {
        return BodyFormat::Text;
    };
    let (mut json, mut html) = (0.0f32, 0.0f32);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if media.eq_ignore_ascii_case("application/json") {
            json = json.max(q);
        } else if media.eq_ignore_ascii_case("text/html") {
            html = html.max(q);
        }
    }
    if json > 0.0 && json >= html {
        BodyFormat::Json
    } else if html > 0.0 {
        BodyFormat::Html
    } else {
        BodyFormat::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_by_media_type_and_quality() {
        assert_eq!(preferred_format(None), BodyFormat::Text);
        assert_eq!(preferred_format(Some(b"*/*")), BodyFormat::Text);
        assert_eq!(
            preferred_format(Some(b"application/json")),
            BodyFormat::Json
        );
        let browser = b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(preferred_format(Some(browser)), BodyFormat::Html);
        let both = b"text/html;q=0.5, application/json;q=0.9";
        assert_eq!(preferred_format(Some(both)), BodyFormat::Json);
        assert_eq!(
            preferred_format(Some(b"application/json;q=0")),
            BodyFormat::Text
        );
    }
}
