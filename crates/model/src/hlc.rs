//! Hybrid logical clock: the order of field edits made on phones that are offline and whose
//! clocks are wrong.
//!
//! An [`Hlc`] is a wall-clock time in milliseconds plus a counter. A device's [`HlcClock`] never
//! goes backwards: if the phone's clock jumps back (a user fixes the date, the battery dies), new
//! stamps continue from the last one with the counter bumped. When the device sees a stamp from
//! the server it [`observe`](HlcClock::observe)s it, so its next edit is ordered after everything
//! it has seen. Equal stamps from two devices are broken by device id (see [`wins`]).
//!
//! The server [`clamp`](Hlc::clamp)s stamps that run too far ahead of its own clock, so that a
//! phone whose clock is set to next year cannot win every edit.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch.
    pub wall_ms: i64,
    pub counter: u32,
}

impl Hlc {
    pub const fn new(wall_ms: i64, counter: u32) -> Self {
        Self { wall_ms, counter }
    }

    /// The stamp capped at `now_ms + max_ahead_ms`. Stamps within the bound are unchanged.
    pub fn clamp(self, now_ms: i64, max_ahead_ms: i64) -> Hlc {
        let limit = now_ms.saturating_add(max_ahead_ms);
        if self.wall_ms > limit {
            Hlc::new(limit, 0)
        } else {
            self
        }
    }

    /// The smallest stamp strictly greater than `self`.
    fn successor(self) -> Hlc {
        match self.counter.checked_add(1) {
            Some(c) => Hlc::new(self.wall_ms, c),
            // 4 billion edits in one millisecond cannot happen; if it does, borrow a millisecond.
            None => Hlc::new(self.wall_ms.saturating_add(1), 0),
        }
    }
}

/// Last-writer-wins between two stamped writes: true if `(a, device_a)` beats `(b, device_b)`.
/// Ties on the stamp are broken by device id so every replica picks the same winner.
pub fn wins(a: Hlc, device_a: &str, b: Hlc, device_b: &str) -> bool {
    (a, device_a) > (b, device_b)
}

impl fmt::Display for Hlc {
    /// `"<wall_ms>-<counter>"`, e.g. `"1763776800000-3"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.wall_ms, self.counter)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a hybrid logical clock stamp (want \"<millis>-<counter>\"): {0:?}")]
pub struct HlcParseError(pub String);

impl FromStr for Hlc {
    type Err = HlcParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || HlcParseError(s.chars().take(40).collect());
        let (wall, counter) = s.split_once('-').ok_or_else(err)?;
        if wall.is_empty() || !wall.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        Ok(Hlc::new(
            wall.parse().map_err(|_| err())?,
            counter.parse().map_err(|_| err())?,
        ))
    }
}

/// One device's clock. Keep one per device, persisted, so order survives restarts.
#[derive(Clone, Debug, Default)]
pub struct HlcClock {
    last: Hlc,
}

impl HlcClock {
    /// A clock that continues after `last` (as loaded from storage).
    pub fn resume(last: Hlc) -> Self {
        Self { last }
    }

    pub fn last(&self) -> Hlc {
        self.last
    }

    /// A new stamp for a local event, given the device's wall clock now.
    pub fn tick(&mut self, now_ms: i64) -> Hlc {
        let next = if now_ms > self.last.wall_ms {
            Hlc::new(now_ms, 0)
        } else {
            self.last.successor()
        };
        self.last = next;
        next
    }

    /// Merge a stamp seen from elsewhere (the server, another device). The result is greater than
    /// both the remote stamp and everything this clock issued before.
    pub fn observe(&mut self, remote: Hlc, now_ms: i64) -> Hlc {
        let base = self.last.max(remote);
        let next = if now_ms > base.wall_ms {
            Hlc::new(now_ms, 0)
        } else {
            base.successor()
        };
        self.last = next;
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        Tick(i64),
        Observe(i64, u32, i64),
    }

    fn step() -> impl Strategy<Value = Step> {
        // Wall clocks around 2026 that jump back and forth by up to a day.
        let t = 1_790_000_000_000i64..1_790_086_400_000i64;
        prop_oneof![
            t.clone().prop_map(Step::Tick),
            (t.clone(), any::<u32>(), t).prop_map(|(w, c, n)| Step::Observe(w, c, n)),
        ]
    }

    proptest! {
        #[test]
        fn stamps_strictly_increase_whatever_the_wall_clock_does(
            steps in proptest::collection::vec(step(), 1..200)
        ) {
            let mut clock = HlcClock::default();
            let mut prev = clock.last();
            for s in steps {
                let got = match s {
                    Step::Tick(now) => clock.tick(now),
                    Step::Observe(w, c, now) => {
                        let remote = Hlc::new(w, c);
                        let got = clock.observe(remote, now);
                        prop_assert!(got > remote, "{got} must follow remote {remote}");
                        got
                    }
                };
                prop_assert!(got > prev, "{got} must follow {prev}");
                prev = got;
            }
        }

        #[test]
        fn stamps_track_a_correct_wall_clock(now in 0i64..4_000_000_000_000, earlier in 0i64..1_000_000) {
            let mut clock = HlcClock::resume(Hlc::new(now - earlier - 1, 7));
            prop_assert_eq!(clock.tick(now), Hlc::new(now, 0));
        }

        #[test]
        fn display_parses_back(w in 0i64..i64::MAX, c in any::<u32>()) {
            let h = Hlc::new(w, c);
            prop_assert_eq!(h.to_string().parse::<Hlc>().unwrap(), h);
        }

        #[test]
        fn lww_picks_one_winner(a in any::<(i64, u32)>(), b in any::<(i64, u32)>(), da in "[a-z]{1,4}", db in "[a-z]{1,4}") {
            let (ha, hb) = (Hlc::new(a.0, a.1), Hlc::new(b.0, b.1));
            if (ha, &da) != (hb, &db) {
                prop_assert_ne!(wins(ha, &da, hb, &db), wins(hb, &db, ha, &da));
            }
        }
    }

    #[test]
    fn clock_that_jumps_back_keeps_counting() {
        let mut clock = HlcClock::default();
        assert_eq!(clock.tick(10_000), Hlc::new(10_000, 0));
        assert_eq!(clock.tick(5_000), Hlc::new(10_000, 1));
        assert_eq!(clock.tick(5_000), Hlc::new(10_000, 2));
        assert_eq!(clock.tick(10_001), Hlc::new(10_001, 0));
    }

    #[test]
    fn counter_overflow_borrows_a_millisecond() {
        let mut clock = HlcClock::resume(Hlc::new(10, u32::MAX));
        assert_eq!(clock.tick(5), Hlc::new(11, 0));
    }

    #[test]
    fn clamp_caps_stamps_from_the_future() {
        let now = 1_000_000;
        assert_eq!(
            Hlc::new(now + 10, 4).clamp(now, 300_000),
            Hlc::new(now + 10, 4)
        );
        assert_eq!(
            Hlc::new(now + 999_999, 4).clamp(now, 300_000),
            Hlc::new(now + 300_000, 0)
        );
    }

    #[test]
    fn ties_break_by_device() {
        let h = Hlc::new(5, 5);
        assert!(wins(h, "phone-b", h, "phone-a"));
        assert!(!wins(h, "phone-a", h, "phone-b"));
    }

    #[test]
    fn garbage_does_not_parse() {
        for s in [
            "",
            "-",
            "12",
            "a-1",
            "1-",
            "-1-2",
            "1-2-3",
            "99999999999999999999-0",
            "1--1",
        ] {
            assert!(s.parse::<Hlc>().is_err(), "{s:?}");
        }
    }
}
