//! What the admin listener reads from the running process: the status report built
//! from the live snapshot, reloads through the shared `Reloader`, readiness.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use portcullis_admin::{
    AdminSource, BackendReport, CheckReport, ClusterReport, ListenerReport, ReloadCounts,
    ReloadReport, StatusReport,
};
use portcullis_dataplane::{Backend, Cluster, Server, Tally};
use portcullis_health::HealthStatus;
use tokio::time::Instant;

use crate::reload::Reloader;

/// The process as the admin side sees it.
pub(crate) struct Status {
    pub server: Arc<Server>,
    /// `None` when the config is embedded (the demo): nothing to reload from.
    pub reloader: Option<Arc<Reloader>>,
    pub started_at: SystemTime,
}

impl AdminSource for Status {
    fn status(&self) -> StatusReport {
        let snapshot = self.server.shared().snapshot();
        let (last_reload, success, failure) = match &self.reloader {
            Some(reloader) => reloader.summary(),
            None => (None, 0, 0),
        };
        StatusReport {
            generation: snapshot.generation,
            started_at: rfc3339(self.started_at),
            draining: self.server.is_draining(),
            last_reload: last_reload.map(|r| ReloadReport {
                at: rfc3339(r.at),
                ok: r.errors.is_empty(),
                generation: r.generation,
                errors: r.errors,
                trigger: r.trigger.as_str().to_owned(),
            }),
            reloads: ReloadCounts { success, failure },
            listeners: self.listeners(),
            clusters: snapshot.clusters.iter().map(|c| cluster(c)).collect(),
            errors_by_cause: causes(&self.server.shared().tally),
        }
    }

    fn reload(&self) -> Result<u64, Vec<String>> {
        match &self.reloader {
            Some(reloader) => reloader.reload(crate::reload::Trigger::Api),
            None => Err(vec![
                "this process runs an embedded config (demo): nothing to reload".to_owned(),
            ]),
        }
    }

    fn ready(&self) -> bool {
        !self.server.is_draining()
    }
}

impl Status {
    fn listeners(&self) -> Vec<ListenerReport> {
        let stats = self.server.listener_stats();
        stats
            .into_iter()
            .map(|(name, address, connections)| ListenerReport {
                name,
                address: address.to_string(),
                connections: connections as u64,
            })
            .collect()
    }
}

fn cluster(cluster: &Cluster) -> ClusterReport {
    ClusterReport {
        name: cluster.name.clone(),
        balance: cluster.balance.to_owned(),
        in_flight: cluster.in_flight() as u64,
        requests_total: cluster.tally().requests(),
        errors_by_cause: causes(cluster.tally()),
        backends: cluster
            .weighted_backends()
            .map(|(b, weight)| backend(b, weight))
            .collect(),
    }
}

fn backend(backend: &Backend, weight: u32) -> BackendReport {
    let now = Instant::now();
    let status = backend.health.status(now);
    BackendReport {
        address: backend.address.clone(),
        weight,
        health: status.as_str().to_owned(),
        last_check: backend.health.last_check().map(|check| CheckReport {
            ok: check.passed,
            latency_ms: check.latency.as_secs_f64() * 1000.0,
            at: rfc3339(wall_clock(check.at, now)),
            error: check.error,
        }),
        ejected_until: match status {
            HealthStatus::Ejected { until } => Some(rfc3339(wall_clock(until, now))),
            _ => None,
        },
        breaker: backend.breaker.state().as_str().to_owned(),
        in_flight: backend.in_flight() as u64,
        requests_total: backend.requests(),
    }
}

fn causes(tally: &Tally) -> BTreeMap<String, u64> {
    tally
        .causes()
        .map(|(cause, n)| (cause.as_str().to_owned(), n))
        .collect()
}

/// A runtime instant as wall-clock time, relative to `now`.
fn wall_clock(at: Instant, now: Instant) -> SystemTime {
    let wall_now = SystemTime::now();
    if at >= now {
        wall_now + (at - now)
    } else {
        wall_now.checked_sub(now - at).unwrap_or(wall_now)
    }
}

fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}
