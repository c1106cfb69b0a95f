//! What an office calls an issue or an order (编号): the year it was recorded, China time, and its
//! place in that year's series of the community — `2026-000123`. A UUID is the record's identity
//! everywhere; this number is for people: read over the phone, written on a printed ledger,
//! searched for on the board.
//!
//! Only the server hands numbers out, when a record first reaches it, one after another inside
//! its write transaction, so two phones offline never give the same number twice; until then a
//! record has none and the screens say it is waiting for one.

use chrono::{DateTime, Utc};

/// Which series a record is numbered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseKind {
    Issue,
    Order,
}

impl CaseKind {
    fn code(self) -> &'static str {
        match self {
            CaseKind::Issue => "issue",
            CaseKind::Order => "order",
        }
    }
}

/// The year a record recorded at `at` is numbered in: the community's (China time).
pub fn year_of(at: DateTime<Utc>) -> i32 {
    crate::calendar::year(at)
}

/// The key of the series: one per kind, community and year.
pub fn series(kind: CaseKind, community: uuid::Uuid, year: i32) -> String {
    format!("{}:{community}:{year}", kind.code())
}

/// The number as printed: the year, a dash, the sequence in six digits (a community records a
/// few thousand a year; a seventh digit simply widens it).
pub fn format(year: i32, seq: u64) -> String {
    format!("{year}-{seq:06}")
}

/// A number's year and sequence, as [`format`] wrote them.
pub fn parse(number: &str) -> Option<(i32, u64)> {
    let (year, seq) = number.split_once('-')?;
    Some((year.parse().ok()?, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn numbers_read_as_offices_write_them() {
        assert_eq!(format(2026, 123), "2026-000123");
        assert_eq!(format(2026, 1_234_567), "2026-1234567");
        assert_eq!(parse("2026-000123"), Some((2026, 123)));
        assert_eq!(parse("2026000123"), None);
    }

    #[test]
    fn the_year_is_chinas() {
        // 16:30 UTC on New Year's Eve is half past midnight in Beijing.
        let eve = Utc.with_ymd_and_hms(2026, 12, 31, 16, 30, 0).unwrap();
        assert_eq!(year_of(eve), 2027);
        assert_eq!(year_of(eve - chrono::Duration::hours(1)), 2026);
    }

    #[test]
    fn each_kind_community_and_year_is_its_own_series() {
        let c = uuid::Uuid::nil();
        assert_ne!(
            series(CaseKind::Issue, c, 2026),
            series(CaseKind::Order, c, 2026)
        );
        assert_ne!(
            series(CaseKind::Issue, c, 2026),
            series(CaseKind::Issue, c, 2027)
        );
    }
}
