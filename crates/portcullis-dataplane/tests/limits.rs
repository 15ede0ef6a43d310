//! Listener limits: `header_timeout` (408), `max_header_bytes` (431), `max_body_bytes`
//! (413), `max_connections` and `idle_timeout`.

mod common;

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use common::{access_log, assert_generated_json, raw_client, Conf, Expected, GET_APP, T};
use portcullis_test_support::{FakeOrigin, RawResponse, Script, TestProxy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn proxy(listener: &[&str]) -> (FakeOrigin, TestProxy) {
    let origin = FakeOrigin::start(Script::ok()).await;
    let conf = Conf::new().backend(origin.addr()).listeners(listener);
    (origin, conf.start().await)
}

/// Checks the headers every generated rejection carries, and that it closes.
fn assert_rejection(response: &RawResponse, status: u16, cause: &str) {
    assert_eq!(response.status, status, "{response:?}");
    let proxy_status = format!("portcullis; details=\"{cause}\"");
    assert_eq!(response.header("proxy-status"), Some(proxy_status.as_str()));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert!(response.header("x-request-id").is_some());
    assert!(
        response.closed,
        "the connection must close after a {status}"
    );
}

#[tokio::test]
async fn stalled_request_head_is_408_and_closed() {
    let (origin, proxy) = proxy(&["header_timeout = \"300ms\""]).await;
    let mut client = raw_client(proxy.addr()).await;
    let started = Instant::now();
    // Half a head, then nothing: a slowloris client.
    client
        .write_all(b"GET /app HTTP/1.1\r\nHost: shop.test\r\n")
        .await
        .unwrap();
    let response = client
        .read_response()
        .await
        .expect("a 408, not a silent close");
    let elapsed = started.elapsed();
    assert_rejection(&response, 408, "header_timeout");
    assert!(
        response.text().contains("cause: header_timeout"),
        "{}",
        response.text()
    );
    assert!(
        elapsed >= Duration::from_millis(250),
        "408 before the timeout: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "header_timeout not applied: {elapsed:?}"
    );
    assert_eq!(origin.requests(), 0);
    let records = access_log(&proxy, 1).await;
    assert_eq!(records[0]["cause"], "header_timeout");
    assert_eq!(records[0]["status"], 408);
}

#[tokio::test]
async fn trickled_request_head_is_408_even_while_bytes_keep_coming() {
    let (_origin, proxy) = proxy(&["header_timeout = \"300ms\""]).await;
    let stream = TcpStream::connect(proxy.addr()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer.write_all(b"GET /app HTTP/1.1\r\n").await.unwrap();
    let started = Instant::now();
    // One header byte every 50ms, for up to 3s, never finishes the head: the deadline
    // is for the whole head, not for each read.
    let trickle = tokio::spawn(async move {
        for _ in 0..60 {
            if writer.write_all(b"X").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut status_line = [0u8; 12];
    tokio::time::timeout(T, reader.read_exact(&mut status_line))
        .await
        .unwrap()
        .unwrap();
    let elapsed = started.elapsed();
    trickle.abort();
    assert_eq!(&status_line, b"HTTP/1.1 408");
    assert!(
        elapsed < Duration::from_millis(1500),
        "408 only after the trickle ended: {elapsed:?}"
    );
}

#[tokio::test]
async fn oversized_request_head_is_431_and_closed() {
    let (origin, proxy) = proxy(&["max_header_bytes = 2048"]).await;
    let big = "a".repeat(4096);
    let request = format!("GET /app HTTP/1.1\r\nHost: shop.test\r\nX-Big: {big}\r\n\r\n");
    let mut client = raw_client(proxy.addr()).await;
    let response = client.send(request.as_bytes()).await.expect("a 431");
    assert_rejection(&response, 431, "header_too_large");
    assert_eq!(origin.requests(), 0);
    // Just under the limit still passes.
    let fits = format!(
        "GET /app HTTP/1.1\r\nHost: shop.test\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1900)
    );
    let mut client = raw_client(proxy.addr()).await;
    assert_eq!(client.send(fits.as_bytes()).await.unwrap().status, 200);
}

#[tokio::test]
async fn declared_body_over_the_limit_is_413_before_reaching_the_origin() {
    let (origin, proxy) = proxy(&["max_body_bytes = 1024"]).await;
    let body = "b".repeat(2048);
    let request = format!(
        "POST /app HTTP/1.1\r\nHost: shop.test\r\nAccept: application/json\r\nContent-Length: 2048\r\n\r\n{body}"
    );
    let mut client = raw_client(proxy.addr()).await;
    let response = client.send(request.as_bytes()).await.expect("a 413");
    let expected = Expected {
        status: 413,
        cause: "body_too_large",
        error: None,
    };
    assert_generated_json(&response, &expected);
    assert!(
        response.closed,
        "the unread body makes the connection unusable"
    );
    assert_eq!(origin.requests(), 0);
}

#[tokio::test]
async fn chunked_body_growing_past_the_limit_is_413() {
    let (origin, proxy) = proxy(&["max_body_bytes = 1024"]).await;
    let mut client = raw_client(proxy.addr()).await;
    let head = "POST /app HTTP/1.1\r\nHost: shop.test\r\nAccept: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    client.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("200\r\n{}\r\n", "c".repeat(512));
    // 4 x 512 bytes: past the limit in the third chunk. The proxy may stop reading
    // (and close) as soon as it has seen enough, so later writes may fail.
    for _ in 0..4 {
        if client.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = client.write_all(b"0\r\n\r\n").await;
    let response = client.read_response().await.expect("a 413");
    let expected = Expected {
        status: 413,
        cause: "body_too_large",
        error: None,
    };
    assert_generated_json(&response, &expected);
    assert!(response.closed);
    assert!(
        origin.received().iter().all(|r| !r.body_complete),
        "the origin never got a complete over-limit body"
    );
}

/// True if the server closes `stream` (EOF or reset) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(within, stream.read(&mut byte)).await {
        Ok(Ok(0)) => true,
        Ok(Err(e)) => matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
        Ok(Ok(_)) | Err(_) => false,
    }
}

#[tokio::test]
async fn connections_beyond_max_connections_are_closed_at_once() {
    let (_origin, proxy) = proxy(&["max_connections = 2"]).await;
    let mut first = raw_client(proxy.addr()).await;
    let mut second = raw_client(proxy.addr()).await;
    assert_eq!(first.send(GET_APP).await.unwrap().status, 200);
    assert_eq!(second.send(GET_APP).await.unwrap().status, 200);
    let mut third = TcpStream::connect(proxy.addr()).await.unwrap();
    let started = Instant::now();
    assert!(
        closed_within(&mut third, Duration::from_secs(2)).await,
        "the third connection stays open"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "closed at once, not by a timeout"
    );
    // The first two are unharmed.
    assert_eq!(first.send(GET_APP).await.unwrap().status, 200);
    // Once one of them goes, a new connection is served again.
    drop(second);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let mut next = TcpStream::connect(proxy.addr()).await.unwrap();
        next.write_all(GET_APP).await.unwrap();
        let mut buf = [0u8; 12];
        let served = tokio::time::timeout(T, next.read_exact(&mut buf))
            .await
            .unwrap()
            .is_ok();
        if served {
            assert_eq!(&buf, b"HTTP/1.1 200");
            break;
        }
        assert!(Instant::now() < deadline, "a freed slot is never reused");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn idle_keep_alive_connection_is_closed_after_idle_timeout() {
    let (_origin, proxy) = proxy(&["idle_timeout = \"300ms\""]).await;
    let mut client = raw_client(proxy.addr()).await;
    let response = client.send(GET_APP).await.unwrap();
    assert_eq!(response.status, 200);
    assert!(!response.closed, "kept alive after the response");
    let idle_since = Instant::now();
    assert!(
        client.wait_closed(Duration::from_secs(3)).await,
        "an idle connection was never closed"
    );
    let idle = idle_since.elapsed();
    assert!(
        idle >= Duration::from_millis(200),
        "closed too early: {idle:?}"
    );
    assert!(
        idle < Duration::from_secs(2),
        "idle_timeout not applied: {idle:?}"
    );
}
