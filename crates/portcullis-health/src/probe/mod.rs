//! Active health checks: one trait, one implementation per protocol.
//!
//! A [`Probe`] knows its target and settings and answers one question, "does
//! it pass now?". Scheduling, timeouts, hysteresis and state belong to the
//! prober, so a probe is easy to write and to test.

mod connect;
mod http;
mod tcp;

use std::future::Future;

use portcullis_config::{Backend, CheckKind, HealthCheck};

use crate::error::ProbeError;

pub use self::http::HttpProbe;
pub use self::tcp::TcpProbe;

/// One kind of active health check, bound to one backend.
pub trait Probe: Send + Sync + 'static {
    /// Probes once. The caller bounds it with the check's `timeout`.
    fn probe(&self) -> impl Future<Output = Result<(), ProbeError>> + Send;
}

/// The probe `check` configures for `backend`.
pub(crate) enum AnyProbe {
    Http(HttpProbe),
    Tcp(TcpProbe),
}

impl AnyProbe {
    pub(crate) fn new(check: &HealthCheck, backend: &Backend) -> Self {
        match check.kind {
            CheckKind::Http => Self::Http(HttpProbe::new(check, backend)),
            CheckKind::Tcp => Self::Tcp(TcpProbe::new(backend)),
        }
    }
}

impl Probe for AnyProbe {
    async fn probe(&self) -> Result<(), ProbeError> {
        match self {
            Self::Http(probe) => probe.probe().await,
            Self::Tcp(probe) => probe.probe().await,
        }
    }
}
