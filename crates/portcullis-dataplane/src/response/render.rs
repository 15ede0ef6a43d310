//! Renders a generated response for a cause.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Response};

use super::{BodyFormat, ProxyIdentity};
use crate::headers::{PROXY_STATUS, X_REQUEST_ID};
use crate::{Cause, ResponseBody};

/// What a generated response says.
pub(crate) struct Generated<'a> {
    pub cause: Cause,
    /// Usually `cause.status()`; short-circuits use the cluster's configured status.
    pub status: http::StatusCode,
    pub request_id: &'a HeaderValue,
    /// Seconds after which a retry may succeed, where waiting helps.
    pub retry_after: Option<u64>,
    /// The backend involved, when `expose_next_hop` allows naming it.
    pub next_hop: Option<&'a str>,
    pub format: BodyFormat,
}

/// The full response: status, headers and a body in `g.format`. `identity` is `None`
/// when `proxy_status = "off"`.
pub(crate) fn generated_response(
    g: &Generated<'_>,
    identity: Option<&ProxyIdentity>,
) -> Response<ResponseBody> {
    let (content_type, body) = match g.format {
        BodyFormat::Json => ("application/json", json_body(g)),
        BodyFormat::Html => ("text/html; charset=utf-8", html_body(g)),
        BodyFormat::Text => ("text/plain; charset=utf-8", text_body(g)),
    };
    let mut response = Response::new(ResponseBody::Full(Some(Bytes::from(body))));
    *response.status_mut() = g.status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_REQUEST_ID, g.request_id.clone());
    if let Some(identity) = identity {
        headers.insert(PROXY_STATUS, identity.for_cause(g.cause, g.next_hop));
    }
    if let Some(seconds) = g.retry_after {
        headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn request_id<'a>(g: &'a Generated<'a>) -> &'a str {
    g.request_id.to_str().unwrap_or("")
}

fn json_body(g: &Generated<'_>) -> String {
    let value = serde_json::json!({
        "status": g.status.as_u16(),
        "cause": g.cause.as_str(),
        "error": g.cause.proxy_status_error(),
        "message": g.cause.message(),
        "request_id": request_id(g),
        "retry_after": g.retry_after,
    });
    let mut body = value.to_string();
    body.push('\n');
    body
}

fn text_body(g: &Generated<'_>) -> String {
    let status = g.status;
    let mut body = format!(
        "{} {}\n{}\ncause: {}\nrequest id: {}\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        g.cause.message(),
        g.cause.as_str(),
        request_id(g),
    );
    if let Some(seconds) = g.retry_after {
        body.push_str(&format!("retry after: {seconds}s\n"));
    }
    body
}

fn html_body(g: &Generated<'_>) -> String {
    let status = g.status;
    // The request id is validated to a safe alphabet before it gets here; the rest is ours.
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{code} {reason}</title><style>body{{font:16px/1.5 system-ui,sans-serif;\
max-width:40em;margin:3em auto;padding:0 1em;color:#222}}h1{{font-size:1.5em}}\
code{{background:#f3f3f3;padding:.1em .3em;border-radius:3px}}</style></head>\
<body><h1>{code} {reason}</h1><p>{message}</p><p>Cause: <code>{cause}</code><br>\
Request id: <code>{id}</code></p></body></html>\n",
        code = status.as_u16(),
        reason = status.canonical_reason().unwrap_or(""),
        message = g.cause.message(),
        cause = g.cause.as_str(),
        id = request_id(g),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_body_names_cause_error_and_id() {
        let id = HeaderValue::from_static("abc-123");
        let g = Generated {
            cause: Cause::ConnectRefused,
            status: Cause::ConnectRefused.status(),
            request_id: &id,
            retry_after: Some(5),
            next_hop: None,
            format: BodyFormat::Json,
        };
        let response = generated_response(&g, Some(&ProxyIdentity::new("portcullis")));
        assert_eq!(response.status(), 502);
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[RETRY_AFTER], "5");
        let ResponseBody::Full(Some(body)) = response.into_body() else {
            panic!("generated bodies are full");
        };
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["cause"], "connect_refused");
        assert_eq!(json["error"], "connection_refused");
        assert_eq!(json["request_id"], "abc-123");
        assert_eq!(json["retry_after"], 5);
    }
}
