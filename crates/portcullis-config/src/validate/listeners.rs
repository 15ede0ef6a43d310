//! `[[listeners]]`: each entry on its own, then names and addresses unique.

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::issue::{index, join, Issues};
use crate::raw::FileListener;
use crate::types::Listener;

use super::values;

/// Smallest `max_header_bytes`: below this, ordinary browser requests get 431.
const MIN_HEADER_BYTES: i64 = 1024;

/// Validate every listener; `None` if any of them, or their uniqueness, is wrong.
pub(super) fn listeners(
    raw: Vec<(usize, FileListener)>,
    admin: Option<SocketAddr>,
    issues: &mut Issues,
) -> Option<Vec<Listener>> {
    let before = issues.len();
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut addresses: HashMap<SocketAddr, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, raw) in raw {
        let path = index("listeners", i);
        if let Some(&first) = names.get(&raw.name) {
            let message = format!(
                "duplicate listener name {:?} (also listeners[{first}])",
                raw.name
            );
            issues.report(format!("{path}.name"), message);
        }
        names.entry(raw.name.clone()).or_insert(i);
        let Some(listener) = listener(raw, &path, issues) else {
            continue;
        };
        // Port 0 asks the kernel for a fresh port, so such listeners never collide.
        let fixed_port = listener.address.port() != 0;
        if let Some(&first) = addresses.get(&listener.address).filter(|_| fixed_port) {
            let message = format!(
                "duplicate listener address {} (also listeners[{first}])",
                listener.address
            );
            issues.report(format!("{path}.address"), message);
        }
        // The admin endpoints must never be reachable on a data port. Port 0 asks the
        // kernel for a fresh port each time, so two of them never collide.
        if admin == Some(listener.address) && listener.address.port() != 0 {
            issues.report(format!("{path}.address"), "same address as admin.address");
        }
        addresses.entry(listener.address).or_insert(i);
        out.push(listener);
    }
    (issues.len() == before).then_some(out)
}

fn listener(raw: FileListener, path: &str, issues: &mut Issues) -> Option<Listener> {
    let at = |key: &str| join(path, key);
    let name = issues.check(&at("name"), values::name(&raw.name));
    let address = issues.check(&at("address"), values::socket_addr(&raw.address));
    let max_connections = issues.check(
        &at("max_connections"),
        values::at_least(raw.max_connections, 1),
    );
    let header_timeout = issues.check(
        &at("header_timeout"),
        values::positive_duration(&raw.header_timeout),
    );
    let idle_timeout = issues.check(&at("idle_timeout"), values::duration(&raw.idle_timeout));
    let max_header_bytes = issues.check(
        &at("max_header_bytes"),
        values::at_least(raw.max_header_bytes, MIN_HEADER_BYTES),
    );
    let max_body_bytes = issues.check(
        &at("max_body_bytes"),
        values::at_least(raw.max_body_bytes, 0),
    );
    let trusted_proxies: Vec<_> = raw
        .trusted_proxies
        .iter()
        .enumerate()
        .map(|(i, text)| issues.check(&index(&at("trusted_proxies"), i), values::cidr(text)))
        .collect();
    name?;
    Some(Listener {
        name: raw.name,
        address: address?,
        max_connections: max_connections?,
        header_timeout: header_timeout?,
        idle_timeout: idle_timeout?,
        max_header_bytes: max_header_bytes?,
        // 0 in the file means unlimited.
        max_body_bytes: max_body_bytes?.try_into().ok().filter(|&n: &u64| n > 0),
        trusted_proxies: trusted_proxies.into_iter().collect::<Option<_>>()?,
    })
}
