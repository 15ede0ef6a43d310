//! Shared by the integration tests: a fake [`AdminSource`] with a fixed report, a
//! running admin server on `127.0.0.1:0`, and a small HTTP/1.1 client.
#![allow(dead_code)] // each test binary uses its own part

pub mod client;
pub mod fixture;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use portcullis_admin::{AdminServer, AdminSource, StatusReport};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// An [`AdminSource`] serving a fixed report, whose readiness and reload outcome the
/// test sets.
pub struct FakeSource {
    pub report: StatusReport,
    pub ready: AtomicBool,
    pub reload_result: Mutex<Result<u64, Vec<String>>>,
    pub reloads: AtomicUsize,
    /// How long `reload` blocks its thread, in milliseconds.
    pub reload_delay_ms: AtomicU64,
}

impl FakeSource {
    pub fn new(report: StatusReport) -> Arc<Self> {
        Arc::new(Self {
            report,
            ready: AtomicBool::new(true),
            reload_result: Mutex::new(Ok(8)),
            reloads: AtomicUsize::new(0),
            reload_delay_ms: AtomicU64::new(0),
        })
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    pub fn set_reload_result(&self, result: Result<u64, Vec<String>>) {
        *self.reload_result.lock().unwrap() = result;
    }

    pub fn reload_calls(&self) -> usize {
        self.reloads.load(Ordering::SeqCst)
    }
}

impl AdminSource for FakeSource {
    fn status(&self) -> StatusReport {
        self.report.clone()
    }

    fn reload(&self) -> Result<u64, Vec<String>> {
        self.reloads.fetch_add(1, Ordering::SeqCst);
        let delay = self.reload_delay_ms.load(Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(delay));
        self.reload_result.lock().unwrap().clone()
    }

    fn ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
}

/// An admin server running on an ephemeral loopback port; stops when dropped or
/// [`TestAdmin::stop`]ped.
pub struct TestAdmin {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestAdmin {
    /// Starts a server over `source`, serving `metrics` on `/metrics`.
    pub async fn start(
        source: Arc<dyn AdminSource>,
        metrics: Arc<dyn Fn() -> String + Send + Sync>,
        token: Option<&str>,
    ) -> Self {
        let server = AdminServer::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let token = token.map(str::to_owned);
        let task = tokio::spawn(server.run(source, metrics, token, async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Starts a server over the fixture report with no metrics and no token.
    pub async fn fixture() -> (Self, Arc<FakeSource>) {
        let source = FakeSource::new(fixture::report());
        let admin = Self::start(source.clone(), Arc::new(String::new), None).await;
        (admin, source)
    }

    /// Asks the server to shut down, without waiting.
    pub fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Asks the server to shut down and waits until `run` returned.
    pub async fn stop(mut self) {
        self.signal_stop();
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

impl Drop for TestAdmin {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
