//! Route matching: the most specific route wins — exact host, then the longest
//! `*.suffix`, then any host — and within a host, the longest `path_prefix`. A request
//! that no route of a more specific host matches falls through to less specific hosts.

use rustc_hash::FxHashMap;

use portcullis_config::{HostMatch, Route};

/// The routes of one listener, indexed for lookup. Built once per configuration.
#[derive(Debug, Default)]
pub(crate) struct RouteTable {
    /// A fast hash: the keys are the config's, so a hostile `Host` cannot crowd them.
    exact: FxHashMap<Box<str>, PathTable>,
    /// Longest suffix first, each stored as `.example.com`.
    suffixes: Vec<(Box<str>, PathTable)>,
    any: PathTable,
}

/// Prefixes of one host, longest first; each maps to a cluster index.
#[derive(Debug, Default)]
struct PathTable(Vec<(Box<str>, usize)>);

impl PathTable {
    fn insert(&mut self, prefix: &str, cluster: usize) {
        self.0.push((prefix.into(), cluster));
        // Stable sort keeps file order among equal prefixes: the first one written wins.
        self.0
            .sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
    }

    fn lookup(&self, path: &str) -> Option<usize> {
        self.0
            .iter()
            .find(|(prefix, _)| path.starts_with(&**prefix))
            .map(|(_, c)| *c)
    }
}

impl RouteTable {
    /// Indexes `routes` (already filtered to one listener); `cluster_index` maps a
    /// cluster name to its position in the snapshot.
    pub(crate) fn build<'a>(
        routes: impl IntoIterator<Item = &'a Route>,
        cluster_index: impl Fn(&str) -> Option<usize>,
    ) -> Self {
        let mut table = RouteTable::default();
        for route in routes {
            let Some(cluster) = cluster_index(&route.cluster) else {
                continue; // validation guarantees the cluster exists
            };
            let paths = match &route.host {
                HostMatch::Any => &mut table.any,
                HostMatch::Exact(host) => table.exact.entry(host.as_str().into()).or_default(),
                HostMatch::Suffix(suffix) => table.suffix_entry(suffix),
            };
            paths.insert(&route.path_prefix, cluster);
        }
        table
            .suffixes
            .sort_by_key(|(suffix, _)| std::cmp::Reverse(suffix.len()));
        table
    }

    fn suffix_entry(&mut self, suffix: &str) -> &mut PathTable {
        let position = match self.suffixes.iter().position(|(s, _)| &**s == suffix) {
            Some(position) => position,
            None => {
                self.suffixes.push((suffix.into(), PathTable::default()));
                self.suffixes.len() - 1
            }
        };
        &mut self.suffixes[position].1
    }

    /// Whether any route names a host: if none does, a request's host need not be
    /// read at all.
    pub(crate) fn matches_hosts(&self) -> bool {
        !self.exact.is_empty() || !self.suffixes.is_empty()
    }

    /// The cluster for `host` (lowercase, no port) and `path`.
    pub(crate) fn lookup(&self, host: &str, path: &str) -> Option<usize> {
        if let Some(found) = self.exact.get(host).and_then(|paths| paths.lookup(path)) {
            return Some(found);
        }
        let suffix_match = self
            .suffixes
            .iter()
            .filter(|(suffix, _)| host.len() > suffix.len() && host.ends_with(&**suffix))
            .find_map(|(_, paths)| paths.lookup(path));
        suffix_match.or_else(|| self.any.lookup(path))
    }
}

/// The host a request names, without port, lowercased only when needed.
pub(crate) fn normalize_host(raw: &str) -> std::borrow::Cow<'_, str> {
    let host = if let Some(rest) = raw.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest) // IPv6 literal
    } else {
        raw.rsplit_once(':').map_or(raw, |(host, _port)| host)
    };
    let host = host.trim_end_matches('.');
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(host.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(host: HostMatch, prefix: &str, cluster: &str) -> Route {
        Route {
            listener: None,
            host,
            path_prefix: prefix.into(),
            cluster: cluster.into(),
        }
    }

    #[test]
    fn most_specific_route_wins() {
        let routes = [
            route(HostMatch::Any, "/", "any"),
            route(HostMatch::Any, "/static", "static"),
            route(HostMatch::Suffix(".example.com".into()), "/", "wild"),
            route(HostMatch::Exact("api.example.com".into()), "/v1", "api"),
        ];
        let names = ["any", "static", "wild", "api"];
        let table = RouteTable::build(&routes, |n| names.iter().position(|x| *x == n));
        assert_eq!(table.lookup("api.example.com", "/v1/users"), Some(3));
        assert_eq!(
            table.lookup("api.example.com", "/v2"),
            Some(2),
            "falls through to *."
        );
        assert_eq!(table.lookup("www.example.com", "/"), Some(2));
        assert_eq!(table.lookup("example.com", "/static/a.css"), Some(1));
        assert_eq!(table.lookup("other.org", "/x"), Some(0));
    }

    #[test]
    fn no_route_without_catch_all() {
        let routes = [route(HostMatch::Exact("a.test".into()), "/api", "a")];
        let table = RouteTable::build(&routes, |_| Some(0));
        assert_eq!(table.lookup("a.test", "/other"), None);
        assert_eq!(table.lookup("b.test", "/api"), None);
    }

    #[test]
    fn hosts_are_normalized() {
        assert_eq!(normalize_host("API.Example.com:8080"), "api.example.com");
        assert_eq!(normalize_host("[::1]:80"), "::1");
        assert_eq!(normalize_host("example.com."), "example.com");
    }
}
