//! `[[routes]]`: matchers checked, and every listener and cluster named must exist.

use std::collections::{BTreeMap, BTreeSet};

use crate::issue::{index, Issues};
use crate::raw::{FileCluster, FileListener, FileRoute, Unreadable};
use crate::types::{HostMatch, Route};

use super::values;

/// The listener and cluster names routes may refer to.
pub(super) struct Known<'a> {
    listeners: BTreeSet<&'a str>,
    clusters: BTreeSet<&'a str>,
}

impl<'a> Known<'a> {
    /// The names `listeners` and `clusters` define. Entries that failed to
    /// deserialize (`unreadable`) still count: their own error is already reported,
    /// and "no such cluster" on top would mislead.
    pub(super) fn new(
        listeners: &'a [(usize, FileListener)],
        clusters: &'a BTreeMap<String, FileCluster>,
        unreadable: &'a Unreadable,
    ) -> Self {
        let listeners = listeners
            .iter()
            .map(|(_, l)| l.name.as_str())
            .chain(unreadable.listeners.iter().map(String::as_str))
            .collect();
        let clusters = clusters
            .keys()
            .chain(unreadable.clusters.iter())
            .map(String::as_str)
            .collect();
        Self {
            listeners,
            clusters,
        }
    }
}

/// Validate every route; `None` if any of them is wrong.
pub(super) fn routes(
    raw: Vec<(usize, FileRoute)>,
    known: &Known<'_>,
    issues: &mut Issues,
) -> Option<Vec<Route>> {
    let routes: Vec<_> = raw
        .into_iter()
        .map(|(i, route)| known.route(route, &index("routes", i), issues))
        .collect();
    routes.into_iter().collect()
}

impl Known<'_> {
    fn route(&self, raw: FileRoute, path: &str, issues: &mut Issues) -> Option<Route> {
        let mut ok = true;
        if let Some(listener) = &raw.listener {
            ok &= exists(
                "listener",
                &self.listeners,
                listener,
                &format!("{path}.listener"),
                issues,
            );
        }
        ok &= exists(
            "cluster",
            &self.clusters,
            &raw.cluster,
            &format!("{path}.cluster"),
            issues,
        );
        let host = match &raw.host {
            Some(host) => issues.check(&format!("{path}.host"), values::host_match(host)),
            None => Some(HostMatch::Any),
        };
        if !raw.path_prefix.starts_with('/') {
            let message = format!("must start with \"/\", got {:?}", raw.path_prefix);
            issues.report(format!("{path}.path_prefix"), message);
            ok = false;
        }
        ok.then_some(Route {
            listener: raw.listener,
            host: host?,
            path_prefix: raw.path_prefix,
            cluster: raw.cluster,
        })
    }
}

/// Whether `name` is among `names`; reports it (listing the defined ones) if not.
fn exists(what: &str, names: &BTreeSet<&str>, name: &str, path: &str, issues: &mut Issues) -> bool {
    if names.contains(name) {
        return true;
    }
    let known: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    let known = if known.is_empty() {
        "none".to_owned()
    } else {
        known.join(", ")
    };
    issues.report(path, format!("no {what} named {name:?} (defined: {known})"));
    false
}
