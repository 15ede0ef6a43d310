//! Route matching among 1,000 routes: 500 exact hosts, 250 `*.suffix` hosts and 250
//! path prefixes on any host (the last one `/`). Each case is one lookup as the request
//! path does it, `Host` normalization included.

use std::hint::black_box;

use criterion::{criterion_main, Criterion};
use portcullis_config::{HostMatch, Route};
use portcullis_dataplane::bench::Routes;

const CLUSTERS: [&str; 8] = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"];

fn route(host: HostMatch, prefix: String, i: usize) -> Route {
    Route {
        listener: None,
        host,
        path_prefix: prefix,
        cluster: CLUSTERS[i % CLUSTERS.len()].to_owned(),
    }
}

fn thousand_routes() -> Vec<Route> {
    let exact = (0..500).map(|i| {
        let host = HostMatch::Exact(format!("svc{i}.example.com"));
        route(host, format!("/v{}", i % 3), i)
    });
    let suffix = (0..250).map(|i| {
        let host = HostMatch::Suffix(format!(".tenant{i}.example.net"));
        route(host, "/".to_owned(), i)
    });
    let any = (0..249)
        .map(|i| route(HostMatch::Any, format!("/api/service{i}/"), i))
        .chain(std::iter::once(route(HostMatch::Any, "/".to_owned(), 0)));
    exact.chain(suffix).chain(any).collect()
}

fn bench_routing(c: &mut Criterion) {
    let routes = thousand_routes();
    assert_eq!(routes.len(), 1000);
    let table = Routes::new(&routes, &CLUSTERS);
    let cases = [
        ("exact_host", "svc250.example.com", "/v1/users/42"),
        (
            "exact_host_with_port_mixed_case",
            "SVC250.Example.com:8080",
            "/v1/users/42",
        ),
        (
            "suffix_host_last",
            "www.tenant249.example.net",
            "/index.html",
        ),
        (
            "any_host_path_prefix",
            "unknown.example.org",
            "/api/service200/items",
        ),
        ("catch_all", "unknown.example.org", "/"),
    ];
    let mut group = c.benchmark_group("route_1000");
    for (name, host, path) in cases {
        assert!(table.lookup(host, path).is_some(), "{name} must match");
        group.bench_function(name, |b| {
            b.iter(|| black_box(table.lookup(black_box(host), black_box(path))))
        });
    }
    group.finish();
}

/// Every benchmark of this file (what `criterion_group!` would generate, documented).
fn benches() {
    let mut criterion = Criterion::default().configure_from_args();
    bench_routing(&mut criterion);
}

criterion_main!(benches);
