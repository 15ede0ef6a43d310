//! A harness that runs the real data plane on ephemeral loopback ports, in-process.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portcullis_dataplane::{AccessLog, Server, Shared};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The data plane serving a config given as TOML text, its access log captured.
pub struct TestProxy {
    addrs: Vec<(String, SocketAddr)>,
    shared: Arc<Shared>,
    access_log: Arc<Mutex<Vec<u8>>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestProxy {
    /// Parses `toml` (panicking with the errors when it is invalid: a test bug), binds
    /// every listener and serves until dropped or [`TestProxy::stop`]ped. Listener
    /// addresses such as `127.0.0.1:0` get ephemeral ports.
    pub async fn start(toml: &str) -> Self {
        let config = match portcullis_config::parse(toml, "test.toml") {
            Ok(config) => config,
            Err(errors) => panic!("test config is invalid:\n{errors}"),
        };
        let access_log = Arc::new(Mutex::new(Vec::new()));
        let writer = SharedWriter(Arc::clone(&access_log));
        let log = AccessLog::spawn(Box::new(writer), config.log.format).expect("access log thread");
        let server = Server::bind(&config, log).expect("bind test listeners");
        let addrs = config
            .listeners
            .iter()
            .filter_map(|l| Some((l.name.clone(), server.local_addr(&l.name)?)))
            .collect();
        let shared = server.shared();
        let (stop, stopped) = oneshot::channel::<()>();
        let drain = config.server.drain_timeout;
        let task = tokio::spawn(server.run(
            async {
                let _ = stopped.await;
            },
            drain,
        ));
        Self {
            addrs,
            shared,
            access_log,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The address of the first listener.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0].1
    }

    /// The address of listener `name`.
    pub fn addr_of(&self, name: &str) -> SocketAddr {
        self.addrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| *a)
            .expect("no such listener")
    }

    /// `http://ADDR{path}` on the first listener.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr())
    }

    /// The data plane's shared state (snapshot, reloads).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Access log lines written so far (the writer thread may lag a few milliseconds).
    pub fn access_log(&self) -> Vec<String> {
        let bytes = self
            .access_log
            .lock()
            .map(|b| b.clone())
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Waits up to `within` for at least `n` access log lines.
    pub async fn access_log_lines(&self, n: usize, within: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let lines = self.access_log();
            if lines.len() >= n || tokio::time::Instant::now() >= deadline {
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Drains like SIGTERM and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut out) = self.0.lock() {
            out.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
