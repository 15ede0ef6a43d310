//! `portcullis run`: the runtime, the data plane, and the signals around it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use portcullis_config::Config;
use portcullis_dataplane::Server;

use crate::reload::Reloader;

/// Runs `config` until SIGTERM/SIGINT and a drain. `path` enables SIGHUP reloads.
pub(crate) fn run(config: Config, path: Option<PathBuf>) -> ExitCode {
    crate::logging::init(&config.log);
    let runtime = match runtime(config.server.workers) {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(serve(config, path, crate::signals::terminate(), |_| {}))
}

/// Binds and serves `config` until `shutdown`; `bound` sees the server before it runs.
pub(crate) async fn serve(
    config: Config,
    path: Option<PathBuf>,
    shutdown: impl std::future::Future<Output = ()>,
    bound: impl FnOnce(&Server),
) -> ExitCode {
    let access_log = match crate::logging::access_log(&config.log) {
        Ok(log) => log,
        Err(e) => {
            tracing::error!("cannot open the access log: {e}");
            return ExitCode::from(1);
        }
    };
    let server = match Server::bind(&config, access_log) {
        Ok(server) => server,
        Err(e) => {
            tracing::error!("cannot bind a listener: {e}");
            return ExitCode::from(1);
        }
    };
    bound(&server);
    if let Some(path) = path {
        let live_text = std::fs::read_to_string(&path).ok();
        let reloader = Arc::new(Reloader::new(Arc::clone(&server), path, live_text));
        tokio::spawn(crate::watch::watch(Arc::clone(&reloader)));
        tokio::spawn(crate::signals::reload_on_hup(reloader));
    }
    server.run(shutdown, config.server.drain_timeout).await;
    tracing::info!("drained; exiting");
    ExitCode::SUCCESS
}

fn runtime(workers: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let workers = match workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
}
