//! From [`FileConfig`] to [`Config`]: every value checked, every reference resolved,
//! every problem collected (not just the first).

mod clusters;
mod listeners;
mod policies;
mod process;
mod routes;
mod values;

use crate::issue::{Issue, Issues};
use crate::raw::FileConfig;
use crate::types::Config;

impl TryFrom<FileConfig> for Config {
    /// Every problem found, each anchored by key path.
    type Error = Vec<Issue>;

    fn try_from(raw: FileConfig) -> Result<Self, Self::Error> {
        let mut issues = Issues::default();
        let server = process::server(raw.server, &mut issues);
        let admin = process::admin(raw.admin, &mut issues);
        let log = process::log(raw.log, &mut issues);
        // Routes check names against the raw entries, before those are consumed.
        let known = routes::Known::new(&raw.listeners, &raw.clusters, &raw.unreadable);
        let routes = routes::routes(raw.routes, &known, &mut issues);
        let admin_address = admin.as_ref().map(|a| a.address);
        let listeners = listeners::listeners(raw.listeners, admin_address, &mut issues);
        let clusters = clusters::clusters(raw.clusters, &mut issues);
        let config = (|| {
            Some(Config {
                server: server?,
                admin: admin?,
                log: log?,
                listeners: listeners?,
                routes: routes?,
                clusters: clusters?,
            })
        })();
        match config {
            Some(config) if issues.0.is_empty() => Ok(config),
            _ if issues.0.is_empty() => {
                // Every `None` above comes with a report; this keeps a future slip
                // from turning into an error list that says nothing.
                issues.report("(config)", "invalid configuration");
                Err(issues.0)
            }
            _ => Err(issues.0),
        }
    }
}
