//! `portcullis run`: the runtime, metrics, the data plane, the admin listener, and
//! the signals and watcher around them.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use portcullis_admin::AdminServer;
use portcullis_config::Config;
use portcullis_dataplane::Server;
use tokio::sync::oneshot;

use crate::reload::Reloader;
use crate::status::Status;

/// Runs `config` until SIGTERM/SIGINT and a drain. `path` enables reloads.
pub(crate) fn run(config: Config, path: Option<PathBuf>) -> ExitCode {
    crate::logging::init(&config.log);
    let runtime = match control_runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(serve(config, path, crate::signals::terminate(), |_, _| {}))
}

/// Binds and serves `config` until `shutdown`; `bound` sees the data plane and the
/// admin address before serving starts.
pub(crate) async fn serve(
    config: Config,
    path: Option<PathBuf>,
    shutdown: impl std::future::Future<Output = ()>,
    bound: impl FnOnce(&Server, std::net::SocketAddr),
) -> ExitCode {
    let started_at = SystemTime::now();
    let metrics = match portcullis_admin::install_prometheus() {
        Ok(handle) => handle,
        Err(e) => return fail(format!("cannot install the metrics recorder: {e}")),
    };
    let access_log = match crate::logging::access_log(&config.log) {
        Ok(log) => log,
        Err(e) => return fail(format!("cannot open the access log: {e}")),
    };
    let server = match Server::bind(&config, access_log) {
        Ok(server) => server,
        Err(e) => return fail(format!("cannot bind a listener: {e}")),
    };
    let admin = match AdminServer::bind(config.admin.address).await {
        Ok(admin) => admin,
        Err(e) => {
            return fail(format!(
                "cannot bind the admin listener on {}: {e}",
                config.admin.address
            ))
        }
    };
    tracing::info!(address = %admin.local_addr(), "admin listening");
    bound(&server, admin.local_addr());
    let reloader = path.map(|path| {
        let live_text = std::fs::read_to_string(&path).ok();
        let reloader = Arc::new(Reloader::new(Arc::clone(&server), path, live_text));
        tokio::spawn(crate::watch::watch(Arc::clone(&reloader)));
        tokio::spawn(crate::signals::reload_on_hup(Arc::clone(&reloader)));
        reloader
    });
    let status = Arc::new(Status {
        server: Arc::clone(&server),
        reloader,
        started_at,
    });
    let (admin_stop, admin_stopped) = oneshot::channel::<()>();
    let render = Arc::new(move || {
        let mut text = metrics.render();
        portcullis_dataplane::render_metrics(&mut text);
        text
    });
    let admin_task = tokio::spawn(
        admin.run(status, render, config.admin.token.clone(), async {
            let _ = admin_stopped.await;
        }),
    );
    // The admin side outlives the drain, so /readyz answers 503 while it runs.
    server.run(shutdown, config.server.drain_timeout).await;
    let _ = admin_stop.send(());
    let _ = admin_task.await;
    tracing::info!("drained; exiting");
    ExitCode::SUCCESS
}

fn fail(message: String) -> ExitCode {
    tracing::error!("{message}");
    ExitCode::from(1)
}

/// The control side: admin listener, config watcher, health probes, pool sweeps.
/// Requests are served on the data plane's own worker threads (`server.workers`).
fn control_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("portcullis-control")
        .enable_all()
        .build()
}
