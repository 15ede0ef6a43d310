//! Everything left out gets the documented default.

use std::net::SocketAddr;
use std::time::Duration;

use portcullis_config::{AccessLog, Balance, HashOn, HostMatch, LogFormat, ProxyStatusMode};

#[test]
fn empty_file_is_admin_only() {
    let config = portcullis_config::parse("", "t.toml").expect("empty file is valid");
    assert_eq!(config.server.workers, 0);
    assert_eq!(config.server.drain_timeout, Duration::from_secs(30));
    assert_eq!(config.server.proxy_name, "portcullis");
    assert_eq!(config.server.proxy_status, ProxyStatusMode::Errors);
    assert!(!config.server.expose_next_hop);
    assert_eq!(
        config.admin.address,
        SocketAddr::from(([127, 0, 0, 1], 9901))
    );
    assert_eq!(config.admin.token, None);
    assert_eq!(config.log.level, "info");
    assert_eq!(config.log.access, AccessLog::Stdout);
    assert_eq!(config.log.format, LogFormat::Json);
    assert!(config.listeners.is_empty() && config.routes.is_empty() && config.clusters.is_empty());
}

#[test]
fn entry_defaults() {
    let source = "\
[[listeners]]
name = \"web\"
address = \"0.0.0.0:8080\"

[[routes]]
cluster = \"api\"

[clusters.api]
backends = [{ address = \"[::1]:80\" }]
";
    let config = portcullis_config::parse(source, "t.toml").expect("valid");
    let listener = config.listener("web").expect("listener web");
    assert_eq!(listener.max_connections, 10_000);
    assert_eq!(listener.header_timeout, Duration::from_secs(10));
    assert_eq!(listener.idle_timeout, Duration::from_secs(60));
    assert_eq!(listener.max_header_bytes, 65_536);
    assert_eq!(listener.max_body_bytes, None);
    assert!(listener.trusted_proxies.is_empty());

    let route = &config.routes[0];
    assert_eq!(
        (route.listener.as_deref(), &route.host),
        (None, &HostMatch::Any)
    );
    assert_eq!(route.path_prefix, "/");

    let cluster = config.cluster("api").expect("cluster api");
    assert_eq!(cluster.name, "api");
    assert_eq!(cluster.balance, Balance::RoundRobin);
    assert_eq!(cluster.hash_on, HashOn::ClientIp);
    assert_eq!(cluster.connect_timeout, Duration::from_secs(2));
    assert_eq!(cluster.response_timeout, Duration::from_secs(30));
    assert_eq!(cluster.pool_idle_timeout, Duration::from_secs(50));
    assert_eq!(cluster.pool_max_idle, 128);
    let backend = &cluster.backends[0];
    assert_eq!(
        (
            backend.address.as_str(),
            backend.host.as_str(),
            backend.port
        ),
        ("[::1]:80", "::1", 80)
    );
    assert_eq!(backend.weight.get(), 1);
}

#[test]
fn values_are_normalized() {
    let source = "\
[log]
access = \"/var/log/portcullis/access.log\"

[[listeners]]
name = \"web\"
address = \"0.0.0.0:8080\"
max_body_bytes = 1048576
trusted_proxies = [\"10.1.2.3/8\", \"192.168.0.1\"]

[[routes]]
host = \"*.Example.COM\"
cluster = \"api\"

[clusters.api]
balance = \"consistent_hash\"
hash_on = \"header:X-User\"
backends = [{ address = \"a:1\", weight = 1000 }]
";
    let config = portcullis_config::parse(source, "t.toml").expect("valid");
    assert_eq!(
        config.log.access,
        AccessLog::File("/var/log/portcullis/access.log".into())
    );
    let listener = &config.listeners[0];
    assert_eq!(listener.max_body_bytes, Some(1_048_576));
    let nets: Vec<String> = listener
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(nets, ["10.0.0.0/8", "192.168.0.1/32"]);
    assert_eq!(
        config.routes[0].host,
        HostMatch::Suffix(".example.com".into())
    );
    let cluster = &config.clusters["api"];
    assert_eq!(
        cluster.hash_on,
        HashOn::Header(http::HeaderName::from_static("x-user"))
    );
    assert_eq!(cluster.backends[0].weight.get(), 1000);
}
