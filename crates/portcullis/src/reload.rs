//! Configuration reloads, whatever asks for them — the file watcher, SIGHUP or the
//! admin API: the same parse-and-validate code as `check`, then one swap. A file that
//! fails changes nothing; the error is logged with `file:line:col`, counted and kept
//! for the status API.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use metrics::{Counter, Gauge};
use portcullis_dataplane::Server;

/// What asked for a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    File,
    Signal,
    Api,
}

impl Trigger {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Trigger::File => "file",
            Trigger::Signal => "sighup",
            Trigger::Api => "api",
        }
    }
}

/// The outcome of the latest reload, for the status API.
#[derive(Debug, Clone)]
pub(crate) struct LastReload {
    pub at: SystemTime,
    pub trigger: Trigger,
    pub generation: u64,
    pub errors: Vec<String>,
}

/// Reloads one config file into one server; serialised so two triggers at once cannot
/// interleave.
pub(crate) struct Reloader {
    server: Arc<Server>,
    path: PathBuf,
    state: Mutex<State>,
    successes: Counter,
    failures: Counter,
    generation: Gauge,
}

#[derive(Default)]
struct State {
    last: Option<LastReload>,
    /// The text that is live, so a write that changes nothing is not a new generation.
    live_text: Option<String>,
    successes: u64,
    failures: u64,
}

impl Reloader {
    pub(crate) fn new(server: Arc<Server>, path: PathBuf, live_text: Option<String>) -> Self {
        let generation = metrics::gauge!("portcullis_config_generation");
        generation.set(server.shared().snapshot().generation as f64);
        Self {
            server,
            path,
            state: Mutex::new(State {
                live_text,
                ..State::default()
            }),
            successes: metrics::counter!("portcullis_config_reloads_total", "result" => "success"),
            failures: metrics::counter!("portcullis_config_reloads_total", "result" => "failure"),
            generation,
        }
    }

    /// The file this reloader reads.
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Reloads now. `Ok(generation)` when live (or unchanged), else every error line.
    pub(crate) fn reload(&self, trigger: Trigger) -> Result<u64, Vec<String>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let text = std::fs::read_to_string(&self.path).ok();
        if trigger == Trigger::File && text.is_some() && text == state.live_text {
            return Ok(self.server.shared().snapshot().generation);
        }
        let result = self.apply(text.as_deref());
        let generation = self.server.shared().snapshot().generation;
        let errors = match &result {
            Ok(generation) => {
                tracing::info!(
                    trigger = trigger.as_str(),
                    generation,
                    "configuration reloaded"
                );
                state.live_text = text;
                state.successes += 1;
                self.successes.increment(1);
                self.generation.set(*generation as f64);
                Vec::new()
            }
            Err(errors) => {
                for error in errors {
                    tracing::error!(
                        trigger = trigger.as_str(),
                        "reload rejected, running config kept: {error}"
                    );
                }
                state.failures += 1;
                self.failures.increment(1);
                errors.clone()
            }
        };
        state.last = Some(LastReload {
            at: SystemTime::now(),
            trigger,
            generation,
            errors,
        });
        result
    }

    /// Makes `text`, read from the file just now, live: the text parsed is the text
    /// remembered as live. Without it, `load` reads again to say why it cannot.
    fn apply(&self, text: Option<&str>) -> Result<u64, Vec<String>> {
        let parsed = match text {
            Some(source) => portcullis_config::parse(source, &self.path.display().to_string()),
            None => portcullis_config::load(&self.path),
        };
        let config = parsed.map_err(|errors| {
            errors
                .errors()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        })?;
        self.server
            .reload(&config)
            .map_err(|e| vec![format!("{}: {e}", self.path.display())])
    }

    /// The latest reload and the success / failure counts.
    pub(crate) fn summary(&self) -> (Option<LastReload>, u64, u64) {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        (state.last.clone(), state.successes, state.failures)
    }
}
