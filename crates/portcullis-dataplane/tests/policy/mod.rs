//! Shared pieces of the health, breaker and retry integration tests: origins whose
//! answer a test can switch while they run, and a keep-alive client that times each
//! exchange. Their configs start from `common::Conf::defaults()`, which turns nothing
//! off behind a test's back.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use portcullis_test_support::{Action, FakeOrigin, Response, Script, TestProxy};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::common::T;

/// Outlier detection off, so a breaker or retry test sees only its own mechanism.
pub const NO_OUTLIER: &[&str] = &["consecutive_failures = 0"];
/// A breaker that never opens within a test, so ejection or retry tests see only theirs.
pub const NO_BREAKER: &[&str] = &["min_requests = 1000000"];
/// No retries: each request is exactly one attempt.
pub const NO_RETRY: &[&str] = &["attempts = 0"];

/// A status an origin answers with, switchable while it runs.
#[derive(Debug, Clone)]
pub struct Switch(Arc<AtomicU16>);

impl Switch {
    /// Starts at `status`.
    pub fn new(status: u16) -> Self {
        Self(Arc::new(AtomicU16::new(status)))
    }

    /// From now on, answer `status`.
    pub fn set(&self, status: u16) {
        self.0.store(status, Ordering::SeqCst);
    }

    /// The current status.
    pub fn get(&self) -> u16 {
        self.0.load(Ordering::SeqCst)
    }
}

/// An origin whose `/healthz` answers `health`'s status and every other path `app`'s
/// (body `ok` when 200).
pub async fn switched_origin(health: &Switch, app: &Switch) -> FakeOrigin {
    let (health, app) = (health.clone(), app.clone());
    FakeOrigin::start(Script::new(move |request| {
        let status = if request.path == "/healthz" {
            health.get()
        } else {
            app.get()
        };
        Action::Respond(Response::ok().status(status))
    }))
    .await
}

/// Requests `origin` received other than health checks.
pub fn app_requests(origin: &FakeOrigin) -> usize {
    origin
        .received()
        .iter()
        .filter(|r| r.path != "/healthz")
        .count()
}

/// One response as the client saw it, with how long the exchange took.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    pub elapsed: Duration,
}

impl Reply {
    /// Header `name` as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The JSON body of a generated response.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// A keep-alive HTTP/1.1 client (hyper's) that reconnects when the proxy closed
/// the connection, so a long series of requests needs no care.
pub struct Client {
    addr: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Client {
    /// A client for the proxy at `addr`; connects on first use.
    pub fn new(addr: SocketAddr) -> Self {
        Self { addr, sender: None }
    }

    /// GETs `/app` with `Accept: application/json`.
    pub async fn get(&mut self) -> Reply {
        self.send("GET", "/app", Bytes::new()).await
    }

    /// POSTs `body` to `/app` with `Accept: application/json`.
    pub async fn post(&mut self, body: &'static [u8]) -> Reply {
        self.send("POST", "/app", Bytes::from_static(body)).await
    }

    /// Sends one request and reads the whole response.
    pub async fn send(&mut self, method: &str, path: &str, body: Bytes) -> Reply {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "shop.test")
            .header("accept", "application/json")
            .body(Full::new(body))
            .expect("a valid request");
        let started = Instant::now();
        let exchange = async {
            let sender = self.ready().await;
            let response = sender.send_request(request).await.expect("a response");
            let (parts, body) = response.into_parts();
            let body = body.collect().await.expect("the whole body").to_bytes();
            (parts, body)
        };
        let (parts, body) = tokio::time::timeout(T, exchange)
            .await
            .expect("a response within the timeout");
        Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
            elapsed: started.elapsed(),
        }
    }

    async fn ready(&mut self) -> &mut SendRequest<Full<Bytes>> {
        let alive = match self.sender.as_mut() {
            Some(sender) => sender.ready().await.is_ok(),
            None => false,
        };
        if !alive {
            self.sender = Some(connect(self.addr).await);
        }
        self.sender.as_mut().expect("connected just now")
    }
}

async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr)
        .await
        .expect("connect to the proxy");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1 handshake");
    tokio::spawn(connection);
    sender
}

/// Sends one GET on a connection of its own.
pub async fn get_once(addr: SocketAddr) -> Reply {
    Client::new(addr).get().await
}

/// Polls `condition` every 10 ms for up to `within`; true once it holds.
pub async fn eventually(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Checks a generated JSON answer: status, cause, Proxy-Status, `Retry-After`
/// (a whole number of seconds, at least 1) and `Cache-Control`.
pub fn assert_generated(reply: &Reply, status: u16, cause: &str, error: &str) {
    assert_eq!(reply.status, status, "status of {cause}: {reply:?}");
    let expected = format!("portcullis; error={error}; details=\"{cause}\"");
    assert_eq!(
        reply.header("proxy-status"),
        Some(expected.as_str()),
        "{reply:?}"
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let retry_after = reply
        .header("retry-after")
        .and_then(|v| v.parse::<u64>().ok());
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "Retry-After of {cause}: {reply:?}"
    );
    let json = reply.json();
    assert_eq!(json["status"], status);
    assert_eq!(json["cause"], cause);
    assert_eq!(json["error"], error);
}

/// Backend number `index` of cluster `app` as the live snapshot has it.
pub fn backend(proxy: &TestProxy, index: usize) -> Arc<portcullis_dataplane::Backend> {
    let snapshot = proxy.shared().snapshot();
    let cluster = snapshot.cluster("app").expect("cluster app");
    let backend = cluster.backends().nth(index).expect("such a backend");
    Arc::clone(backend)
}

/// `healthy`, `unhealthy` or `ejected`: backend `index`'s health right now.
pub fn health_of(proxy: &TestProxy, index: usize) -> &'static str {
    backend(proxy, index).health.status(Instant::now()).as_str()
}

/// `closed`, `open` or `half_open`: backend `index`'s breaker right now.
pub fn breaker_of(proxy: &TestProxy, index: usize) -> &'static str {
    backend(proxy, index).breaker.state().as_str()
}
