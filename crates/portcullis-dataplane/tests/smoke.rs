//! The shortest path through the real data plane: one origin, one request.

use std::time::Duration;

use portcullis_test_support::{raw_exchange, FakeOrigin, Script, TestProxy};

#[tokio::test]
async fn relays_a_request_and_names_a_missing_route() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = TestProxy::start(&format!(
        r#"
        [[listeners]]
        name = "web"
        address = "127.0.0.1:0"
        [[routes]]
        path_prefix = "/app"
        cluster = "app"
        [clusters.app]
        backends = [{{ address = "{}" }}]
        "#,
        origin.addr()
    ))
    .await;
    let ok = raw_exchange(
        proxy.addr(),
        b"GET /app HTTP/1.1\r\nHost: a\r\n\r\n",
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(ok.text(), "ok");
    let missing = raw_exchange(
        proxy.addr(),
        b"GET /else HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\n\r\n",
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(missing.status, 404);
    let json: serde_json::Value = serde_json::from_slice(&missing.body).unwrap();
    assert_eq!(json["cause"], "no_route");
    assert_eq!(
        missing.header("proxy-status"),
        Some("portcullis; error=destination_not_found; details=\"no_route\"")
    );
    assert_eq!(json["request_id"], missing.header("x-request-id").unwrap());
}
