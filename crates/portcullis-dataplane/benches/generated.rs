//! Rendering a generated error response (status, `Proxy-Status`, `X-Request-Id`,
//! `Cache-Control`, `Retry-After` and the body) in each body format.

use std::hint::black_box;

use criterion::{criterion_main, Criterion};
use http::HeaderValue;
use portcullis_dataplane::bench::render_generated;
use portcullis_dataplane::{Cause, ProxyIdentity};

fn bench_generated(c: &mut Criterion) {
    let identity = ProxyIdentity::new("portcullis");
    let request_id = HeaderValue::from_static("1f0c8e1f2b7a4c55a3d1c0b9e8f7a6d5");
    let formats = [
        ("text", None),
        ("json", Some(HeaderValue::from_static("application/json"))),
        (
            "html",
            Some(HeaderValue::from_static(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            )),
        ),
    ];
    let mut group = c.benchmark_group("generated");
    for (name, accept) in &formats {
        group.bench_function(format!("connect_refused/{name}"), |b| {
            b.iter(|| {
                black_box(render_generated(
                    black_box(Cause::ConnectRefused),
                    accept.as_ref(),
                    &request_id,
                    Some(5),
                    &identity,
                ))
            })
        });
    }
    group.bench_function("no_route/text_no_retry_after", |b| {
        b.iter(|| {
            black_box(render_generated(
                black_box(Cause::NoRoute),
                None,
                &request_id,
                None,
                &identity,
            ))
        })
    });
    group.finish();
}

/// Every benchmark of this file (what `criterion_group!` would generate, documented).
fn benches() {
    let mut criterion = Criterion::default().configure_from_args();
    bench_generated(&mut criterion);
}

criterion_main!(benches);
