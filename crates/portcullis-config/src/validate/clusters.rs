//! `[clusters.NAME]`: settings, and backends with weights and unique addresses.

use std::collections::{BTreeMap, HashMap};

use crate::issue::{index, join, Issues};
use crate::raw::{FileBackend, FileCluster};
use crate::types::{Backend, Balance, Cluster};

use super::{policies, values};
use crate::policy::AllUnhealthy;

const ALL_UNHEALTHY: [(&str, AllUnhealthy); 2] = [
    ("fail_closed", AllUnhealthy::FailClosed),
    ("fail_open", AllUnhealthy::FailOpen),
];

const BALANCES: [(&str, Balance); 4] = [
    ("round_robin", Balance::RoundRobin),
    ("least_request", Balance::LeastRequest),
    ("random", Balance::Random),
    ("consistent_hash", Balance::ConsistentHash),
];

/// Validate every cluster; `None` if any of them is wrong.
pub(super) fn clusters(
    raw: BTreeMap<String, FileCluster>,
    issues: &mut Issues,
) -> Option<BTreeMap<String, Cluster>> {
    let clusters: Vec<_> = raw
        .into_iter()
        .map(|(name, raw)| {
            let path = join("clusters", &name);
            cluster(name, raw, &path, issues)
        })
        .collect();
    clusters
        .into_iter()
        .map(|c| c.map(|c| (c.name.clone(), c)))
        .collect()
}

fn cluster(name: String, raw: FileCluster, path: &str, issues: &mut Issues) -> Option<Cluster> {
    let at = |key: &str| join(path, key);
    let valid_name = issues.check(path, values::name(&name));
    let balance = issues.check(&at("balance"), values::one_of(&raw.balance, &BALANCES));
    let hash_on = issues.check(&at("hash_on"), values::hash_on(&raw.hash_on));
    let backends = backends(raw.backends, &at("backends"), issues);
    let connect_timeout = issues.check(
        &at("connect_timeout"),
        values::positive_duration(&raw.connect_timeout),
    );
    let response_timeout = issues.check(
        &at("response_timeout"),
        values::positive_duration(&raw.response_timeout),
    );
    let pool_idle_timeout = issues.check(
        &at("pool_idle_timeout"),
        values::duration(&raw.pool_idle_timeout),
    );
    let pool_max_idle = issues.check(&at("pool_max_idle"), values::at_least(raw.pool_max_idle, 0));
    let all_unhealthy = issues.check(
        &at("all_unhealthy"),
        values::one_of(&raw.all_unhealthy, &ALL_UNHEALTHY),
    );
    let slow_start = issues.check(&at("slow_start"), values::duration(&raw.slow_start));
    let health_check = raw
        .health_check
        .map(|check| policies::health_check(check, &at("health_check"), issues));
    let outlier =
        policies::outlier_detection(raw.outlier_detection, &at("outlier_detection"), issues);
    let breaker = policies::circuit_breaker(raw.circuit_breaker, &at("circuit_breaker"), issues);
    let retry = policies::retry(raw.retry, &at("retry"), issues);
    valid_name?;
    Some(Cluster {
        name,
        balance: balance?,
        hash_on: hash_on?,
        backends: backends?,
        connect_timeout: connect_timeout?,
        response_timeout: response_timeout?,
        pool_idle_timeout: pool_idle_timeout?,
        pool_max_idle: pool_max_idle?,
        all_unhealthy: all_unhealthy?,
        slow_start: slow_start?,
        health_check: match health_check {
            Some(check) => Some(check?),
            None => None,
        },
        outlier_detection: outlier?,
        circuit_breaker: breaker?,
        retry: retry?,
    })
}

/// At least one backend, each valid, no address twice (it would be one backend
/// with two identities for health and metrics).
fn backends(raw: Vec<FileBackend>, path: &str, issues: &mut Issues) -> Option<Vec<Backend>> {
    if raw.is_empty() {
        issues.report(path, "a cluster needs at least one backend");
        return None;
    }
    let before = issues.len();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, raw) in raw.into_iter().enumerate() {
        let at = index(path, i);
        let key = raw.address.to_ascii_lowercase();
        if let Some(&first) = seen.get(&key) {
            let message = format!(
                "duplicate backend address {:?} (also backends[{first}])",
                raw.address
            );
            issues.report(format!("{at}.address"), message);
        }
        seen.entry(key).or_insert(i);
        let host_port = issues.check(&format!("{at}.address"), values::host_port(&raw.address));
        let weight = issues.check(&format!("{at}.weight"), values::weight(raw.weight));
        if let (Some((host, port)), Some(weight)) = (host_port, weight) {
            out.push(Backend {
                address: raw.address,
                host,
                port,
                weight,
            });
        }
    }
    (issues.len() == before).then_some(out)
}
