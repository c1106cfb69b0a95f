//! The community's calendar: China Standard Time (UTC+8 all year, no daylight saving). "This
//! month", "today" and a ledger's days are the community's, not UTC's; every part reads them
//! here, from a moment handed in.

use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Utc};

/// China Standard Time.
pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Midnight, China time, of the day `t` falls on.
pub fn day_start(t: DateTime<Utc>) -> DateTime<Utc> {
    let local = t.with_timezone(&china());
    first_moment(local.year(), local.month(), local.day(), t)
}

/// Midnight on the first of the month `t` falls in, China time.
pub fn month_start(t: DateTime<Utc>) -> DateTime<Utc> {
    let local = t.with_timezone(&china());
    first_moment(local.year(), local.month(), 1, t)
}

/// Midnight on the first of the month after the one `t` falls in, China time.
pub fn next_month_start(t: DateTime<Utc>) -> DateTime<Utc> {
    month_start(month_start(t) + chrono::Duration::days(32))
}

/// The year `t` falls in, China time.
pub fn year(t: DateTime<Utc>) -> i32 {
    t.with_timezone(&china()).year()
}

/// Midnight on New Year's Day of the year `t` falls in, China time.
pub fn year_start(t: DateTime<Utc>) -> DateTime<Utc> {
    first_moment(t.with_timezone(&china()).year(), 1, 1, t)
}

fn first_moment(year: i32, month: u32, day: u32, fallback: DateTime<Utc>) -> DateTime<Utc> {
    china()
        .with_ymd_and_hms(year, month, day, 0, 0, 0)
        .single()
        .map_or(fallback, |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_months_and_years_begin_at_midnight_in_china() {
        // 1 December 00:30 in China is still 30 November in UTC.
        let t = Utc.with_ymd_and_hms(2026, 11, 30, 16, 30, 0).unwrap();
        assert_eq!(
            day_start(t),
            Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap()
        );
        assert_eq!(
            month_start(t),
            Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap()
        );
        assert_eq!(
            year_start(t),
            Utc.with_ymd_and_hms(2025, 12, 31, 16, 0, 0).unwrap()
        );
    }
}
