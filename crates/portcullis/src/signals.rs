//! Process signals: SIGTERM and SIGINT drain; SIGHUP reloads the configuration.

use std::sync::Arc;

use tokio::signal::unix::{signal, SignalKind};

use crate::reload::{Reloader, Trigger};

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

/// Reloads on every SIGHUP. An invalid file changes nothing and is reported.
pub(crate) async fn reload_on_hup(reloader: Arc<Reloader>) {
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        let reloader = Arc::clone(&reloader);
        let _ = tokio::task::spawn_blocking(move || reloader.reload(Trigger::Signal)).await;
    }
}
