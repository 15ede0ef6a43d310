//! The admin listener over a synthetic, slowly changing report: for working on the
//! status page without a running proxy.
//!
//! ```sh
//! cargo run -p portcullis-admin --example fake_admin -- 127.0.0.1:9901
//! # then open http://127.0.0.1:9901/status
//! ```

#[path = "../tests/common/fixture.rs"]
#[allow(dead_code)] // shared with the tests, which use all of it
mod fixture;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use portcullis_admin::{AdminServer, AdminSource, StatusReport};

/// The fixture report, with counters that grow on every look.
struct Synthetic {
    polls: AtomicU64,
}

impl AdminSource for Synthetic {
    fn status(&self) -> StatusReport {
        let n = self.polls.fetch_add(1, Ordering::Relaxed);
        let mut report = fixture::report();
        for cluster in &mut report.clusters {
            cluster.requests_total += n * 97;
            for backend in &mut cluster.backends {
                backend.requests_total += n * 31;
            }
        }
        let grow = |map: &mut std::collections::BTreeMap<String, u64>, cause: &str, by: u64| {
            *map.entry(cause.to_owned()).or_default() += by;
        };
        grow(
            &mut report.clusters[0].errors_by_cause,
            "connect_refused",
            n * 2,
        );
        grow(&mut report.errors_by_cause, "connect_refused", n * 2);
        grow(
            &mut report.clusters[0].errors_by_cause,
            "response_timeout",
            n / 3,
        );
        grow(&mut report.errors_by_cause, "response_timeout", n / 3);
        report
    }

    fn reload(&self) -> Result<u64, Vec<String>> {
        Err(fixture::RELOAD_ERRORS
            .iter()
            .map(|e| e.to_string())
            .collect())
    }

    fn ready(&self) -> bool {
        true
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let address: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9901".into())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let server = AdminServer::bind(address).await?;
    println!("status page: http://{}/status", server.local_addr());
    let source = Arc::new(Synthetic {
        polls: AtomicU64::new(0),
    });
    let metrics = Arc::new(|| "# no metrics in the example\n".to_owned());
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    server.run(source, metrics, None, ctrl_c).await;
    Ok(())
}
