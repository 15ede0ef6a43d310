//! Relaying an origin's answer as it is: bodyless responses (HEAD, 204, 304) keep both
//! connections usable, a body cut short ends the client connection and is logged as
//! `response_incomplete`, and `response_timeout` covers only the wait for the head.

mod common;

use std::time::Duration;

use common::{access_log, exchange, get, raw_client, Conf, GET_APP, T};
use portcullis_test_support::{Action, FakeOrigin, RawResponse, Response, Script};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn head_response_keeps_both_connections_usable() {
    let origin = FakeOrigin::start(Script::always(Action::Stream { len: 1234 })).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let mut client = raw_client(proxy.addr()).await;
    let head = client
        .send(b"HEAD /app HTTP/1.1\r\nHost: shop.test\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(lengths(&head), ["1234"], "HEAD keeps the length, once");
    assert!(head.body.is_empty());
    assert!(!head.closed);
    // The next exchange on both connections must be intact.
    let next = client.send(GET_APP).await.unwrap();
    assert_eq!(next.status, 200);
    assert_eq!(next.body.len(), 1234);
    assert_eq!(
        origin.connections(),
        1,
        "the upstream connection was reused after HEAD"
    );
}

fn lengths(response: &RawResponse) -> Vec<&str> {
    response.header_all("content-length")
}

#[tokio::test]
async fn a_bodiless_answer_passes_on_one_valid_length_or_none() {
    let with_lengths = |status, values: &[&str]| {
        let response = Response::new(status);
        let response = values
            .iter()
            .fold(response, |r, v| r.header("Content-Length", *v));
        Action::from(response)
    };
    let origin = FakeOrigin::start(Script::new(move |request| match request.path.as_str() {
        "/app/204" => with_lengths(204, &["5"]),
        "/app/304" => with_lengths(304, &["7", "7"]),
        "/app/conflict" => with_lengths(304, &["5", "6"]),
        _ => Action::ok(),
    }))
    .await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let mut client = raw_client(proxy.addr()).await;
    let no_content = client.send(&get("/app/204", "")).await.unwrap();
    assert!(lengths(&no_content).is_empty(), "{:?}", no_content.headers);
    let same = client.send(&get("/app/304", "")).await.unwrap();
    assert_eq!(lengths(&same), ["7"]);
    let conflict = client.send(&get("/app/conflict", "")).await.unwrap();
    assert!(lengths(&conflict).is_empty(), "{:?}", conflict.headers);
    assert_eq!(client.send(GET_APP).await.unwrap().text(), "ok");
}

#[tokio::test]
async fn no_content_and_not_modified_are_relayed_without_a_body() {
    let origin = FakeOrigin::start(Script::new(|request| match request.path.as_str() {
        "/app/204" => Action::status(204),
        "/app/304" => Response::new(304).header("ETag", "\"v1\"").into(),
        _ => Action::ok(),
    }))
    .await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let mut client = raw_client(proxy.addr()).await;
    let empty = client.send(&get("/app/204", "")).await.unwrap();
    assert_eq!(
        (empty.status, empty.body.len(), empty.closed),
        (204, 0, false)
    );
    let same = client
        .send(&get("/app/304", "If-None-Match: \"v1\"\r\n"))
        .await
        .unwrap();
    assert_eq!((same.status, same.body.len(), same.closed), (304, 0, false));
    assert_eq!(same.header("etag"), Some("\"v1\""));
    assert_eq!(client.send(GET_APP).await.unwrap().text(), "ok");
}

#[tokio::test]
async fn body_cut_short_closes_the_client_and_logs_response_incomplete() {
    // The origin promises 100 bytes, sends 10, and closes.
    let liar = Response::new(200)
        .header("Content-Length", "100")
        .body("0123456789")
        .then_close();
    let origin = FakeOrigin::start(Script::always(liar.into())).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    stream.write_all(GET_APP).await.unwrap();
    let mut raw = Vec::new();
    // The client must see the connection end, not wait for 90 more bytes.
    tokio::time::timeout(T, stream.read_to_end(&mut raw))
        .await
        .expect("the proxy closes")
        .ok();
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "the head was already relayed: {text}"
    );
    assert!(
        text.to_ascii_lowercase().contains("content-length: 100"),
        "{text}"
    );
    assert!(
        text.ends_with("0123456789"),
        "only what the origin sent: {text}"
    );
    let records = access_log(&proxy, 1).await;
    assert_eq!(
        records[0]["cause"], "response_incomplete",
        "{:?}",
        records[0]
    );
    assert_eq!(records[0]["status"], 200);
}

#[tokio::test]
async fn response_timeout_does_not_cut_a_slow_body() {
    let slow_body = Response::ok().body_delay(Duration::from_millis(800));
    let origin = FakeOrigin::start(Script::always(slow_body.into())).await;
    let proxy = Conf::new()
        .backend(origin.addr())
        .cluster("response_timeout = \"300ms\"")
        .start()
        .await;
    let response = exchange(proxy.addr(), GET_APP).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "ok");
}

#[tokio::test]
async fn response_timeout_starts_when_the_request_has_been_sent() {
    // A client that uploads slowly: the origin cannot answer before the body is in,
    // and the wait for the head starts only then (SPEC: "request sent -> response
    // head received").
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::new()
        .backend(origin.addr())
        .cluster("response_timeout = \"300ms\"")
        .start()
        .await;
    let mut client = raw_client(proxy.addr()).await;
    client
        .write_all(b"POST /app HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 10\r\n\r\n01234")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    client.write_all(b"56789").await.unwrap();
    let response = client.read_response().await.unwrap();
    assert_eq!(
        response.status,
        200,
        "{:?}",
        response.header("proxy-status")
    );
    assert_eq!(origin.received()[0].body_len, 10);
}

#[tokio::test]
async fn origin_response_with_both_length_and_chunked_is_never_relayed_with_its_length() {
    // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, and an intermediary
    // that forwards such a message must drop the Content-Length first. Relaying the
    // `Content-Length: 2` with the 11-byte body would desynchronise the client.
    let smuggler = Response::new(200)
        .header("Content-Length", "2")
        .header("Transfer-Encoding", "chunked")
        .body("b\r\nhello world\r\n0\r\n\r\n");
    let origin = FakeOrigin::start(Script::always(smuggler.into())).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let mut client = raw_client(proxy.addr()).await;
    let response = client.send(GET_APP).await.unwrap();
    match response.status {
        502 => assert_eq!(
            response.header("proxy-status"),
            Some("portcullis; error=http_protocol_error; details=\"invalid_response\"")
        ),
        200 => {
            assert_eq!(response.text(), "hello world", "{response:?}");
            assert_ne!(response.header("content-length"), Some("2"), "{response:?}");
        }
        other => panic!("unexpected status {other}: {response:?}"),
    }
    if !response.closed {
        // Whatever was relayed, the connection must still be in step.
        assert_eq!(
            client.send(&get("/app", "")).await.unwrap().status,
            response.status
        );
    }
}

/// Starts a POST declaring `declared` body bytes, sends `sent` of them, then goes
/// silent; returns how long the proxy took to end the connection and the log record.
async fn stall_upload(declared: usize, sent: usize) -> (Duration, serde_json::Value) {
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::new()
        .backend(origin.addr())
        .listener("idle_timeout = \"500ms\"")
        .start()
        .await;
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    let head =
        format!("POST /app HTTP/1.1\r\nHost: shop.test\r\nContent-Length: {declared}\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![b'x'; sent]).await.unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
        .await
        .expect("a stalled upload must not hold the connection open")
        .ok();
    let waited = started.elapsed();
    let records = access_log(&proxy, 1).await;
    let whole = origin.received().iter().filter(|r| r.body_complete).count();
    assert_eq!(whole, 0, "the origin never got a whole request");
    (waited, records[0].clone())
}

#[tokio::test]
async fn stalled_upload_is_given_up_after_idle_timeout() {
    // A small body (buffered for retries) and a large one (streamed).
    for (declared, sent) in [(10, 5), (1_000_000, 200_000)] {
        let (waited, record) = stall_upload(declared, sent).await;
        assert!(
            waited >= Duration::from_millis(400),
            "{declared}: gave up early: {waited:?}"
        );
        assert!(
            waited < Duration::from_secs(3),
            "{declared}: idle_timeout not applied: {waited:?}"
        );
        assert_eq!(
            record["cause"], "client_closed",
            "the client is to blame, not the origin: {record}"
        );
    }
}

#[tokio::test]
async fn expect_continue_is_answered_and_not_forwarded() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let mut client = raw_client(proxy.addr()).await;
    let head = b"POST /app HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
    client.write_all(head).await.unwrap();
    let interim = client.read_response().await.unwrap();
    assert_eq!(interim.status, 100, "the body is invited: {interim:?}");
    client.write_all(b"hello").await.unwrap();
    let response = client.read_response().await.unwrap();
    assert_eq!(response.status, 200);
    let seen = &origin.received()[0];
    assert_eq!(seen.body_len, 5);
    assert_eq!(
        seen.header("expect"),
        None,
        "Expect was answered by this hop"
    );
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let origin = FakeOrigin::start(Script::new(|request| {
        Response::ok().body(request.path.clone()).into()
    }))
    .await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let mut client = raw_client(proxy.addr()).await;
    let mut batch = Vec::new();
    for i in 0..5 {
        batch.extend_from_slice(&get(&format!("/app/{i}"), ""));
    }
    client.write_all(&batch).await.unwrap();
    for i in 0..5 {
        let response = client.read_response().await.unwrap();
        assert_eq!(response.text(), format!("/app/{i}"));
    }
}

#[tokio::test]
async fn absolute_form_target_is_sent_upstream_in_origin_form() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let request = b"GET http://shop.test/app/x?q=1 HTTP/1.1\r\nHost: shop.test\r\n\r\n";
    let response = exchange(proxy.addr(), request).await;
    assert_eq!(response.status, 200);
    let seen = &origin.received()[0];
    assert_eq!(seen.path, "/app/x?q=1");
    assert_eq!(seen.header("host"), Some("shop.test"));
}
