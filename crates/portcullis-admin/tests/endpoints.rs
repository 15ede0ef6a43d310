//! Every admin endpoint over a real loopback socket: status codes, content types,
//! the reload token, reload outcomes and readiness.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::client::{get, send};
use common::{fixture, FakeSource, TestAdmin};
use http::StatusCode;
use portcullis_admin::StatusReport;

#[tokio::test]
async fn probes_answer_by_readiness() {
    let (admin, source) = TestAdmin::fixture().await;

    let healthz = get(admin.addr, "/healthz").await;
    assert_eq!(healthz.status, StatusCode::OK);
    assert_eq!(healthz.content_type(), "text/plain; charset=utf-8");
    assert_eq!(healthz.header("cache-control"), Some("no-store"));

    assert_eq!(get(admin.addr, "/readyz").await.status, StatusCode::OK);
    source.set_ready(false);
    let not_ready = get(admin.addr, "/readyz").await;
    assert_eq!(not_ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(not_ready.content_type(), "text/plain; charset=utf-8");
    // Liveness does not follow readiness: a draining process is still alive.
    assert_eq!(get(admin.addr, "/healthz").await.status, StatusCode::OK);
    source.set_ready(true);
    assert_eq!(get(admin.addr, "/readyz").await.status, StatusCode::OK);
    admin.stop().await;
}

#[tokio::test]
async fn status_api_serves_the_report_and_readiness() {
    let (admin, source) = TestAdmin::fixture().await;
    let reply = get(admin.addr, "/api/v1/status").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type(), "application/json");
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    let json = reply.json();
    assert_eq!(json["ready"], true);
    assert_eq!(json["generation"], 7);
    assert_eq!(json["last_reload"]["ok"], false);
    assert_eq!(json["last_reload"]["trigger"], "file");
    assert_eq!(json["clusters"][0]["backends"][1]["health"], "ejected");
    assert_eq!(json["clusters"][0]["backends"][2]["breaker"], "half_open");
    assert_eq!(json["errors_by_cause"]["connect_refused"], 42);
    let report: StatusReport = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(report, source.report);

    source.set_ready(false);
    assert_eq!(
        get(admin.addr, "/api/v1/status").await.json()["ready"],
        false
    );
    admin.stop().await;
}

#[tokio::test]
async fn status_page_is_self_contained_html() {
    let (admin, _source) = TestAdmin::fixture().await;
    let reply = get(admin.addr, "/status").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type(), "text/html; charset=utf-8");
    let policy = reply.header("content-security-policy").unwrap();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    let html = reply.text();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("/api/v1/status"));
    for external in [
        "http://",
        "https://",
        "//cdn",
        "@import",
        "<link rel=\"stylesheet\"",
    ] {
        assert!(!html.contains(external), "page references {external}");
    }
    assert!(!html.contains("innerHTML"), "page must build DOM from text");
    admin.stop().await;
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let source = FakeSource::new(fixture::report());
    let render = Arc::new(|| "# TYPE up gauge\nup 1\n".to_owned());
    let admin = TestAdmin::start(source, render, None).await;
    let reply = get(admin.addr, "/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply
        .content_type()
        .starts_with("text/plain; version=0.0.4"));
    assert_eq!(reply.text(), "# TYPE up gauge\nup 1\n");
    admin.stop().await;
}

#[tokio::test]
async fn reload_reports_the_generation_or_every_error() {
    let (admin, source) = TestAdmin::fixture().await;
    let ok = send(admin.addr, "POST", "/api/v1/reload", &[]).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.content_type(), "application/json");
    assert_eq!(ok.json(), serde_json::json!({ "generation": 8 }));

    let errors = vec![
        "portcullis.toml:3:1: listeners[0].address: invalid socket address".to_owned(),
        "portcullis.toml:9:5: clusters.api.balance: unknown variant \"fastest\"".to_owned(),
    ];
    source.set_reload_result(Err(errors.clone()));
    let rejected = send(admin.addr, "POST", "/api/v1/reload", &[]).await;
    assert_eq!(rejected.status, StatusCode::BAD_REQUEST);
    assert_eq!(rejected.content_type(), "application/json");
    assert_eq!(rejected.json(), serde_json::json!({ "errors": errors }));
    assert_eq!(source.reload_calls(), 2);
    admin.stop().await;
}

#[tokio::test]
async fn reload_needs_the_bearer_token_when_one_is_set() {
    let source = FakeSource::new(fixture::report());
    let admin = TestAdmin::start(source.clone(), Arc::new(String::new), Some("s3cret")).await;
    let reload = |headers: &'static [(&'static str, &'static str)]| {
        send(admin.addr, "POST", "/api/v1/reload", headers)
    };

    let missing = reload(&[]).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.content_type(), "application/json");
    assert!(missing
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer"));
    for wrong in [
        "Bearer s3cre",
        "Bearer s3crett",
        "Bearer S3CRET",
        "Basic s3cret",
        "s3cret",
    ] {
        let reply = send(
            admin.addr,
            "POST",
            "/api/v1/reload",
            &[("authorization", wrong)],
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{wrong}");
    }
    assert_eq!(source.reload_calls(), 0, "no reload without the token");

    let right = reload(&[("authorization", "Bearer s3cret")]).await;
    assert_eq!(right.status, StatusCode::OK);
    assert_eq!(right.json()["generation"], 8);
    assert_eq!(source.reload_calls(), 1);

    // Reading stays open: the token guards changes only.
    assert_eq!(
        get(admin.addr, "/api/v1/status").await.status,
        StatusCode::OK
    );
    admin.stop().await;
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods() {
    let (admin, source) = TestAdmin::fixture().await;
    for path in ["/", "/nope", "/api/v1/status/", "/metrics/x"] {
        let reply = get(admin.addr, path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    let get_reload = get(admin.addr, "/api/v1/reload").await;
    assert_eq!(get_reload.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get_reload.header("allow"), Some("POST"));
    for path in [
        "/metrics",
        "/healthz",
        "/readyz",
        "/api/v1/status",
        "/status",
    ] {
        let reply = send(admin.addr, "POST", path, &[]).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(reply.header("allow"), Some("GET, HEAD"), "{path}");
    }
    assert_eq!(source.reload_calls(), 0);

    // A query string does not change the endpoint.
    assert_eq!(
        get(admin.addr, "/healthz?probe=1").await.status,
        StatusCode::OK
    );
    admin.stop().await;
}

#[tokio::test]
async fn head_answers_without_a_body() {
    let (admin, _source) = TestAdmin::fixture().await;
    let reply = send(admin.addr, "HEAD", "/api/v1/status", &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.content_type(), "application/json");
    assert!(reply.body.is_empty());
    admin.stop().await;
}

#[tokio::test]
async fn run_returns_after_shutdown_and_the_port_closes() {
    let (admin, _source) = TestAdmin::fixture().await;
    let addr = admin.addr;
    assert_eq!(get(addr, "/healthz").await.status, StatusCode::OK);
    tokio::time::timeout(std::time::Duration::from_secs(10), admin.stop())
        .await
        .expect("run returned");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn a_slow_reload_does_not_hold_up_other_requests() {
    // One runtime thread: a reload run on it would stall every other request.
    let (admin, source) = TestAdmin::fixture().await;
    source.reload_delay_ms.store(800, Ordering::SeqCst);
    let reload = tokio::spawn(send(admin.addr, "POST", "/api/v1/reload", &[]));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    assert_eq!(get(admin.addr, "/healthz").await.status, StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(reload.await.unwrap().status, StatusCode::OK);
    admin.stop().await;
}

#[tokio::test]
async fn shutdown_lets_a_reload_in_progress_answer() {
    let (mut admin, source) = TestAdmin::fixture().await;
    source.reload_delay_ms.store(300, Ordering::SeqCst);
    let reload = tokio::spawn(send(admin.addr, "POST", "/api/v1/reload", &[]));
    while source.reload_calls() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    admin.signal_stop();
    let reply = reload.await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["generation"], 8);
    admin.stop().await;
}
