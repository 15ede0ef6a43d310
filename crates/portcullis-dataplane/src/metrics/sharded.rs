//! The request path's counters and latency histograms, kept per worker and summed
//! when `/metrics` is rendered. Every request updates several of them; as shared
//! atomics (the `metrics` crate's handles) each update on one worker would pull the
//! cache line away from the other. A Prometheus histogram of the `metrics` exporter
//! also stores every sample until upkeep folds it into buckets. Here a worker writes
//! only its own cache lines, and a histogram is a fixed set of bucket counts.
//!
//! Series are registered process-wide by name and labels, like the exporter's: a
//! cluster or listener rebuilt by a reload finds its series again and keeps counting.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portcullis_breaker::per_thread::PerThread;

/// Upper bounds of the latency buckets, in nanoseconds: the SPEC's buckets, from
/// 0.5 ms (a pooled request on loopback) to 30 s (the default `response_timeout`).
const BOUNDS_NANOS: [u64; 15] = [
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
    30_000_000_000,
];

/// The same bounds in seconds, as `le` labels show them.
pub fn duration_buckets() -> impl Iterator<Item = f64> {
    BOUNDS_NANOS.iter().map(|&n| n as f64 / 1e9)
}

/// A monotonic counter.
#[derive(Debug)]
pub(crate) struct Counter(PerThread<AtomicU64>);

impl Default for Counter {
    fn default() -> Self {
        Self::new()
    }
}

impl Counter {
    /// A counter of its own, not rendered (see [`counter`] for a registered one).
    pub(crate) fn new() -> Self {
        Self(PerThread::default())
    }

    pub(crate) fn increment(&self) {
        self.0.mine().fetch_add(1, Relaxed);
    }

    /// The sum over every worker.
    pub(crate) fn get(&self) -> u64 {
        self.0.iter().map(|count| count.load(Relaxed)).sum()
    }
}

/// One worker's histogram: a count per bucket (the last is `+Inf`) and the sum.
#[derive(Debug, Default)]
struct HistogramSlot {
    buckets: [AtomicU64; BOUNDS_NANOS.len() + 1],
    sum_nanos: AtomicU64,
}

/// A latency histogram with the SPEC's buckets.
#[derive(Debug)]
pub(crate) struct Histogram(PerThread<HistogramSlot>);

/// What a histogram holds, summed over workers; bucket counts are not cumulative.
struct HistogramTotals {
    buckets: [u64; BOUNDS_NANOS.len() + 1],
    sum_nanos: u64,
}

impl Histogram {
    fn new() -> Self {
        Self(PerThread::default())
    }

    pub(crate) fn record(&self, took: Duration) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NANOS.partition_point(|&bound| bound < nanos);
        let slot = self.0.mine();
        slot.buckets[bucket].fetch_add(1, Relaxed);
        slot.sum_nanos.fetch_add(nanos, Relaxed);
    }

    fn totals(&self) -> HistogramTotals {
        let mut totals = HistogramTotals {
            buckets: [0; BOUNDS_NANOS.len() + 1],
            sum_nanos: 0,
        };
        for slot in self.0.iter() {
            for (total, bucket) in totals.buckets.iter_mut().zip(&slot.buckets) {
                *total += bucket.load(Relaxed);
            }
            totals.sum_nanos = totals.sum_nanos.wrapping_add(slot.sum_nanos.load(Relaxed));
        }
        totals
    }
}

/// Series by (metric name, rendered labels): ordered, so a family's series are
/// rendered together.
type Series<T> = BTreeMap<(&'static str, String), Arc<T>>;

/// Every registered series, by kind.
#[derive(Default)]
struct Registry {
    counters: Series<Counter>,
    histograms: Series<Histogram>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    counters: BTreeMap::new(),
    histograms: BTreeMap::new(),
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    // The maps stay consistent even if a holder panicked: insertions are single calls.
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The series `name{labels}` of `family`, made on first use.
fn series<T>(
    family: &mut Series<T>,
    name: &'static str,
    labels: &[(&str, &str)],
    make: fn() -> T,
) -> Arc<T> {
    let key = (name, render_labels(labels));
    Arc::clone(family.entry(key).or_insert_with(|| Arc::new(make())))
}

/// The counter `name{labels}`, made on first use.
pub(crate) fn counter(name: &'static str, labels: &[(&str, &str)]) -> Arc<Counter> {
    series(&mut registry().counters, name, labels, Counter::new)
}

/// The histogram `name{labels}`, made on first use.
pub(crate) fn histogram(name: &'static str, labels: &[(&str, &str)]) -> Arc<Histogram> {
    series(&mut registry().histograms, name, labels, Histogram::new)
}

/// `k="v",k2="v2"`, with values escaped as the text format requires.
fn render_labels(labels: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out
}

/// Appends every series in the Prometheus text format.
pub fn render(out: &mut String) {
    let registry = registry();
    let mut family = "";
    for ((name, labels), counter) in &registry.counters {
        if *name != family {
            family = name;
            let _ = writeln!(out, "# TYPE {name} counter");
        }
        let _ = writeln!(out, "{name}{{{labels}}} {}", counter.get());
    }
    for ((name, labels), histogram) in &registry.histograms {
        if *name != family {
            family = name;
            let _ = writeln!(out, "# TYPE {name} histogram");
        }
        render_histogram(out, name, labels, &histogram.totals());
    }
}

fn render_histogram(out: &mut String, name: &str, labels: &str, totals: &HistogramTotals) {
    let comma = if labels.is_empty() { "" } else { "," };
    let mut cumulative = 0;
    let bounds = duration_buckets().map(|le| le.to_string());
    for (count, le) in totals.buckets.iter().zip(bounds.chain(["+Inf".into()])) {
        cumulative += count;
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{comma}le=\"{le}\"}} {cumulative}"
        );
    }
    let sum = totals.sum_nanos as f64 / 1e9;
    let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
    let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Vec<prometheus_parse::Sample> {
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        prometheus_parse::Scrape::parse(lines)
            .expect("valid text format")
            .samples
    }

    #[test]
    fn counters_sum_every_thread_and_survive_re_registration() {
        let labels = [("listener", "t1"), ("code", "200")];
        let requests = counter("test_sharded_total", &labels);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| (0..1000).for_each(|_| requests.increment()));
            }
        });
        counter("test_sharded_total", &labels).increment();
        assert_eq!(requests.get(), 4001, "the same series is found again");
        let mut text = String::new();
        render(&mut text);
        let sample = parsed(&text)
            .into_iter()
            .find(|s| s.metric == "test_sharded_total" && s.labels.get("listener") == Some("t1"))
            .expect("rendered");
        assert!(matches!(sample.value, prometheus_parse::Value::Counter(v) if v == 4001.0));
    }

    #[test]
    fn histograms_render_cumulative_buckets_sum_and_count() {
        let latency = histogram("test_latency_seconds", &[("cluster", "a\"b")]);
        for ms in [0.2, 0.7, 3.0, 3.0, 40_000.0] {
            latency.record(Duration::from_secs_f64(ms / 1000.0));
        }
        let mut text = String::new();
        render(&mut text);
        let samples = parsed(&text);
        let sample = samples
            .iter()
            .find(|s| s.metric == "test_latency_seconds")
            .expect("rendered");
        assert!(
            text.contains(r#"test_latency_seconds_count{cluster="a\"b"} 5"#),
            "{text}"
        );
        assert!(sample.labels.get("cluster").is_some());
        let prometheus_parse::Value::Histogram(buckets) = &sample.value else {
            panic!("not a histogram: {:?}", sample.value);
        };
        let count_at = |le: f64| buckets.iter().find(|b| b.less_than == le).unwrap().count;
        assert_eq!(count_at(0.0005), 1.0);
        assert_eq!(count_at(0.001), 2.0);
        assert_eq!(count_at(0.005), 4.0);
        assert_eq!(count_at(30.0), 4.0);
        assert_eq!(count_at(f64::INFINITY), 5.0);
        let value = |suffix: &str| {
            let line = text
                .lines()
                .find(|l| l.starts_with(&format!("test_latency_seconds_{suffix}{{")))
                .unwrap();
            line.rsplit(' ').next().unwrap().parse::<f64>().unwrap()
        };
        assert_eq!(value("count"), 5.0);
        assert!((value("sum") - 40.0069).abs() < 1e-9, "{}", value("sum"));
    }

    #[test]
    fn bucket_bounds_are_inclusive() {
        let bounds = histogram("test_bounds_seconds", &[]);
        bounds.record(Duration::from_micros(500));
        bounds.record(Duration::from_micros(501));
        let totals = bounds.totals();
        assert_eq!(
            &totals.buckets[..2],
            &[1, 1],
            "le=0.0005 holds 0.5 ms exactly"
        );
    }
}
