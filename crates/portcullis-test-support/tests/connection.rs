//! Connection-level behaviour: keep-alive, `Connection: close`, HTTP/1.0,
//! and the script options `close_after`, `idle_close`,
//! `drop_reused_after_idle`; concurrency counters and `set_script`.

use std::io::ErrorKind;
use std::time::Duration;

use portcullis_test_support::{raw_exchange, Action, FakeOrigin, RawClient, Response, Script};

const T: Duration = Duration::from_secs(5);
const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n";

#[tokio::test]
async fn keep_alive_reuses_one_connection() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let mut client = RawClient::connect(origin.addr()).await.unwrap();
    for _ in 0..3 {
        let res = client.send(GET).await.unwrap();
        assert_eq!(res.status, 200);
        assert!(!res.closed);
    }
    raw_exchange(origin.addr(), GET, T).await.unwrap();
    assert_eq!(origin.connections(), 2);
    assert_eq!(origin.requests(), 4);
    let seen: Vec<_> = origin
        .received()
        .iter()
        .map(|r| (r.connection_index, r.request_index_on_connection, r.index))
        .collect();
    assert_eq!(seen, [(0, 0, 0), (0, 1, 1), (0, 2, 2), (1, 0, 3)]);
}

#[tokio::test]
async fn pipelined_requests_are_all_answered() {
    let origin = FakeOrigin::start(Script::always(Action::Echo)).await;
    let mut client = RawClient::connect(origin.addr()).await.unwrap();
    client
        .write_all(b"GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(client.read_response().await.unwrap().status, 200);
    assert_eq!(client.read_response().await.unwrap().status, 200);
    let paths: Vec<_> = origin.received().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/1", "/2"]);
}

#[tokio::test]
async fn connection_close_and_http10_close_after_the_response() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let close = b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    let res = raw_exchange(origin.addr(), close, T).await.unwrap();
    assert_eq!(res.header("connection"), Some("close"));
    assert!(res.closed);
    let res = raw_exchange(origin.addr(), b"GET / HTTP/1.0\r\n\r\n", T)
        .await
        .unwrap();
    assert!(res.closed);
    let keep = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    assert!(!raw_exchange(origin.addr(), keep, T).await.unwrap().closed);
}

#[tokio::test]
async fn close_after_n_responses() {
    let origin = FakeOrigin::start(Script::ok().close_after(2)).await;
    let mut client = RawClient::connect(origin.addr()).await.unwrap();
    let first = client.send(GET).await.unwrap();
    assert!(!first.closed);
    let second = client.send(GET).await.unwrap();
    assert_eq!(second.header("connection"), Some("close"));
    assert!(second.closed);
    assert_eq!(origin.connections(), 1);
}

#[tokio::test]
async fn idle_close_silently_closes_an_idle_connection() {
    let script = Script::ok().idle_close(Duration::from_millis(500));
    let origin = FakeOrigin::start(script).await;
    let mut client = RawClient::connect(origin.addr()).await.unwrap();
    assert!(!client.send(GET).await.unwrap().closed);
    // Still open shortly after the response, closed once idle long enough.
    assert!(!client.wait_closed(Duration::from_millis(50)).await);
    assert!(client.wait_closed(T).await);
    assert_eq!(origin.requests(), 1);
}

#[tokio::test]
async fn drop_reused_after_idle_loses_the_keep_alive_race() {
    let script = Script::ok().drop_reused_after_idle(Duration::from_millis(500));
    let origin = FakeOrigin::start(script).await;
    let mut client = RawClient::connect(origin.addr()).await.unwrap();
    client.send(GET).await.unwrap();
    // Reused quickly: answered.
    client.send(GET).await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let err = client.send(GET).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    // The dropped request was read and recorded.
    assert_eq!(origin.requests(), 3);
    assert_eq!(origin.received()[2].request_index_on_connection, 2);
    // A fresh connection after idling is not affected.
    assert_eq!(
        raw_exchange(origin.addr(), GET, T).await.unwrap().status,
        200
    );
}

#[tokio::test]
async fn max_concurrent_counts_overlapping_requests() {
    let slow = Response::ok().delay(Duration::from_millis(500));
    let origin = FakeOrigin::start(Script::always(slow.into())).await;
    let addr = origin.addr();
    let clients: Vec<_> = (0..4)
        .map(|_| tokio::spawn(async move { raw_exchange(addr, GET, T).await }))
        .collect();
    for client in clients {
        assert_eq!(client.await.unwrap().unwrap().status, 200);
    }
    assert_eq!(origin.max_concurrent(), 4);
    assert_eq!(origin.in_flight(), 0);
    assert_eq!(origin.connections(), 4);
}

#[tokio::test]
async fn set_script_changes_behaviour_on_open_connections() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let mut client = RawClient::connect(origin.addr()).await.unwrap();
    assert_eq!(client.send(GET).await.unwrap().status, 200);
    origin.set_script(Script::new(|req| match req.path.as_str() {
        "/down" => Action::status(503),
        _ => Action::ok(),
    }));
    let down = b"GET /down HTTP/1.1\r\nHost: t\r\n\r\n";
    assert_eq!(client.send(down).await.unwrap().status, 503);
    assert_eq!(client.send(GET).await.unwrap().status, 200);
}
