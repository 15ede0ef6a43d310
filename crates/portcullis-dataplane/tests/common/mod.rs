//! Shared pieces of the data plane's integration tests: a config template with one
//! listener, one route (`/app` → cluster `app`) and the backends a test starts, and
//! checks of the responses Portcullis generates.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use portcullis_test_support::{RawClient, RawResponse, TestProxy};
use tokio::net::TcpStream;

/// Per-operation timeout of the tests' clients: generous, so that a slow debug build
/// on a busy machine does not fail a test that is not about time.
pub const T: Duration = Duration::from_secs(10);

/// A plain keep-alive GET of `/app`.
pub const GET_APP: &[u8] = b"GET /app HTTP/1.1\r\nHost: shop.test\r\n\r\n";

/// The config a test runs: `[server]`, `[[listeners]]` and `[clusters.app]` keys are
/// added line by line, policy sections (`health_check`, `outlier_detection`,
/// `circuit_breaker`, `retry`) whole; the route `/app` → `app` is always there.
#[derive(Debug, Default, Clone)]
pub struct Conf {
    server: Vec<String>,
    listener: Vec<String>,
    cluster: Vec<String>,
    backends: Vec<(String, u32)>,
    sections: Vec<(&'static str, Vec<String>)>,
}

impl Conf {
    /// One attempt and no passive ejection: these tests see each cause as it happens;
    /// retries and ejection have tests of their own. Either section can be rewritten.
    pub fn new() -> Self {
        Self::defaults()
            .retry(&["attempts = 0"])
            .outlier(&["consecutive_failures = 0"])
    }

    /// Nothing turned off behind a test's back: a policy section the test does not
    /// write keeps the SPEC's defaults (outlier detection on, two retries).
    pub fn defaults() -> Self {
        Self::default()
    }

    /// Adds a backend of weight 1.
    pub fn backend(self, address: SocketAddr) -> Self {
        self.weighted(address, 1)
    }

    /// Adds a backend with `weight`.
    pub fn weighted(mut self, address: SocketAddr, weight: u32) -> Self {
        self.backends.push((address.to_string(), weight));
        self
    }

    /// Adds a `[server]` line, e.g. `drain_timeout = "5s"`.
    pub fn server(mut self, line: &str) -> Self {
        self.server.push(line.to_owned());
        self
    }

    /// Adds a `[[listeners]]` line, e.g. `max_connections = 2`.
    pub fn listener(mut self, line: &str) -> Self {
        self.listener.push(line.to_owned());
        self
    }

    /// Adds a `[clusters.app]` line, e.g. `balance = "random"`.
    pub fn cluster(mut self, line: &str) -> Self {
        self.cluster.push(line.to_owned());
        self
    }

    /// Adds every one of `lines` to the listener.
    pub fn listeners(self, lines: &[&str]) -> Self {
        lines.iter().fold(self, |conf, line| conf.listener(line))
    }

    /// Adds every one of `lines` to `[clusters.app]`.
    pub fn clusters(self, lines: &[&str]) -> Self {
        lines.iter().fold(self, |conf, line| conf.cluster(line))
    }

    /// Writes `[clusters.app.health_check]` with these lines.
    pub fn health<S: AsRef<str>>(self, lines: &[S]) -> Self {
        self.section("health_check", lines)
    }

    /// Writes `[clusters.app.outlier_detection]` with these lines.
    pub fn outlier<S: AsRef<str>>(self, lines: &[S]) -> Self {
        self.section("outlier_detection", lines)
    }

    /// Writes `[clusters.app.circuit_breaker]` with these lines.
    pub fn breaker<S: AsRef<str>>(self, lines: &[S]) -> Self {
        self.section("circuit_breaker", lines)
    }

    /// Writes `[clusters.app.retry]` with these lines.
    pub fn retry<S: AsRef<str>>(self, lines: &[S]) -> Self {
        self.section("retry", lines)
    }

    /// Writes section `name` with `lines`, in place of any written before.
    fn section<S: AsRef<str>>(mut self, name: &'static str, lines: &[S]) -> Self {
        let lines = lines.iter().map(|l| l.as_ref().to_owned()).collect();
        self.sections.retain(|(written, _)| *written != name);
        self.sections.push((name, lines));
        self
    }

    /// The TOML text.
    pub fn render(&self) -> String {
        let backends: Vec<String> = self
            .backends
            .iter()
            .map(|(address, weight)| format!("{{ address = \"{address}\", weight = {weight} }}"))
            .collect();
        let mut text = format!(
            "[server]\n{server}\n\
             [[listeners]]\nname = \"web\"\naddress = \"127.0.0.1:0\"\n{listener}\n\
             [[routes]]\npath_prefix = \"/app\"\ncluster = \"app\"\n\
             [clusters.app]\nbackends = [{backends}]\n{cluster}\n",
            server = self.server.join("\n"),
            listener = self.listener.join("\n"),
            backends = backends.join(", "),
            cluster = self.cluster.join("\n"),
        );
        for (name, lines) in &self.sections {
            text.push_str(&format!("[clusters.app.{name}]\n{}\n", lines.join("\n")));
        }
        text
    }

    /// Starts the real data plane with this config.
    pub async fn start(&self) -> TestProxy {
        TestProxy::start(&self.render()).await
    }
}

/// Sends one request on a new connection and reads the response.
/// A raw HTTP/1.1 connection to `addr`, every wait bounded by `T`.
pub async fn raw_client(addr: SocketAddr) -> RawClient {
    RawClient::connect(addr)
        .await
        .expect("connect to the proxy")
        .with_timeout(T)
}

pub async fn exchange(addr: SocketAddr, request: &[u8]) -> RawResponse {
    raw_client(addr)
        .await
        .send(request)
        .await
        .expect("a response from the proxy")
}

/// A GET of `path` with extra header lines (each ending in `\r\n`).
pub fn get(path: &str, headers: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: shop.test\r\n{headers}\r\n").into_bytes()
}

/// What a generated response must say.
pub struct Expected<'a> {
    pub status: u16,
    pub cause: &'a str,
    /// The `Proxy-Status` `error=` parameter; `None` for the client-side causes.
    pub error: Option<&'a str>,
}

/// The exact `Proxy-Status` value of a generated response (default `proxy_name`,
/// `expose_next_hop = false`).
pub fn proxy_status(expected: &Expected<'_>) -> String {
    match expected.error {
        Some(error) => format!("portcullis; error={error}; details=\"{}\"", expected.cause),
        None => format!("portcullis; details=\"{}\"", expected.cause),
    }
}

/// Checks a generated response with a JSON body (the request sent
/// `Accept: application/json`): status, headers and every field of the body.
/// Returns the request id.
pub fn assert_generated_json(response: &RawResponse, expected: &Expected<'_>) -> String {
    assert_eq!(
        response.status, expected.status,
        "status of {}: {response:?}",
        expected.cause
    );
    assert_eq!(
        response.header("proxy-status"),
        Some(proxy_status(expected).as_str())
    );
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("content-type"), Some("application/json"));
    let request_id = response
        .header("x-request-id")
        .expect("X-Request-Id on a generated response");
    let json: serde_json::Value = serde_json::from_slice(&response.body).expect("a JSON body");
    assert_eq!(json["status"], expected.status);
    assert_eq!(json["cause"], expected.cause);
    match expected.error {
        Some(error) => assert_eq!(json["error"], error),
        None => assert!(
            json["error"].is_null(),
            "no error token for {}",
            expected.cause
        ),
    }
    assert!(
        json["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a message: {json}"
    );
    assert_eq!(json["request_id"], request_id);
    request_id.to_owned()
}

/// True for a request id Portcullis generated: 32 lowercase hex digits.
pub fn is_generated_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The access log records (parsed JSON), waiting up to a second for `n` of them.
pub async fn access_log(proxy: &TestProxy, n: usize) -> Vec<serde_json::Value> {
    proxy
        .access_log_lines(n, Duration::from_secs(1))
        .await
        .iter()
        .map(|line| serde_json::from_str(line).expect("an access log line is JSON"))
        .collect()
}

/// A keep-alive HTTP/1.1 client (hyper's) for tests that send many requests in a row:
/// unlike [`RawClient`] it does not watch for a close after every response.
pub struct Client {
    sender: SendRequest<Empty<Bytes>>,
}

impl Client {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr)
            .await
            .expect("connect to the proxy");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake");
        tokio::spawn(connection);
        Self { sender }
    }

    /// GETs `path` with `headers` and reads the whole response.
    pub async fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> http::Response<Bytes> {
        let mut request = http::Request::get(path).header("host", "shop.test");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Empty::new()).expect("a valid request");
        let exchange = async {
            self.sender.ready().await.expect("connection ready");
            let response = self.sender.send_request(request).await.expect("a response");
            let (parts, body) = response.into_parts();
            let body = body.collect().await.expect("the whole body").to_bytes();
            http::Response::from_parts(parts, body)
        };
        tokio::time::timeout(T, exchange)
            .await
            .expect("response within the timeout")
    }
}
