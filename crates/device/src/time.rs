//! Times are stored as Unix milliseconds (UTC): sortable, compact, and free of time-zone text.

use chrono::{DateTime, TimeZone, Utc};

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

pub const DAY_MS: i64 = 86_400_000;
