//! `kind = "tcp"`: the backend passes when it accepts a connection.

use portcullis_config::Backend;

use super::{connect::connect, Probe};
use crate::error::ProbeError;

/// Connects to the backend and closes the connection again.
#[derive(Debug, Clone)]
pub struct TcpProbe {
    host: String,
    port: u16,
}

impl TcpProbe {
    /// A TCP probe of `backend`.
    pub fn new(backend: &Backend) -> Self {
        Self {
            host: backend.host.clone(),
            port: backend.port,
        }
    }
}

impl Probe for TcpProbe {
    async fn probe(&self) -> Result<(), ProbeError> {
        connect(&self.host, self.port).await.map(drop)
    }
}
