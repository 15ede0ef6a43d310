//! Backend selection: one pick per request, for every balance algorithm, at 3 and at
//! 1,000 backends, with every backend usable and with a third of them out (ejected,
//! unhealthy or breaker open), which makes the algorithms walk past rejects.

use std::hint::black_box;

use criterion::{criterion_main, BenchmarkId, Criterion};
use portcullis_config::Balance;
use portcullis_dataplane::bench::{hash_bytes, Selection};

const ALGORITHMS: [(&str, Balance); 4] = [
    ("round_robin", Balance::RoundRobin),
    ("least_request", Balance::LeastRequest),
    ("random", Balance::Random),
    ("consistent_hash", Balance::ConsistentHash),
];

/// Distinct client keys, so consistent hashing does not hit one ring point.
const KEYS: usize = 1024;

fn selection(kind: Balance, n: usize) -> Selection {
    let addresses: Vec<String> = (0..n)
        .map(|i| format!("10.{}.{}.{}:8080", i / 65536, (i / 256) % 256, i % 256))
        .collect();
    // Mixed weights, as real clusters have: 1, 2, 3, 1, 2, 3, ...
    let backends: Vec<(&str, u32)> = addresses
        .iter()
        .enumerate()
        .map(|(i, a)| (a.as_str(), (i % 3) as u32 + 1))
        .collect();
    let mut selection = Selection::new(kind, &backends);
    for i in 0..n {
        selection.set_in_flight(i, (i * 7) % 5);
    }
    selection
}

fn bench_selection(c: &mut Criterion) {
    let keys: Vec<u64> = (0..KEYS as u32)
        .map(|i| hash_bytes(&i.to_be_bytes()))
        .collect();
    for (accepting, accept) in [
        ("all_usable", (|_| true) as fn(usize) -> bool),
        ("third_out", |i| i % 3 != 0),
    ] {
        let mut group = c.benchmark_group(format!("select/{accepting}"));
        for (name, kind) in ALGORITHMS {
            for n in [3usize, 1000] {
                let selection = selection(kind, n);
                let mut next = 0usize;
                group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                    b.iter(|| {
                        next = (next + 1) % KEYS;
                        let mut accept = |i| accept(i);
                        black_box(selection.select(black_box(keys[next]), &mut accept))
                    })
                });
            }
        }
        group.finish();
    }
}

/// Every benchmark of this file (what `criterion_group!` would generate, documented).
fn benches() {
    let mut criterion = Criterion::default().configure_from_args();
    bench_selection(&mut criterion);
}

criterion_main!(benches);
