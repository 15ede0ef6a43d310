//! Watches the config file's directory, so an in-place write, a write-then-rename and
//! a Kubernetes ConfigMap `..data` symlink swap are all seen. Bursts of events are
//! debounced into one reload, well within a second of the last write.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::reload::{Reloader, Trigger};

/// Quiet time after the last event before reloading.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// Reloads through `reloader` whenever its file may have changed, until the process ends.
pub(crate) async fn watch(reloader: Arc<Reloader>) {
    let path = absolute(reloader.path());
    let Some(dir) = path.parent().map(Path::to_path_buf) else {
        return;
    };
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let relevant = relevance(&path);
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Reading the file raises access events; only changes may trigger a reload.
        let changed = |e: &notify::Event| !matches!(e.kind, notify::EventKind::Access(_));
        if event.is_ok_and(|e| changed(&e) && e.paths.iter().any(|p| relevant(p))) {
            let _ = tx.try_send(()); // one pending signal is enough: reloads read the file anew
        }
    });
    let mut watcher = match watcher {
        Ok(watcher) => watcher,
        Err(e) => {
            return tracing::warn!("config file watcher unavailable: {e}; SIGHUP still reloads")
        }
    };
    if let Err(e) = watcher.watch(&dir, RecursiveMode::NonRecursive) {
        return tracing::warn!(dir = %dir.display(), "cannot watch the config directory: {e}");
    }
    while rx.recv().await.is_some() {
        // Let the burst settle: editors and ConfigMap updates write in several steps.
        loop {
            match tokio::time::timeout(DEBOUNCE, rx.recv()).await {
                Ok(Some(())) => continue,
                Ok(None) => return,
                Err(_) => break,
            }
        }
        let reloader = Arc::clone(&reloader);
        let _ = tokio::task::spawn_blocking(move || reloader.reload(Trigger::File)).await;
    }
}

/// Which paths in the directory matter: the file itself, and the `..data` link a
/// ConfigMap volume swaps (the file is a symlink through it).
fn relevance(path: &Path) -> impl Fn(&Path) -> bool + Send + 'static {
    let name = path.file_name().map(ToOwned::to_owned);
    move |changed: &Path| {
        let changed_name = changed.file_name();
        changed_name == name.as_deref() || changed_name == Some(std::ffi::OsStr::new("..data"))
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
