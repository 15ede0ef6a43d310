//! Well-formed answers: `Action::Respond`, `Echo`, `Stream` and the
//! `Response` builder options.

use std::time::{Duration, Instant};

use portcullis_test_support::{
    raw_exchange, stream_pattern, Action, FakeOrigin, RawClient, ReceivedRequest, Response, Script,
};

const T: Duration = Duration::from_secs(5);
const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n";

#[tokio::test]
async fn ok_script_answers_200_ok() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let res = raw_exchange(origin.addr(), GET, T).await.unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "ok");
    assert_eq!(res.header("content-length"), Some("2"));
    assert!(!res.closed);
}

#[tokio::test]
async fn status_script_answers_that_status_for_healthz_too() {
    let origin = FakeOrigin::start(Script::status(503)).await;
    let req = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
    let res = raw_exchange(origin.addr(), req, T).await.unwrap();
    assert_eq!(res.status, 503);
    assert!(res.body.is_empty());
    assert_eq!(origin.received()[0].path, "/healthz");
}

#[tokio::test]
async fn echo_reports_method_path_and_headers_in_order() {
    let origin = FakeOrigin::start(Script::always(Action::Echo)).await;
    let req = b"POST /a/b?q=1 HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 1.2.3.4\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 3\r\n\r\nabc";
    let res = raw_exchange(origin.addr(), req, T).await.unwrap();
    assert_eq!(res.header("content-type"), Some("application/json"));
    let echo = ReceivedRequest::from_echo(&res.body).unwrap();
    assert_eq!(echo.method, "POST");
    assert_eq!(echo.path, "/a/b?q=1");
    assert_eq!(echo.header("x-forwarded-for"), Some("1.2.3.4"));
    assert_eq!(echo.header_all("X-A").collect::<Vec<_>>(), ["1", "2"]);
    assert_eq!(echo.body_len, 3);
    assert_eq!(echo, origin.received()[0]);
}

#[tokio::test]
async fn custom_response_with_headers_chunked_and_delay() {
    let response = Response::new(201)
        .header("X-Origin", "a")
        .body("hello chunked")
        .chunked()
        .delay(Duration::from_millis(200));
    let origin = FakeOrigin::start(Script::always(response.into())).await;
    let started = Instant::now();
    let res = raw_exchange(origin.addr(), GET, T).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(res.status, 201);
    assert_eq!(res.header("x-origin"), Some("a"));
    assert_eq!(res.header("transfer-encoding"), Some("chunked"));
    assert_eq!(res.header("content-length"), None);
    assert_eq!(res.text(), "hello chunked");
}

#[tokio::test]
async fn body_delay_sends_the_head_first() {
    let slow = Response::ok().body_delay(Duration::from_millis(300));
    let origin = FakeOrigin::start(Script::always(slow.into())).await;
    let mut client = RawClient::connect(origin.addr()).await.unwrap();
    client.write_all(GET).await.unwrap();
    // The whole response cannot arrive within 100 ms, but it does later.
    let mut quick = RawClient::connect(origin.addr())
        .await
        .unwrap()
        .with_timeout(Duration::from_millis(100));
    assert!(quick.send(GET).await.is_err());
    assert_eq!(client.read_response().await.unwrap().text(), "ok");
}

#[tokio::test]
async fn head_requests_get_no_body() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let mut client = RawClient::connect(origin.addr()).await.unwrap();
    let head = client
        .send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(head.header("content-length"), Some("2"));
    assert!(head.body.is_empty());
    // The connection is still in sync: the next GET gets its body.
    assert_eq!(client.send(GET).await.unwrap().text(), "ok");
}

#[tokio::test]
async fn a_lying_content_length_then_close_truncates_the_body() {
    let liar = Response::ok()
        .header("Content-Length", "100")
        .body("short")
        .then_close();
    let origin = FakeOrigin::start(Script::always(liar.into())).await;
    let err = raw_exchange(origin.addr(), GET, T).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
}

#[tokio::test]
async fn stream_sends_the_pattern_with_the_right_length() {
    let len = 1_000_003u64;
    let origin = FakeOrigin::start(Script::always(Action::Stream { len })).await;
    let res = raw_exchange(origin.addr(), GET, T).await.unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-length"), Some("1000003"));
    assert_eq!(res.body.len() as u64, len);
    assert_eq!(&res.body[..], &stream_pattern(0, len as usize)[..]);
    assert!(!res.closed);
}

#[tokio::test]
async fn keep_alive_header_is_added() {
    let origin = FakeOrigin::start(Script::ok().keep_alive_header(7)).await;
    let res = raw_exchange(origin.addr(), GET, T).await.unwrap();
    assert_eq!(res.header("keep-alive"), Some("timeout=7"));
}
