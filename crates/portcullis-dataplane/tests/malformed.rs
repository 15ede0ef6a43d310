//! Malformed and ambiguous requests (request smuggling vectors) get `400 bad_request`,
//! never reach an origin, and close the client connection.

mod common;

use common::{assert_generated_json, is_generated_id, raw_client, Conf, Expected};
use portcullis_test_support::{FakeOrigin, RawResponse, Script, TestProxy};

const BAD_REQUEST: Expected<'static> = Expected {
    status: 400,
    cause: "bad_request",
    error: None,
};

async fn proxy_with_origin() -> (FakeOrigin, TestProxy) {
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    (origin, proxy)
}

/// Sends `request` on a fresh connection; the answer must be a 400 that closes it.
async fn assert_bad_request(proxy: &TestProxy, request: &[u8]) -> RawResponse {
    let mut client = raw_client(proxy.addr()).await;
    let response = client
        .send(request)
        .await
        .expect("a 400, not a silent close");
    let shown = String::from_utf8_lossy(request);
    assert_eq!(response.status, 400, "{shown:?} -> {response:?}");
    assert_eq!(
        response.header("proxy-status"),
        Some("portcullis; details=\"bad_request\""),
        "{shown:?}"
    );
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert!(
        is_generated_id(response.header("x-request-id").unwrap_or("")),
        "{response:?}"
    );
    assert!(
        response.closed,
        "{shown:?}: the connection must close after a 400"
    );
    response
}

#[tokio::test]
async fn malformed_request_line_is_400() {
    let (origin, proxy) = proxy_with_origin().await;
    let response = assert_bad_request(&proxy, b"this is not http\r\nHost: shop.test\r\n\r\n").await;
    assert!(
        response.text().contains("cause: bad_request"),
        "{}",
        response.text()
    );
    assert_bad_request(&proxy, b"GET /app HTTP/9.9\r\nHost: shop.test\r\n\r\n").await;
    assert_bad_request(&proxy, b"GET app HTTP/1.1\r\nHost: shop.test\r\n\r\n").await;
    assert_eq!(origin.requests(), 0);
}

#[tokio::test]
async fn content_length_with_transfer_encoding_is_400() {
    let (origin, proxy) = proxy_with_origin().await;
    let request = b"POST /app HTTP/1.1\r\nHost: shop.test\r\nAccept: application/json\r\n\
Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let response = assert_bad_request(&proxy, request).await;
    assert_generated_json(&response, &BAD_REQUEST);
    assert_eq!(origin.requests(), 0);
}

#[tokio::test]
async fn differing_content_lengths_are_400() {
    let (origin, proxy) = proxy_with_origin().await;
    let two_headers = b"POST /app HTTP/1.1\r\nHost: shop.test\r\nAccept: application/json\r\n\
Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!";
    let response = assert_bad_request(&proxy, two_headers).await;
    assert_generated_json(&response, &BAD_REQUEST);
    let one_list = b"POST /app HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5, 6\r\n\r\nhello!";
    assert_bad_request(&proxy, one_list).await;
    assert_eq!(origin.requests(), 0);
}

#[tokio::test]
async fn transfer_encoding_other_than_a_final_chunked_is_400() {
    let (origin, proxy) = proxy_with_origin().await;
    for coding in [
        "chunked, gzip",
        "gzip",
        "identity",
        "gzip, chunked",
        "xchunked",
    ] {
        let request = format!(
            "POST /app HTTP/1.1\r\nHost: shop.test\r\nAccept: application/json\r\n\
Transfer-Encoding: {coding}\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        );
        let response = assert_bad_request(&proxy, request.as_bytes()).await;
        assert_generated_json(&response, &BAD_REQUEST);
    }
    let split = b"POST /app HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\
Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    assert_bad_request(&proxy, split).await;
    assert_eq!(origin.requests(), 0);
}

#[tokio::test]
async fn a_well_formed_chunked_request_still_passes() {
    // The counterpart of the tests above: the checks must not reject plain chunked.
    let (origin, proxy) = proxy_with_origin().await;
    let request = b"POST /app HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\r\n\
5\r\nhello\r\n0\r\n\r\n";
    let mut client = raw_client(proxy.addr()).await;
    let response = client.send(request).await.unwrap();
    assert_eq!(response.status, 200);
    assert!(!response.closed);
    assert_eq!(origin.received()[0].body_len, 5);
}
