//! Draining (what SIGTERM does): stop accepting, close idle keep-alive connections,
//! and let the requests in flight finish.

mod common;

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use common::{exchange, get, raw_client, Conf, GET_APP, T};
use portcullis_test_support::{Action, FakeOrigin, Response, Script};
use tokio::net::TcpStream;

/// How long the origin takes to answer `/app/slow`.
const SLOW: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn stop_finishes_in_flight_requests_and_refuses_new_connections() {
    let origin = FakeOrigin::start(Script::new(|request| match request.path.as_str() {
        "/app/slow" => Response::ok().delay(SLOW).into(),
        _ => Action::ok(),
    }))
    .await;
    let proxy = Conf::new()
        .backend(origin.addr())
        .server("drain_timeout = \"10s\"")
        .start()
        .await;
    let addr = proxy.addr();
    let mut idle = raw_client(addr).await;
    let warm = idle.send(GET_APP).await.unwrap();
    assert_eq!(
        (warm.status, warm.closed),
        (200, false),
        "a kept-alive connection to drain"
    );
    let slow = tokio::spawn(async move { exchange(addr, &get("/app/slow", "")).await });
    let deadline = Instant::now() + Duration::from_secs(5);
    while origin.in_flight() == 0 {
        assert!(
            Instant::now() < deadline,
            "the slow request never reached the origin"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stop_started = Instant::now();
    let stopping = tokio::spawn(proxy.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;

    let refused = TcpStream::connect(addr).await;
    assert!(
        matches!(&refused, Err(e) if e.kind() == ErrorKind::ConnectionRefused),
        "a new connection during the drain: {refused:?}"
    );
    assert!(
        idle.wait_closed(Duration::from_millis(500)).await,
        "the idle keep-alive connection stays open"
    );
    assert!(
        !slow.is_finished(),
        "the slow request was answered before its origin did"
    );

    let response = slow.await.unwrap();
    assert_eq!(
        response.status, 200,
        "the in-flight request completes: {response:?}"
    );
    assert_eq!(response.text(), "ok");
    assert!(response.closed, "its connection closes after the response");
    tokio::time::timeout(T, stopping)
        .await
        .expect("stop returns once drained")
        .unwrap();
    let drained = stop_started.elapsed();
    assert!(
        drained >= SLOW / 2,
        "stop did not wait for the in-flight request: {drained:?}"
    );
}

#[tokio::test]
async fn stop_with_nothing_in_flight_is_prompt() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let mut idle = raw_client(proxy.addr()).await;
    assert_eq!(idle.send(GET_APP).await.unwrap().status, 200);
    let started = Instant::now();
    // The default drain_timeout is 30s: an idle connection must not hold the drain.
    tokio::time::timeout(T, proxy.stop())
        .await
        .expect("stop returns");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "stop waited {:?}",
        started.elapsed()
    );
    assert!(idle.wait_closed(Duration::from_millis(500)).await);
}
