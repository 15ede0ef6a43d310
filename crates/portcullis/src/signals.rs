//! Process signals: SIGTERM and SIGINT drain; SIGHUP reloads the configuration.

use std::path::PathBuf;
use std::sync::Arc;

use portcullis_dataplane::Shared;
use tokio::signal::unix::{signal, SignalKind};

/// Resolves on the first SIGTERM or SIGINT.
pub(crate) async fn terminate() {
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
}

/// Reloads `path` on every SIGHUP. An invalid file changes nothing and is reported.
pub(crate) async fn reload_on_hup(shared: Arc<Shared>, path: PathBuf) {
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        match portcullis_config::load(&path) {
            Ok(config) => {
                let generation = shared.install(&config);
                tracing::info!(
                    generation,
                    "configuration reloaded (listeners are kept as started)"
                );
            }
            Err(errors) => {
                for error in errors.errors() {
                    tracing::error!("reload rejected, old configuration kept: {error}");
                }
            }
        }
    }
}
