//! Patrols (巡查): a walk round the grid that is not a visit to one household — a night round of
//! the estate, a check of the fire lanes before a holiday. The phone samples fixes while the
//! patrol runs; when it ends, the track is simplified to a bounded number of points (what goes
//! up and what the map draws stays small whatever the walk), and its length and duration are
//! the patrol's record. Problems found on the way are reported as issues and linked to it.

use crate::geo_rules::{GpsFix, haversine_m};
use crate::ids::{GridId, IssueId, PatrolId, UserId};
use chrono::{DateTime, Utc};
use geo::{Coord, LineString, Simplify};

/// At most this many points leave the phone for one patrol.
pub const MAX_TRACK_POINTS: usize = 500;

#[derive(Clone, Debug, PartialEq)]
pub struct Patrol {
    pub id: PatrolId,
    pub grid_id: GridId,
    pub user_id: UserId,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// WGS-84 (lat, lon), simplified.
    pub track: Vec<(f64, f64)>,
    pub distance_m: f64,
    pub notes: String,
    pub issues: Vec<IssueId>,
}

/// The length of a track in metres, point to point.
pub fn track_length_m(track: &[(f64, f64)]) -> f64 {
    track
        .windows(2)
        .map(|w| haversine_m(w[0].0, w[0].1, w[1].0, w[1].1))
        .sum()
}

/// The fixes worth keeping: accurate enough, not a mock, in the order taken.
pub fn usable(fixes: &[GpsFix]) -> Vec<(f64, f64)> {
    fixes
        .iter()
        .filter(|f| !f.mock_location && !f.is_imprecise())
        .map(|f| (f.lat, f.lon))
        .collect()
}

/// Simplify a track (Ramer–Douglas–Peucker) until it has at most `MAX_TRACK_POINTS`, starting at
/// a tolerance of about 5 m and doubling it. The first and last points always stay.
pub fn simplify(track: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if track.len() <= 2 {
        return track.to_vec();
    }
    let line = LineString(
        track
            .iter()
            .map(|&(lat, lon)| Coord { x: lon, y: lat })
            .collect(),
    );
    // Degrees of latitude per metre, near enough for a tolerance.
    let mut tolerance = 5.0 / 111_320.0;
    loop {
        let s = line.simplify(tolerance);
        if s.0.len() <= MAX_TRACK_POINTS {
            return s.0.iter().map(|c| (c.y, c.x)).collect();
        }
        tolerance *= 2.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn walk() -> impl Strategy<Value = Vec<(f64, f64)>> {
        proptest::collection::vec((-0.0002f64..0.0002, -0.0002f64..0.0002), 0..3000).prop_map(
            |steps| {
                let mut at = (22.59, 113.08);
                steps
                    .into_iter()
                    .map(|(dlat, dlon)| {
                        at = (at.0 + dlat, at.1 + dlon);
                        at
                    })
                    .collect()
            },
        )
    }

    proptest! {
        /// Whatever the walk: bounded, ends kept, never longer than walked.
        #[test]
        fn a_simplified_track_is_bounded_keeps_its_ends_and_is_not_longer(track in walk()) {
            let s = simplify(&track);
            prop_assert!(s.len() <= MAX_TRACK_POINTS);
            prop_assert_eq!(s.first(), track.first());
            prop_assert_eq!(s.last(), track.last());
            prop_assert!(track_length_m(&s) <= track_length_m(&track) + 1e-6);
        }
    }

    #[test]
    fn a_straight_walk_keeps_its_length_and_loses_its_middle() {
        let track: Vec<(f64, f64)> = (0..1000)
            .map(|i| (22.59 + i as f64 * 1e-5, 113.08))
            .collect();
        let s = simplify(&track);
        assert_eq!(s.len(), 2);
        let (a, b) = (track_length_m(&track), track_length_m(&s));
        assert!((a - b).abs() < 0.5, "{a} {b}");
        assert!((1100.0..1115.0).contains(&a), "{a}");
    }

    #[test]
    fn coarse_and_mock_fixes_are_not_track() {
        let fix = |accuracy_m, mock_location| GpsFix {
            lat: 22.59,
            lon: 113.08,
            accuracy_m,
            mock_location,
        };
        assert_eq!(
            usable(&[fix(8.0, false), fix(80.0, false), fix(8.0, true)]).len(),
            1
        );
    }
}
