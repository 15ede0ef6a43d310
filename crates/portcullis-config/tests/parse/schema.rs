//! Serde-level errors: unknown keys, wrong types, missing required keys.

use super::{error, errors, CLUSTER};

#[test]
fn unknown_top_level_key() {
    assert_eq!(
        error("[sever]\nworkers = 1\n"),
        "t.toml:1:2: sever: unknown key `sever`, expected one of server, admin, log, listeners, routes, clusters"
    );
}

#[test]
fn unknown_key_points_at_the_key() {
    assert_eq!(
        error("[server]\nworkers = 1\ndrain = \"1s\"\n"),
        "t.toml:3:1: server.drain: unknown key `drain`, expected one of `workers`, `drain_timeout`, \
         `proxy_name`, `proxy_status`, `expose_next_hop`"
    );
}

#[test]
fn unknown_key_in_an_inline_table() {
    let source = "[clusters.api]\nbackends = [{ address = \"a:1\", wieght = 2 }]\n";
    assert_eq!(
        error(source),
        "t.toml:2:32: clusters.api.backends[0].wieght: unknown key `wieght`, expected `address` or `weight`"
    );
}

#[test]
fn wrong_type_points_at_the_value() {
    let source = format!("{CLUSTER}pool_max_idle = \"many\"\n");
    assert_eq!(
        error(&source),
        "t.toml:3:17: clusters.api.pool_max_idle: invalid type: string \"many\", expected an integer"
    );
}

#[test]
fn missing_key_points_at_the_table_header() {
    let source = format!("{CLUSTER}\n[[routes]]\npath_prefix = \"/\"\n");
    assert_eq!(
        error(&source),
        "t.toml:4:1: routes[0].cluster: missing required key `cluster`"
    );
}

#[test]
fn missing_key_in_an_inline_table() {
    assert_eq!(
        error("[clusters.api]\nbackends = [{ weight = 2 }]\n"),
        "t.toml:2:13: clusters.api.backends[0].address: missing required key `address`"
    );
}

#[test]
fn section_of_the_wrong_shape() {
    assert_eq!(
        error("listeners = 3\n"),
        "t.toml:1:13: listeners: expected an array of tables ([[listeners]]), found integer"
    );
    assert_eq!(
        error("[[clusters]]\nbackends = []\n"),
        "t.toml:1:1: clusters: expected a table of clusters ([clusters.NAME]), found array"
    );
}

#[test]
fn errors_in_separate_entries_are_all_reported() {
    let source = "\
[clusters.a]
backends = [{ address = \"a:1\" }]
colour = \"red\"

[clusters.b]
backends = [{ address = \"b:1\", weight = 0 }]

[[listeners]]
name = \"web\"

[[listeners]]
name = \"other\"
address = \"0.0.0.0:80\"
port = 80
";
    assert_eq!(
        errors(source),
        [
            "t.toml:3:1: clusters.a.colour: unknown key `colour`, expected one of `balance`, `hash_on`, \
             `backends`, `connect_timeout`, `response_timeout`, `pool_idle_timeout`, `pool_max_idle`, \
             `all_unhealthy`, `slow_start`, `health_check`, `outlier_detection`, `circuit_breaker`, `retry`",
            "t.toml:6:41: clusters.b.backends[0].weight: must be between 1 and 1000, got 0",
            "t.toml:8:1: listeners[0].address: missing required key `address`",
            "t.toml:14:1: listeners[1].port: unknown key `port`, expected one of `name`, `address`, \
             `max_connections`, `header_timeout`, `idle_timeout`, `max_header_bytes`, `max_body_bytes`, \
             `trusted_proxies`",
        ]
    );
}

#[test]
fn a_route_to_an_unreadable_cluster_is_not_also_dangling() {
    let source = "[clusters.api]\nbackends = []\nbogus = 1\n\n[[routes]]\ncluster = \"api\"\n";
    assert_eq!(errors(source).len(), 1);
}
