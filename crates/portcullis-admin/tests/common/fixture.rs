//! A fixed report: two clusters whose backends cover every health and breaker state,
//! and a failed last reload. Times are relative to now so the page reads naturally.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use portcullis_admin::{
    BackendReport, CheckReport, ClusterReport, ListenerReport, ReloadCounts, ReloadReport,
    StatusReport,
};

/// The reload errors the fixture's failed reload reports.
pub const RELOAD_ERRORS: &[&str] = &[
    "config/portcullis.toml:23:14: clusters.api.backends[2].weight: must be 1..=1000, got 0",
    "config/portcullis.toml:31:12: clusters.api.health_check.interval: invalid duration \"2 seconds\"",
    "config/portcullis.toml:40:8: routes[3].host: invalid host \"<img src=x onerror=alert(1)>\"",
];

/// (cluster, address, health, breaker) of every fixture backend.
pub const BACKENDS: &[(&str, &str, &str, &str)] = &[
    ("api", "127.0.0.1:9001", "healthy", "closed"),
    ("api", "127.0.0.1:9002", "ejected", "open"),
    ("api", "127.0.0.1:9003", "unhealthy", "half_open"),
    ("static", "127.0.0.1:9101", "healthy", "closed"),
    ("static", "127.0.0.1:9102", "healthy", "half_open"),
];

pub fn report() -> StatusReport {
    StatusReport {
        generation: 7,
        started_at: rfc3339_offset(-(3 * 3600 + 12 * 60 + 5)),
        draining: false,
        last_reload: Some(ReloadReport {
            at: rfc3339_offset(-40),
            ok: false,
            generation: 7,
            errors: RELOAD_ERRORS.iter().map(|e| e.to_string()).collect(),
            trigger: "file".into(),
        }),
        reloads: ReloadCounts {
            success: 6,
            failure: 1,
        },
        listeners: vec![
            listener("web", "0.0.0.0:8080", 37),
            listener("internal", "127.0.0.1:8081", 2),
        ],
        clusters: vec![api(), static_files()],
        errors_by_cause: causes(&[
            ("connect_refused", 42),
            ("response_timeout", 7),
            ("circuit_open", 3),
            ("upstream_reset", 2),
            ("no_route", 118),
        ]),
    }
}

fn api() -> ClusterReport {
    ClusterReport {
        name: "api".into(),
        balance: "round_robin".into(),
        in_flight: 8,
        requests_total: 1_284_311,
        errors_by_cause: causes(&[
            ("connect_refused", 42),
            ("response_timeout", 7),
            ("circuit_open", 3),
        ]),
        backends: vec![
            BackendReport {
                in_flight: 7,
                requests_total: 801_220,
                last_check: Some(check(true, 1.8, None)),
                ..backend("127.0.0.1:9001", 5, "healthy", "closed")
            },
            BackendReport {
                requests_total: 402_118,
                last_check: Some(check(true, 2.4, None)),
                ejected_until: Some(rfc3339_offset(25)),
                ..backend("127.0.0.1:9002", 3, "ejected", "open")
            },
            BackendReport {
                in_flight: 1,
                requests_total: 80_973,
                last_check: Some(check(false, 1000.0, Some("connect_timeout"))),
                ..backend("127.0.0.1:9003", 1, "unhealthy", "half_open")
            },
        ],
    }
}

fn static_files() -> ClusterReport {
    ClusterReport {
        name: "static".into(),
        balance: "least_request".into(),
        in_flight: 3,
        requests_total: 95_402,
        errors_by_cause: causes(&[("upstream_reset", 2)]),
        backends: vec![
            BackendReport {
                in_flight: 2,
                requests_total: 47_801,
                ..backend("127.0.0.1:9101", 1, "healthy", "closed")
            },
            BackendReport {
                in_flight: 1,
                requests_total: 47_601,
                last_check: Some(check(true, 0.9, None)),
                ..backend("127.0.0.1:9102", 1, "healthy", "half_open")
            },
        ],
    }
}

fn backend(address: &str, weight: u32, health: &str, breaker: &str) -> BackendReport {
    BackendReport {
        address: address.into(),
        weight,
        health: health.into(),
        breaker: breaker.into(),
        ..BackendReport::default()
    }
}

fn check(ok: bool, latency_ms: f64, error: Option<&str>) -> CheckReport {
    CheckReport {
        ok,
        latency_ms,
        at: rfc3339_offset(-1),
        error: error.map(str::to_owned),
    }
}

fn listener(name: &str, address: &str, connections: u64) -> ListenerReport {
    ListenerReport {
        name: name.into(),
        address: address.into(),
        connections,
    }
}

fn causes(list: &[(&str, u64)]) -> BTreeMap<String, u64> {
    list.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// Now plus `seconds` (negative: in the past), as RFC 3339 in UTC.
pub fn rfc3339_offset(seconds: i64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let at = now.as_secs() as i64 + seconds;
    rfc3339(UNIX_EPOCH + Duration::from_secs(at as u64))
}

/// `time` as `YYYY-MM-DDTHH:MM:SSZ` (Howard Hinnant's civil-from-days).
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
