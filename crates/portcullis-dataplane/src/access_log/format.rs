//! Renders one access log line, on the writer thread.

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use portcullis_config::LogFormat;
use serde_json::{json, Value};

use super::RequestLog;

/// Appends `record` as one line (with its newline) to `out`.
pub(super) fn render(record: &RequestLog, format: LogFormat, out: &mut String) {
    let fields = fields(record);
    match format {
        LogFormat::Json => {
            let _ = write!(out, "{}", Value::Object(fields));
        }
        LogFormat::Text => {
            let present = fields.iter().filter(|(_, value)| !value.is_null());
            for (i, (key, value)) in present.enumerate() {
                let sep = if i == 0 { "" } else { " " };
                match value {
                    Value::String(s) if !s.contains([' ', '"']) && !s.is_empty() => {
                        let _ = write!(out, "{sep}{key}={s}");
                    }
                    other => {
                        let _ = write!(out, "{sep}{key}={other}");
                    }
                }
            }
        }
    }
    out.push('\n');
}

fn fields(r: &RequestLog) -> serde_json::Map<String, Value> {
    let millis = |d: Duration| (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
    let value = json!({
        "ts": timestamp(r),
        "request_id": r.request_id.to_str().unwrap_or(""),
        "client": r.client.ip().to_string(),
        "method": r.method.as_ref().map_or("", |m| m.as_str()),
        "host": r.host.as_ref().and_then(|h| h.to_str().ok()).unwrap_or(""),
        "path": r.path,
        "proto": format!("{:?}", r.proto),
        "status": r.status,
        "cause": r.cause.map(|c| c.as_str()),
        "cluster": r.cluster.as_ref().map(|c| c.name.as_str()),
        "backend": r.backend.as_ref().map(|b| b.address.as_str()),
        "attempts": r.attempts,
        "upstream_status": r.upstream_status,
        "duration_ms": millis(r.duration),
        "upstream_ms": r.upstream_time.map(millis),
        "bytes_sent": r.bytes_sent,
    });
    match value {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// RFC 3339 UTC with milliseconds, computed without a time-zone database.
fn timestamp(r: &RequestLog) -> String {
    let since = r.ts.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_786), (2026, 11, 29));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
