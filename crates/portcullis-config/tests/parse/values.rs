//! Validation errors: each with its exact position and key path.

use super::{error, errors, CLUSTER};

/// A cluster `api` whose extra lines start on line 3.
fn cluster(extra: &str) -> String {
    format!("{CLUSTER}{extra}")
}

/// A listener `web` whose extra lines start on line 4.
fn listener(extra: &str) -> String {
    format!("[[listeners]]\nname = \"web\"\naddress = \"127.0.0.1:8080\"\n{extra}")
}

#[test]
fn bad_duration() {
    assert_eq!(
        error(&cluster("connect_timeout = \"2 parsecs\"\n")),
        "t.toml:3:19: clusters.api.connect_timeout: invalid duration \"2 parsecs\": unknown time unit \
         \"parsecs\", supported units: ns, us/µs, ms, sec, min, hours, days, weeks, months, years (and few \
         variations) (expected e.g. \"250ms\", \"2s\", \"5m\")"
    );
    assert!(error(&cluster("response_timeout = \"0s\"\n"))
        .starts_with("t.toml:3:20: clusters.api.response_timeout: must be greater than 0"));
}

#[test]
fn bad_socket_addresses() {
    assert!(error("[admin]\naddress = \"localhost:9901\"\n")
        .starts_with("t.toml:2:11: admin.address: invalid socket address \"localhost:9901\""));
    assert!(
        error("[[listeners]]\nname = \"web\"\naddress = \"0.0.0.0\"\n")
            .starts_with("t.toml:3:11: listeners[0].address: invalid socket address")
    );
}

#[test]
fn weights_out_of_range() {
    let source = "[clusters.api]\nbackends = [\n  { address = \"a:1\", weight = 1001 },\n  { address = \"b:1\", weight = -1 },\n]\n";
    assert_eq!(
        errors(source),
        [
            "t.toml:3:31: clusters.api.backends[0].weight: must be between 1 and 1000, got 1001",
            "t.toml:4:31: clusters.api.backends[1].weight: must be between 1 and 1000, got -1",
        ]
    );
}

#[test]
fn backend_address_not_host_port() {
    let source = "[clusters.api]\nbackends = [{ address = \"::1:80\" }, { address = \"web\" }]\n";
    let errors = errors(source);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].starts_with("t.toml:2:25: clusters.api.backends[0].address: invalid backend address \"::1:80\": IPv6 addresses need brackets"));
    assert!(errors[1].starts_with("t.toml:2:49: clusters.api.backends[1].address: invalid backend address \"web\": missing port"));
}

#[test]
fn duplicate_backend_address() {
    let source = "[clusters.api]\nbackends = [{ address = \"a:1\" }, { address = \"A:1\" }]\n";
    assert_eq!(
        error(source),
        "t.toml:2:46: clusters.api.backends[1].address: duplicate backend address \"A:1\" (also backends[0])"
    );
}

#[test]
fn cluster_without_backends() {
    assert_eq!(
        error("[clusters.api]\nbackends = []\n"),
        "t.toml:2:12: clusters.api.backends: a cluster needs at least one backend"
    );
}

#[test]
fn dangling_route_references() {
    let source = format!(
        "{}{CLUSTER}[[routes]]\nlistener = \"admin\"\ncluster = \"apu\"\n",
        listener("")
    );
    assert_eq!(
        errors(&source),
        [
            "t.toml:7:12: routes[0].listener: no listener named \"admin\" (defined: \"web\")",
            "t.toml:8:11: routes[0].cluster: no cluster named \"apu\" (defined: \"api\")",
        ]
    );
}

#[test]
fn duplicate_listener_names_and_addresses() {
    let source = format!("{}{}", listener(""), listener(""));
    assert_eq!(
        errors(&source),
        [
            "t.toml:5:8: listeners[1].name: duplicate listener name \"web\" (also listeners[0])",
            "t.toml:6:11: listeners[1].address: duplicate listener address 127.0.0.1:8080 (also listeners[0])",
        ]
    );
}

#[test]
fn listener_on_the_admin_address() {
    let source = "[[listeners]]\nname = \"web\"\naddress = \"127.0.0.1:9901\"\n";
    assert_eq!(
        error(source),
        "t.toml:3:11: listeners[0].address: same address as admin.address"
    );
}

#[test]
fn route_matchers() {
    let source = format!("{CLUSTER}[[routes]]\nhost = \"api.example.com:80\"\npath_prefix = \"api\"\ncluster = \"api\"\n");
    assert_eq!(
        errors(&source),
        [
            "t.toml:4:8: routes[0].host: invalid host \"api.example.com:80\" (expected \"name.example\", \
             \"*.example\" or \"*\"; no port)",
            "t.toml:5:15: routes[0].path_prefix: must start with \"/\", got \"api\"",
        ]
    );
}

#[test]
fn hash_on() {
    assert_eq!(
        error(&cluster("hash_on = \"header:bad header\"\n")),
        "t.toml:3:11: clusters.api.hash_on: invalid header name \"bad header\" in \"header:bad header\""
    );
    assert!(error(&cluster("hash_on = \"ip\"\n"))
        .starts_with("t.toml:3:11: clusters.api.hash_on: invalid hash_on \"ip\""));
}

#[test]
fn enum_strings() {
    assert_eq!(
        error(&cluster("balance = \"fastest\"\n")),
        "t.toml:3:11: clusters.api.balance: must be one of \"round_robin\", \"least_request\", \"random\", \
         \"consistent_hash\", got \"fastest\""
    );
    assert_eq!(
        error("[server]\nproxy_status = \"never\"\n"),
        "t.toml:2:16: server.proxy_status: must be one of \"errors\", \"always\", \"off\", got \"never\""
    );
    assert_eq!(
        error("[log]\nformat = \"xml\"\n"),
        "t.toml:2:10: log.format: must be one of \"json\", \"text\", got \"xml\""
    );
}

#[test]
fn trusted_proxies() {
    assert_eq!(
        error(&listener("trusted_proxies = [\"10.0.0.0/8\", \"10.0.0.0/40\"]\n")),
        "t.toml:4:34: listeners[0].trusted_proxies[1]: invalid CIDR \"10.0.0.0/40\" (expected e.g. \"10.0.0.0/8\", \"::1\")"
    );
}

#[test]
fn listener_limits() {
    let source = listener("max_connections = 0\nmax_header_bytes = 100\nmax_body_bytes = -5\n");
    assert_eq!(
        errors(&source),
        [
            "t.toml:4:19: listeners[0].max_connections: must be at least 1, got 0",
            "t.toml:5:20: listeners[0].max_header_bytes: must be at least 1024, got 100",
            "t.toml:6:18: listeners[0].max_body_bytes: must be at least 0, got -5",
        ]
    );
}

#[test]
fn process_sections() {
    let source = "[server]\nworkers = -1\nproxy_name = \"my proxy\"\n[admin]\ntoken = \"\"\n[log]\nlevel = \"\"\naccess = \"\"\n";
    let errors = errors(source);
    let keys: Vec<&str> = errors
        .iter()
        .map(|e| e.split(": ").nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        keys,
        [
            "server.workers",
            "server.proxy_name",
            "admin.token",
            "log.level",
            "log.access"
        ]
    );
    assert!(errors[0].starts_with("t.toml:2:11: "));
    assert!(errors[4].starts_with("t.toml:8:10: "));
}

#[test]
fn invalid_names() {
    assert_eq!(
        error("[clusters.\"a b\"]\nbackends = [{ address = \"a:1\" }]\n"),
        "t.toml:1:1: clusters.\"a b\": invalid name \"a b\" (use letters, digits, '-' and '_')"
    );
}

#[test]
fn validation_errors_across_sections_come_in_file_order() {
    let source = format!(
        "[server]\nworkers = -1\n{}{CLUSTER}weight = 1\n[log]\nformat = \"xml\"\n",
        listener("idle_timeout = \"x\"\n")
    );
    let errors = errors(&source);
    let lines: Vec<&str> = errors
        .iter()
        .map(|e| e.split(':').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(lines, ["2", "6", "9", "11"], "{errors:#?}");
}

#[test]
fn columns_count_characters_not_bytes() {
    let errors = errors(&listener("trusted_proxies = [\"ü\", \"x\"]\n"));
    let places: Vec<&str> = errors
        .iter()
        .map(|e| e.split(": ").next().unwrap_or(""))
        .collect();
    assert_eq!(places, ["t.toml:4:20", "t.toml:4:25"]);
}

#[test]
fn crlf_line_endings() {
    assert_eq!(
        error("[log]\r\nformat = \"xml\"\r\n"),
        "t.toml:2:10: log.format: must be one of \"json\", \"text\", got \"xml\""
    );
}
