use std::time::Duration;

use super::*;

#[test]
fn durations() {
    assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
    assert_eq!(duration("5m"), Ok(Duration::from_secs(300)));
    assert!(duration("30").is_err());
    assert!(positive_duration("0s").is_err());
}

#[test]
fn backend_addresses() {
    assert_eq!(
        host_port("api.internal:80"),
        Ok(("api.internal".into(), 80))
    );
    assert_eq!(host_port("10.0.0.1:8080"), Ok(("10.0.0.1".into(), 8080)));
    assert_eq!(host_port("[::1]:80"), Ok(("::1".into(), 80)));
    for bad in [
        "::1:80",
        "host",
        "host:0",
        "host:65536",
        ":80",
        "[::1]80",
        "a b:1",
        "[x]:1",
    ] {
        assert!(host_port(bad).is_err(), "{bad}");
    }
}

#[test]
fn hosts() {
    assert_eq!(
        host_match("API.Example.com"),
        Ok(HostMatch::Exact("api.example.com".into()))
    );
    assert_eq!(
        host_match("*.Example.com"),
        Ok(HostMatch::Suffix(".example.com".into()))
    );
    assert_eq!(host_match("*"), Ok(HostMatch::Any));
    assert_eq!(host_match("[::1]"), Ok(HostMatch::Exact("[::1]".into())));
    for bad in ["", "a:80", "*.", "a.*.b", "a..b", "*example.com"] {
        assert!(host_match(bad).is_err(), "{bad}");
    }
}

#[test]
fn hash_keys() {
    assert_eq!(hash_on("client_ip"), Ok(HashOn::ClientIp));
    let header = http::HeaderName::from_static("x-user");
    assert_eq!(hash_on("header:X-User"), Ok(HashOn::Header(header)));
    assert_eq!(hash_on("cookie:sid"), Ok(HashOn::Cookie("sid".into())));
    for bad in ["ip", "header:", "header:a b", "cookie:", "cookie:a;b"] {
        assert!(hash_on(bad).is_err(), "{bad}");
    }
}

#[test]
fn cidrs() {
    assert_eq!(
        cidr("10.1.2.3/8").map(|n| n.to_string()),
        Ok("10.0.0.0/8".into())
    );
    assert_eq!(
        cidr("10.1.2.3").map(|n| n.to_string()),
        Ok("10.1.2.3/32".into())
    );
    assert_eq!(cidr("::1").map(|n| n.to_string()), Ok("::1/128".into()));
    assert!(cidr("10.0.0.0/33").is_err());
}

#[test]
fn numbers() {
    assert_eq!(at_least(1, 1), Ok(1));
    assert_eq!(at_least(0, 1), Err("must be at least 1, got 0".into()));
    assert_eq!(at_least(-1, 0), Err("must be at least 0, got -1".into()));
    assert!(weight(1000).is_ok());
    assert_eq!(
        weight(1001),
        Err("must be between 1 and 1000, got 1001".into())
    );
}
