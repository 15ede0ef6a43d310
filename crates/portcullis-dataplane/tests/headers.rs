//! Headers on the way through, as the origin and the client see them: forwarding
//! headers, `Via`, the request id, and hop-by-hop headers removed in both directions.

mod common;

use common::{exchange, get, is_generated_id, Conf};
use portcullis_test_support::{Action, FakeOrigin, ReceivedRequest, Response, Script, TestProxy};

/// The names of hop-by-hop headers that must never be relayed (lowercase).
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "transfer-encoding",
];

async fn echo_proxy(listener: &[&str]) -> (FakeOrigin, TestProxy) {
    let origin = FakeOrigin::start(Script::always(Action::Echo)).await;
    let conf = Conf::new().backend(origin.addr()).listeners(listener);
    (origin, conf.start().await)
}

/// Sends a GET with `headers` and returns what the origin received, checking that
/// the Echo it answered with arrived whole.
async fn received(
    proxy: &TestProxy,
    headers: &str,
) -> (ReceivedRequest, portcullis_test_support::RawResponse) {
    let response = exchange(proxy.addr(), &get("/app", headers)).await;
    assert_eq!(response.status, 200, "{response:?}");
    let request = ReceivedRequest::from_echo(&response.body).expect("the origin's echo");
    (request, response)
}

fn all<'a>(request: &'a ReceivedRequest, name: &'a str) -> Vec<&'a str> {
    request.header_all(name).collect()
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_replaced() {
    let (_origin, proxy) = echo_proxy(&[]).await;
    let forged =
        "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.test\r\n";
    let (request, _) = received(&proxy, forged).await;
    assert_eq!(all(&request, "x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(all(&request, "x-forwarded-proto"), ["http"]);
    assert_eq!(all(&request, "x-forwarded-host"), ["shop.test"]);
    assert_eq!(all(&request, "via"), ["1.1 portcullis"]);
}

#[tokio::test]
async fn forwarded_for_from_a_trusted_proxy_is_appended_to() {
    let (_origin, proxy) = echo_proxy(&["trusted_proxies = [\"127.0.0.0/8\"]"]).await;
    let (request, _) = received(&proxy, "X-Forwarded-For: 6.6.6.6, 10.0.0.1\r\n").await;
    assert_eq!(
        all(&request, "x-forwarded-for"),
        ["6.6.6.6, 10.0.0.1, 127.0.0.1"]
    );
    let (request, _) = received(&proxy, "").await;
    assert_eq!(
        all(&request, "x-forwarded-for"),
        ["127.0.0.1"],
        "started when none was sent"
    );
    assert_eq!(all(&request, "x-forwarded-proto"), ["http"]);
    assert_eq!(all(&request, "x-forwarded-host"), ["shop.test"]);
}

#[tokio::test]
async fn via_is_appended_to_an_existing_chain() {
    let (_origin, proxy) = echo_proxy(&[]).await;
    let (request, _) = received(&proxy, "Via: 1.1 cdn-edge\r\n").await;
    assert_eq!(all(&request, "via"), ["1.1 cdn-edge, 1.1 portcullis"]);
}

#[tokio::test]
async fn request_id_is_generated_or_kept_and_returned() {
    let (_origin, proxy) = echo_proxy(&[]).await;
    let (request, response) = received(&proxy, "").await;
    let sent = all(&request, "x-request-id");
    assert_eq!(sent.len(), 1, "one X-Request-Id upstream: {sent:?}");
    assert!(is_generated_id(sent[0]), "32 hex digits: {}", sent[0]);
    assert_eq!(
        response.header("x-request-id"),
        Some(sent[0]),
        "the client gets the same id"
    );
    let (other, _) = received(&proxy, "").await;
    assert_ne!(
        all(&other, "x-request-id"),
        sent,
        "every request gets its own id"
    );
    let (request, response) = received(&proxy, "X-Request-Id: trace-7f3a.9\r\n").await;
    assert_eq!(all(&request, "x-request-id"), ["trace-7f3a.9"]);
    assert_eq!(response.header("x-request-id"), Some("trace-7f3a.9"));
    let (request, response) = received(&proxy, "X-Request-Id: <script>alert(1)</script>\r\n").await;
    let replaced = all(&request, "x-request-id");
    assert_eq!(replaced.len(), 1, "one id goes upstream: {replaced:?}");
    assert!(
        is_generated_id(replaced[0]),
        "an invalid id is replaced: {replaced:?}"
    );
    assert_eq!(response.header("x-request-id"), Some(replaced[0]));
}

#[tokio::test]
async fn hop_by_hop_request_headers_are_removed_on_the_way_up() {
    let (_origin, proxy) = echo_proxy(&[]).await;
    let hop = "Connection: keep-alive, X-Secret\r\nX-Secret: s3cr3t\r\nKeep-Alive: timeout=5\r\n\
TE: trailers\r\nUpgrade: websocket\r\nProxy-Connection: keep-alive\r\nTrailer: X-Sum\r\nX-Kept: yes\r\n";
    let (request, _) = received(&proxy, hop).await;
    for name in HOP_BY_HOP.iter().chain(&["x-secret"]) {
        assert_eq!(
            request.header(name),
            None,
            "{name} reached the origin: {:?}",
            request.headers
        );
    }
    assert_eq!(
        request.header("x-kept"),
        Some("yes"),
        "end-to-end headers pass"
    );
}

#[tokio::test]
async fn client_transfer_encoding_is_not_relayed_as_sent() {
    let (origin, proxy) = echo_proxy(&[]).await;
    // Chunked with an extension; the origin must see a body framed by the proxy itself.
    let request = b"POST /app HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\r\n\
5;ext=1\r\nhello\r\n0\r\n\r\n";
    let response = exchange(proxy.addr(), request).await;
    assert_eq!(response.status, 200);
    let seen = &origin.received()[0];
    assert_eq!(seen.body_len, 5);
    assert!(seen.body_complete);
    let codings = all(seen, "transfer-encoding");
    let lengths = all(seen, "content-length");
    assert!(
        codings.is_empty() || codings == ["chunked"],
        "only this hop's own framing: {:?}",
        seen.headers
    );
    assert!(
        codings.is_empty() != lengths.is_empty(),
        "exactly one framing: {:?}",
        seen.headers
    );
}

#[tokio::test]
async fn hop_by_hop_response_headers_are_removed_on_the_way_down() {
    let answer = Response::ok()
        .header("Connection", "X-Internal")
        .header("X-Internal", "secret")
        .header("Keep-Alive", "timeout=5, max=100")
        .header("Proxy-Connection", "keep-alive")
        .header("Upgrade", "h2c")
        .header("Trailer", "X-Checksum")
        .header("X-Kept", "yes")
        .chunked();
    let origin = FakeOrigin::start(Script::always(answer.into())).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let response = exchange(proxy.addr(), &get("/app", "")).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "ok");
    for name in HOP_BY_HOP.iter().chain(&["x-internal"]) {
        if *name == "transfer-encoding" {
            continue; // the proxy's own framing towards the client, checked below
        }
        assert_eq!(
            response.header(name),
            None,
            "{name} reached the client: {:?}",
            response.headers
        );
    }
    let codings: Vec<&str> = response
        .headers
        .iter()
        .filter(|(n, _)| n == "transfer-encoding")
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(
        codings.is_empty() || codings == ["chunked"],
        "{:?}",
        response.headers
    );
    assert_eq!(response.header("x-kept"), Some("yes"));
    assert!(
        !response.closed,
        "the origin's Connection header does not close the client"
    );
}

#[tokio::test]
async fn http10_request_without_host_gets_one_upstream() {
    // HTTP/1.0 may omit Host; the HTTP/1.1 request upstream must not (RFC 9112 §3.2).
    let (origin, proxy) = echo_proxy(&[]).await;
    let response = exchange(proxy.addr(), b"GET /app HTTP/1.0\r\n\r\n").await;
    assert_eq!(response.status, 200);
    assert!(response.closed, "HTTP/1.0 without keep-alive closes");
    let seen = &origin.received()[0];
    assert_eq!(
        all(seen, "host"),
        [origin.addr().to_string()],
        "{:?}",
        seen.headers
    );
    assert_eq!(all(seen, "via"), ["1.0 portcullis"]);
    assert_eq!(
        seen.header("x-forwarded-host"),
        None,
        "the client named no host"
    );
}

#[tokio::test]
async fn the_origin_request_id_is_replaced_and_its_proxy_status_kept_first() {
    let answer = Response::ok()
        .header("X-Request-Id", "origin-made")
        .header("Proxy-Status", "origin-cache; hit")
        .header("Server", "origin");
    let origin = FakeOrigin::start(Script::always(answer.into())).await;
    let proxy = Conf::new()
        .backend(origin.addr())
        .server("proxy_status = \"always\"")
        .start()
        .await;
    let response = exchange(proxy.addr(), &get("/app", "X-Request-Id: client-7\r\n")).await;
    assert_eq!(response.status, 200);
    let values = |name| response.header_all(name);
    assert_eq!(values("x-request-id"), ["client-7"]);
    assert_eq!(
        values("proxy-status"),
        ["origin-cache; hit", "portcullis; received-status=200"],
        "RFC 9209: each hop appends its member after those nearer the origin"
    );
    assert_eq!(values("server"), ["origin"]);
}
