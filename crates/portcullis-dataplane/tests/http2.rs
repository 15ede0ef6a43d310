//! HTTP/2 with prior knowledge (h2c) on the same port as HTTP/1.1, through hyper's
//! client: requests are relayed, and generated answers carry `Proxy-Status`.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use common::{exchange, Conf, Expected, GET_APP, T};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use portcullis_test_support::{Action, FakeOrigin, Response, Script};
use tokio::net::TcpStream;

/// An HTTP/2 connection to `addr`, speaking first (no upgrade, no TLS).
async fn h2_connect<B>(addr: SocketAddr) -> SendRequest<B>
where
    B: Body<Data = Bytes, Error = Infallible> + Send + Unpin + 'static,
{
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("HTTP/2 handshake with prior knowledge");
    tokio::spawn(connection);
    sender
}

/// Sends `request` and waits for the response head.
async fn h2_send<B>(
    sender: &mut SendRequest<B>,
    request: http::Request<B>,
) -> http::Response<Incoming>
where
    B: Body<Data = Bytes, Error = Infallible> + Send + Unpin + 'static,
{
    tokio::time::timeout(T, sender.send_request(request))
        .await
        .expect("answered in time")
        .expect("an HTTP/2 response")
}

/// GETs `path` on host `shop.test` and reads the whole response.
async fn h2_get(
    sender: &mut SendRequest<Full<Bytes>>,
    path: &str,
    accept: &str,
) -> http::Response<Bytes> {
    let request = http::Request::get(format!("http://shop.test{path}"))
        .header("accept", accept)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let (parts, body) = h2_send(sender, request).await.into_parts();
    let body = tokio::time::timeout(T, body.collect())
        .await
        .expect("the body in time")
        .expect("the whole body")
        .to_bytes();
    http::Response::from_parts(parts, body)
}

#[tokio::test]
async fn h2_get_gets_the_origin_answer() {
    let answer = Response::ok()
        .header("X-Kept", "yes")
        .header("Keep-Alive", "timeout=5")
        .header("Connection", "X-Internal")
        .header("X-Internal", "secret");
    let origin = FakeOrigin::start(Script::always(answer.into())).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let mut sender = h2_connect(proxy.addr()).await;
    let response = h2_get(&mut sender, "/app/x?y=1", "*/*").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(response.body(), "ok");
    let headers = response.headers();
    assert_eq!(headers["x-kept"], "yes", "the origin's fields: {headers:?}");
    for hop_by_hop in ["keep-alive", "connection", "x-internal"] {
        assert!(
            !headers.contains_key(hop_by_hop),
            "{hop_by_hop}: {headers:?}"
        );
    }
    let id = response
        .headers()
        .get("x-request-id")
        .expect("X-Request-Id")
        .to_str()
        .unwrap();
    let seen = &origin.received()[0];
    assert_eq!(seen.path, "/app/x?y=1");
    assert_eq!(
        seen.header("host"),
        Some("shop.test"),
        "the authority becomes Host upstream"
    );
    assert_eq!(seen.header("x-request-id"), Some(id));
    // The same port still speaks HTTP/1.1.
    assert_eq!(exchange(proxy.addr(), GET_APP).await.status, 200);
}

/// A request body of `0` 1 KiB frames that does not say its size: hyper then sends no
/// `content-length`, and a limit can only be enforced while it streams.
struct Unsized(u8);

impl Body for Unsized {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.0 == 0 {
            return Poll::Ready(None);
        }
        self.0 -= 1;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; 1024])))))
    }
}

#[tokio::test]
async fn h2_streams_share_one_connection() {
    // Slow answers: streams handled one at a time would take 20 × 300 ms.
    let slow = Response::ok().delay(Duration::from_millis(300));
    let origin = FakeOrigin::start(Script::always(slow.into())).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let sender = h2_connect(proxy.addr()).await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let mut sender = sender.clone();
        tasks.push(tokio::spawn(async move {
            h2_get(&mut sender, "/app", "*/*").await.status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert_eq!(origin.requests(), 20);
    assert!(
        origin.max_concurrent() > 1,
        "streams of one connection are served at once: {}",
        origin.max_concurrent()
    );
}

#[tokio::test]
async fn h2_bodiless_answers_carry_the_declared_length_once() {
    let origin = FakeOrigin::start(Script::new(|request| match request.path.as_str() {
        "/app/304" => Response::new(304)
            .header("Content-Length", "7")
            .header("Content-Length", "7")
            .into(),
        _ => Action::Stream { len: 1234 },
    }))
    .await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let mut sender = h2_connect(proxy.addr()).await;
    let lengths = |headers: &http::HeaderMap| -> Vec<String> {
        let values = headers.get_all("content-length").iter();
        values.map(|v| v.to_str().unwrap().to_owned()).collect()
    };
    let not_modified = h2_get(&mut sender, "/app/304", "*/*").await;
    assert_eq!(not_modified.status(), 304);
    assert_eq!(lengths(not_modified.headers()), ["7"]);
    let head = http::Request::head("http://shop.test/app")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let head = h2_send(&mut sender, head).await;
    assert_eq!(head.status(), 200);
    assert_eq!(
        lengths(head.headers()),
        ["1234"],
        "HEAD keeps the length, once"
    );
}

#[tokio::test]
async fn h2_no_route_is_404_with_proxy_status() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let mut sender = h2_connect(proxy.addr()).await;
    let response = h2_get(&mut sender, "/nowhere", "application/json").await;
    let expected = Expected {
        status: 404,
        cause: "no_route",
        error: Some("destination_not_found"),
    };
    assert_eq!(response.status(), 404);
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
    assert_eq!(
        header("proxy-status"),
        Some(common::proxy_status(&expected).as_str())
    );
    assert_eq!(header("cache-control"), Some("no-store"));
    assert_eq!(header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(json["cause"], "no_route");
    assert_eq!(json["error"], "destination_not_found");
    assert_eq!(json["status"], 404);
    assert_eq!(json["request_id"], header("x-request-id").unwrap());
    assert_eq!(origin.requests(), 0);
}

/// Sends `body` over the limit of 1 KiB: 413, and the origin never gets it whole.
async fn assert_h2_body_over_the_limit_is_413<B>(body: B)
where
    B: Body<Data = Bytes, Error = Infallible> + Send + Unpin + 'static,
{
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::new()
        .backend(origin.addr())
        .listener("max_body_bytes = 1024")
        .start()
        .await;
    let mut sender = h2_connect(proxy.addr()).await;
    let request = http::Request::post("http://shop.test/app")
        .header("accept", "application/json")
        .body(body)
        .unwrap();
    let response = h2_send(&mut sender, request).await;
    assert_eq!(response.status(), 413);
    let proxy_status = response.headers().get("proxy-status").unwrap();
    assert_eq!(proxy_status, "portcullis; details=\"body_too_large\"");
    let whole = origin.received().iter().filter(|r| r.body_complete).count();
    assert_eq!(whole, 0, "the origin never got the over-limit body");
}

#[tokio::test]
async fn h2_declared_body_over_max_body_bytes_is_413() {
    // hyper declares the length of a `Full` body: refused before forwarding.
    assert_h2_body_over_the_limit_is_413(Full::new(Bytes::from(vec![b'x'; 4096]))).await;
}

#[tokio::test]
async fn h2_streamed_body_over_max_body_bytes_is_413() {
    // No length: the limit must hold while the body streams.
    assert_h2_body_over_the_limit_is_413(Unsized(4)).await;
}

#[tokio::test]
async fn h2_stream_in_flight_completes_during_drain() {
    let slow = Response::ok().delay(Duration::from_millis(800));
    let origin = FakeOrigin::start(Script::always(slow.into())).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let mut sender = h2_connect(proxy.addr()).await;
    let in_flight = tokio::spawn(async move { h2_get(&mut sender, "/app", "*/*").await });
    let deadline = Instant::now() + Duration::from_secs(5);
    while origin.in_flight() == 0 {
        assert!(
            Instant::now() < deadline,
            "the request never reached the origin"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::timeout(T, proxy.stop())
        .await
        .expect("the drain ends");
    let response = in_flight.await.unwrap();
    assert_eq!(response.status(), 200, "GOAWAY lets the open stream finish");
    assert_eq!(response.body(), "ok");
}
