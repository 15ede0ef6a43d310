//! Every cause the data plane names when it cannot relay an origin's answer: status,
//! `Proxy-Status`, `X-Request-Id`, `Cache-Control`, a body in the format the client
//! accepts, and an access log line that names the cause.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{access_log, assert_generated_json, exchange, get, is_generated_id, Conf, Expected};
use portcullis_test_support::{
    closed_port, unaccepting_listener, Action, FakeOrigin, RawResponse, Response, Script,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const JSON: &str = "Accept: application/json\r\n";

/// A proxy with one backend at `backend`, plus `cluster` lines, answering a JSON GET.
const MS_300: Duration = Duration::from_millis(300);

async fn json_response(backend: SocketAddr, cluster: &[&str]) -> RawResponse {
    timed_json_response(backend, cluster).await.0
}

/// The answer, and how long the exchange took: timed from a started proxy, so that
/// start-up does not count towards a timeout.
async fn timed_json_response(backend: SocketAddr, cluster: &[&str]) -> (RawResponse, Duration) {
    let proxy = Conf::new().backend(backend).clusters(cluster).start().await;
    let started = Instant::now();
    let response = exchange(proxy.addr(), &get("/app", JSON)).await;
    (response, started.elapsed())
}

/// A 504 for `cause` after `timeout` (the cluster line setting it), not before and not
/// much later.
async fn assert_times_out(backend: SocketAddr, line: &str, timeout: Duration, cause: &str) {
    let (response, elapsed) = timed_json_response(backend, &[line]).await;
    let error = match cause {
        "connect_timeout" => "connection_timeout",
        _ => "http_response_timeout",
    };
    let expected = Expected {
        status: 504,
        cause,
        error: Some(error),
    };
    assert_generated_json(&response, &expected);
    assert!(
        elapsed >= timeout,
        "answered before the timeout: {elapsed:?}"
    );
    assert!(
        elapsed < timeout + Duration::from_secs(2),
        "{cause} not applied: {elapsed:?}"
    );
}

#[tokio::test]
async fn no_route_is_404_destination_not_found() {
    let origin = FakeOrigin::start(Script::ok()).await;
    let proxy = Conf::new().backend(origin.addr()).start().await;
    let response = exchange(proxy.addr(), &get("/elsewhere", JSON)).await;
    let expected = Expected {
        status: 404,
        cause: "no_route",
        error: Some("destination_not_found"),
    };
    let id = assert_generated_json(&response, &expected);
    assert!(is_generated_id(&id), "a generated request id: {id}");
    assert!(!response.closed, "a 404 keeps the connection");
    assert_eq!(origin.requests(), 0);
}

#[tokio::test]
async fn connect_refused_is_502_connection_refused_and_keeps_the_client_request_id() {
    let proxy = Conf::new().backend(closed_port()).start().await;
    let request = get(
        "/app",
        "Accept: application/json\r\nX-Request-Id: client-id-42\r\n",
    );
    let response = exchange(proxy.addr(), &request).await;
    let expected = Expected {
        status: 502,
        cause: "connect_refused",
        error: Some("connection_refused"),
    };
    let id = assert_generated_json(&response, &expected);
    assert_eq!(id, "client-id-42", "a valid client request id is echoed");
}

#[tokio::test]
async fn connect_timeout_is_504_connection_timeout() {
    let hole = unaccepting_listener();
    let line = "connect_timeout = \"300ms\"";
    assert_times_out(hole.addr(), line, MS_300, "connect_timeout").await;
}

#[tokio::test]
async fn origin_reset_is_502_connection_terminated() {
    let origin = FakeOrigin::start(Script::always(Action::Reset)).await;
    let response = json_response(origin.addr(), &[]).await;
    let expected = Expected {
        status: 502,
        cause: "upstream_reset",
        error: Some("connection_terminated"),
    };
    assert_generated_json(&response, &expected);
    assert_eq!(origin.requests(), 1);
}

#[tokio::test]
async fn origin_close_without_answer_is_502_connection_terminated() {
    let origin = FakeOrigin::start(Script::always(Action::Close)).await;
    let response = json_response(origin.addr(), &[]).await;
    let expected = Expected {
        status: 502,
        cause: "upstream_reset",
        error: Some("connection_terminated"),
    };
    assert_generated_json(&response, &expected);
    assert_eq!(origin.requests(), 1);
}

#[tokio::test]
async fn hanging_origin_is_504_http_response_timeout() {
    let origin = FakeOrigin::start(Script::always(Action::Hang)).await;
    let line = "response_timeout = \"300ms\"";
    assert_times_out(origin.addr(), line, MS_300, "response_timeout").await;
}

#[tokio::test]
async fn slow_origin_is_504_http_response_timeout() {
    let slow = Response::ok().delay(Duration::from_secs(2));
    let origin = FakeOrigin::start(Script::always(slow.into())).await;
    let line = "response_timeout = \"300ms\"";
    assert_times_out(origin.addr(), line, MS_300, "response_timeout").await;
}

#[tokio::test]
async fn garbage_from_the_origin_is_502_http_protocol_error() {
    let garbage = Action::Garbage(Bytes::from_static(b"NOT HTTP AT ALL\r\n\r\n"));
    let origin = FakeOrigin::start(Script::always(garbage)).await;
    let response = json_response(origin.addr(), &[]).await;
    let expected = Expected {
        status: 502,
        cause: "invalid_response",
        error: Some("http_protocol_error"),
    };
    assert_generated_json(&response, &expected);
}

#[tokio::test]
async fn generated_body_is_text_for_any_accept_and_html_for_a_browser() {
    let proxy = Conf::new().backend(closed_port()).start().await;
    let text = exchange(proxy.addr(), &get("/app", "Accept: */*\r\n")).await;
    assert_eq!(text.status, 502);
    assert_eq!(
        text.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(text.header("cache-control"), Some("no-store"));
    let id = text.header("x-request-id").unwrap();
    let body = text.text();
    assert!(body.starts_with("502 Bad Gateway\n"), "{body}");
    assert!(body.contains("cause: connect_refused"), "{body}");
    assert!(body.contains(id), "the text names the request id: {body}");
    let browser = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n";
    let html = exchange(proxy.addr(), &get("/app", browser)).await;
    assert_eq!(html.status, 502);
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(html.header("cache-control"), Some("no-store"));
    let body = html.text();
    assert!(body.starts_with("<!doctype html>"), "{body}");
    assert!(body.contains("connect_refused"), "{body}");
    assert!(
        body.contains(html.header("x-request-id").unwrap()),
        "{body}"
    );
    assert_eq!(
        html.header("proxy-status"),
        Some("portcullis; error=connection_refused; details=\"connect_refused\"")
    );
}

#[tokio::test]
async fn head_of_a_generated_response_has_no_body() {
    let proxy = Conf::new().backend(closed_port()).start().await;
    // Read to the end of the connection, so any body bytes would show up.
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    let request = b"HEAD /app HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n";
    stream.write_all(request).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(common::T, stream.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 502 "), "{text}");
    let head_end = text.find("\r\n\r\n").expect("a complete head") + 4;
    assert_eq!(
        &text[head_end..],
        "",
        "no body after the head of a HEAD response"
    );
    let lower = text.to_ascii_lowercase();
    assert!(
        lower.contains("proxy-status: portcullis; error=connection_refused"),
        "{text}"
    );
    assert!(lower.contains("cache-control: no-store"), "{text}");
}

#[tokio::test]
async fn access_log_names_cause_status_cluster_and_backend() {
    let dead = closed_port();
    let proxy = Conf::new().backend(dead).start().await;
    let response = exchange(proxy.addr(), &get("/app", JSON)).await;
    assert_eq!(response.status, 502);
    let _ = exchange(proxy.addr(), &get("/nowhere", "")).await;
    let records = access_log(&proxy, 2).await;
    assert_eq!(records.len(), 2, "one line per request: {records:?}");
    let refused = &records[0];
    assert_eq!(refused["cause"], "connect_refused");
    assert_eq!(refused["status"], 502);
    assert_eq!(refused["cluster"], "app");
    assert_eq!(refused["backend"], dead.to_string());
    assert_eq!(
        refused["request_id"],
        response.header("x-request-id").unwrap()
    );
    assert_eq!(refused["path"], "/app");
    let missing = &records[1];
    assert_eq!(missing["cause"], "no_route");
    assert_eq!(missing["status"], 404);
    assert!(
        missing["cluster"].is_null(),
        "no cluster without a route: {missing}"
    );
}

#[tokio::test]
async fn proxy_status_modes_and_proxy_name() {
    let origin = FakeOrigin::start(Script::always(Action::Echo)).await;
    let always = Conf::new()
        .backend(origin.addr())
        .server("proxy_status = \"always\"")
        .server("proxy_name = \"edge-1\"")
        .start()
        .await;
    let relayed = exchange(always.addr(), &get("/app", "")).await;
    assert_eq!(relayed.status, 200);
    assert_eq!(
        relayed.header("proxy-status"),
        Some("edge-1; received-status=200")
    );
    let seen = portcullis_test_support::ReceivedRequest::from_echo(&relayed.body).unwrap();
    assert_eq!(
        seen.header("via"),
        Some("1.1 edge-1"),
        "Via names this hop too"
    );
    let missing = exchange(always.addr(), &get("/elsewhere", "")).await;
    assert_eq!(
        missing.header("proxy-status"),
        Some("edge-1; error=destination_not_found; details=\"no_route\"")
    );

    let off = Conf::new()
        .backend(closed_port())
        .server("proxy_status = \"off\"")
        .start()
        .await;
    let refused = exchange(off.addr(), &get("/app", JSON)).await;
    assert_eq!(refused.status, 502);
    assert_eq!(refused.header("proxy-status"), None, "off means off");
    let json: serde_json::Value = serde_json::from_slice(&refused.body).unwrap();
    assert_eq!(
        json["cause"], "connect_refused",
        "the body still names the cause"
    );

    let errors_only = Conf::new().backend(origin.addr()).start().await;
    let plain = exchange(errors_only.addr(), &get("/app", "")).await;
    assert_eq!(
        plain.header("proxy-status"),
        None,
        "default: only on errors"
    );
}

#[tokio::test]
async fn expose_next_hop_names_the_backend() {
    let dead = closed_port();
    let hidden = Conf::new().backend(dead).start().await;
    let response = exchange(hidden.addr(), &get("/app", "")).await;
    let header = response.header("proxy-status").unwrap();
    assert!(!header.contains("next-hop"), "off by default: {header}");
    let exposed = Conf::new()
        .backend(dead)
        .server("expose_next_hop = true")
        .start()
        .await;
    let response = exchange(exposed.addr(), &get("/app", "")).await;
    let expected = format!(
        "portcullis; error=connection_refused; details=\"connect_refused\"; next-hop=\"{dead}\""
    );
    assert_eq!(response.header("proxy-status"), Some(expected.as_str()));
}
