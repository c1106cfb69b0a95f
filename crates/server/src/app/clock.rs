//! The hybrid logical clock of the mutations the server itself makes (the console's actions, the
//! office API's commands). A mutation's HLC orders its field writes against the phones' under
//! last-writer-wins, so two office actions in one millisecond must still be ordered: one clock
//! per process, ticking past everything it issued, as a phone's does.

use gridmate_model::hlc::{Hlc, HlcClock};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct ServerClock(Mutex<HlcClock>);

impl ServerClock {
    /// A stamp later than every stamp this clock gave before, at `now_ms` when it can be.
    pub fn tick(&self, now_ms: i64) -> Hlc {
        // A poisoned lock only means another request panicked mid-tick; the clock inside is a
        // plain value and still valid.
        let mut clock = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        clock.tick(now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_in_one_millisecond_are_still_ordered() {
        let clock = ServerClock::default();
        let a = clock.tick(1_000);
        let b = clock.tick(1_000);
        let c = clock.tick(999);
        assert!(a < b && b < c, "{a} {b} {c}");
        assert_eq!(clock.tick(2_000), Hlc::new(2_000, 0));
    }
}
