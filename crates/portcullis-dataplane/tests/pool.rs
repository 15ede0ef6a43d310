//! The upstream keep-alive pool, as an origin sees it: connections are reused,
//! `pool_max_idle = 0` turns reuse off, and an origin's `Keep-Alive: timeout=N`
//! retires a pooled connection before the origin would close it.

mod common;

use std::time::Duration;

use common::{Client, Conf};
use portcullis_test_support::{FakeOrigin, Script};

#[tokio::test]
async fn sequential_requests_reuse_a_handful_of_connections() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let mut client = Client::connect(proxy.addr()).await;
    for _ in 0..200 {
        assert_eq!(client.get("/app", &[]).await.status(), 200);
    }
    assert_eq!(origin.requests(), 200);
    let connections = origin.connections();
    assert!(
        connections <= 5,
        "200 sequential requests opened {connections} upstream connections"
    );
}

#[tokio::test]
async fn new_client_connections_share_the_upstream_pool() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    for _ in 0..50 {
        let mut client = Client::connect(proxy.addr()).await;
        assert_eq!(client.get("/app", &[]).await.status(), 200);
    }
    let connections = origin.connections();
    assert!(
        connections <= 5,
        "50 client connections opened {connections} upstream connections"
    );
}

#[tokio::test]
async fn pool_max_idle_zero_opens_one_connection_per_request() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::new()
        .backend(origin.addr())
        .cluster("pool_max_idle = 0")
        .start()
        .await;
    let mut client = Client::connect(proxy.addr()).await;
    for _ in 0..20 {
        assert_eq!(client.get("/app", &[]).await.status(), 200);
    }
    assert_eq!(origin.requests(), 20);
    assert_eq!(origin.connections(), 20);
    let reused = origin
        .received()
        .iter()
        .filter(|r| r.request_index_on_connection > 0)
        .count();
    assert_eq!(reused, 0, "no request went out on a used connection");
}

#[tokio::test]
async fn origin_keep_alive_timeout_retires_pooled_connections_early() {
    // The origin announces `Keep-Alive: timeout=1` and, to make the keep-alive race
    // deterministic, drops (reads, then closes without answering) any request that
    // arrives on a connection it has kept idle for more than 0.9s. A proxy that kept
    // the connection past the announced timeout would send the next request into it
    // and get no answer.
    let script = Script::ok()
        .keep_alive_header(1)
        .drop_reused_after_idle(Duration::from_millis(900));
    let origin = FakeOrigin::start(script).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let mut client = Client::connect(proxy.addr()).await;
    assert_eq!(client.get("/app", &[]).await.status(), 200);
    // A short pause: the pooled connection is still good and is reused.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(client.get("/app", &[]).await.status(), 200);
    // Past the origin's timeout: the proxy must have retired it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let late = client.get("/app", &[]).await;
    assert_eq!(
        late.status(),
        200,
        "request after 1.2s idle: {:?}",
        late.headers().get("proxy-status")
    );
    let received = origin.received();
    let placement: Vec<(usize, usize)> = received
        .iter()
        .map(|r| (r.connection_index, r.request_index_on_connection))
        .collect();
    assert_eq!(
        placement[..2],
        [(0, 0), (0, 1)],
        "the second request reused the first connection"
    );
    assert_eq!(
        placement.len(),
        3,
        "the old connection saw no third request: {placement:?}"
    );
    assert_eq!(
        placement[2].1, 0,
        "the late request went out on a new connection: {placement:?}"
    );
}
