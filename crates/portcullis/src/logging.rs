//! Diagnostics to stderr through `tracing`; the access log is the data plane's own.

use std::io::{IsTerminal, Write};

use portcullis_config::{AccessLog as AccessTarget, Log};
use portcullis_dataplane::AccessLog;
use tracing_subscriber::EnvFilter;

/// Installs the diagnostic log at `log.level`, unless `RUST_LOG` overrides it.
pub(crate) fn init(log: &Log) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// Opens the access log that `log.access` names.
pub(crate) fn access_log(log: &Log) -> std::io::Result<AccessLog> {
    let out: Box<dyn Write + Send> = match &log.access {
        AccessTarget::Off => return Ok(AccessLog::off()),
        AccessTarget::Stdout => Box::new(std::io::stdout()),
        AccessTarget::File(path) => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        ),
    };
    AccessLog::spawn(out, log.format)
}
