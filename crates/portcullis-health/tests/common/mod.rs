//! Hermetic fixtures: a tiny raw-TCP HTTP origin on `127.0.0.1:0`, closed and
//! silent ports, and config builders.

#![allow(dead_code)] // each test file uses a different subset

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use portcullis_config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// One request an origin received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub path: String,
    pub host: String,
}

#[derive(Default)]
struct State {
    status: AtomicU16,
    connections: AtomicUsize,
    requests: Mutex<Vec<Seen>>,
}

/// An HTTP/1.1 origin answering every request with the current status and
/// closing the connection; it stops when dropped.
pub struct Origin {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Origin {
    pub async fn start(status: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State::default());
        state.status.store(status, Ordering::SeqCst);
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                shared.connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(answer(stream, Arc::clone(&shared)));
            }
        });
        Self { addr, state, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn set_status(&self, status: u16) {
        self.state.status.store(status, Ordering::SeqCst);
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.requests().len()
    }

    /// Connections accepted so far (TCP probes send no request).
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(mut stream: TcpStream, state: Arc<State>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text.split(' ').nth(1).unwrap_or("").to_owned();
    let host = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("host: ")
                .or_else(|| l.strip_prefix("Host: "))
        })
        .unwrap_or("")
        .to_owned();
    state
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Seen { path, host });
    let status = state.status.load(Ordering::SeqCst);
    let response =
        format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A loopback address nothing listens on: connects are refused.
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("local addr")
}

/// A listener that never accepts: connects succeed (backlog) but nothing answers.
pub async fn silent_listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

/// `[clusters.NAME]` with `backends` and optional `[health_check]` keys.
pub fn cluster(name: &str, backends: &[SocketAddr], check: Option<&str>) -> String {
    let list: Vec<String> = backends
        .iter()
        .map(|a| format!("{{ address = \"{a}\" }}"))
        .collect();
    let mut toml = format!("[clusters.{name}]\nbackends = [{}]\n", list.join(", "));
    if let Some(check) = check {
        toml.push_str(&format!("[clusters.{name}.health_check]\n{check}\n"));
    }
    toml
}

/// A whole config around `clusters` (the first named `api`).
pub fn config(clusters: &[String]) -> Config {
    let source = format!(
        "[[listeners]]\nname = \"web\"\naddress = \"127.0.0.1:1\"\n\n\
         [[routes]]\ncluster = \"api\"\n\n{}",
        clusters.join("\n")
    );
    portcullis_config::parse(&source, "test.toml").unwrap_or_else(|e| panic!("config: {e}"))
}

/// Health-check keys with short real-time settings.
pub fn http_check(interval_ms: u64, timeout_ms: u64, rise: u32, fall: u32) -> String {
    format!(
        "kind = \"http\"\npath = \"/healthz\"\ninterval = \"{interval_ms}ms\"\n\
         timeout = \"{timeout_ms}ms\"\njitter = 0.0\nhealthy_threshold = {rise}\n\
         unhealthy_threshold = {fall}"
    )
}

/// Polls `condition` every 5ms for up to `limit`; the time it took, if it held.
pub async fn wait_for(limit: Duration, condition: impl Fn() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if condition() {
            return Some(start.elapsed());
        }
        if start.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
