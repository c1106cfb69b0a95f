//! Geo rules: where a phone's GPS fix stands relative to a grid, and the WGS-84 ↔ GCJ-02 datum
//! shift.
//!
//! Everything is stored in WGS-84, which is what phones report. Chinese map services draw in
//! GCJ-02, offset from WGS-84 by a few hundred metres; converting belongs at the map's edge only,
//! and points in different datums are never compared.
//!
//! A fix is a circle, not a point: a phone in a stairwell may report ±80 m. A check-in whose
//! circle crosses the boundary is [`GeoVerdict::Uncertain`], not a false "outside".

use geo::{Contains, Coord, MultiPolygon, Point};

/// Mean Earth radius (IUGG), metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A GPS fix as the phone reports it: WGS-84 degrees and the 68 % accuracy radius in metres.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GpsFix {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f64,
    /// The platform said the location came from a mock provider (Android's `isMock`).
    pub mock_location: bool,
}

/// A fix less accurate than this is a cell-tower or Wi-Fi guess, not where the worker stands: it
/// is kept with what is recorded (better than nothing, and the server judges a check-in by it),
/// but the form says so, and a patrol's track leaves it out.
pub const MAX_FIX_ACCURACY_M: f64 = 50.0;

impl GpsFix {
    /// Worse than [`MAX_FIX_ACCURACY_M`], or no accuracy a number can say.
    pub fn is_imprecise(&self) -> bool {
        self.accuracy_m.is_nan() || self.accuracy_m > MAX_FIX_ACCURACY_M
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GeoVerdict {
    /// The whole accuracy circle is inside the grid.
    Inside,
    /// The whole accuracy circle is outside the grid.
    Outside,
    /// The circle crosses the boundary: the fix cannot tell.
    Uncertain,
}

impl GeoVerdict {
    pub fn code(self) -> &'static str {
        match self {
            GeoVerdict::Inside => "inside",
            GeoVerdict::Outside => "outside",
            GeoVerdict::Uncertain => "uncertain",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            GeoVerdict::Inside,
            GeoVerdict::Outside,
            GeoVerdict::Uncertain,
        ]
        .into_iter()
        .find(|v| v.code() == code)
    }
}

/// Where a fix stands relative to a grid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridFix {
    pub verdict: GeoVerdict,
    /// Distance from the fix's centre to the nearest boundary edge, metres: positive inside the
    /// grid, negative outside.
    pub distance_m: f64,
}

/// Local planar projection around a reference point, metres. Grids are a few hundred metres
/// across, where the equirectangular error is far below GPS noise.
struct LocalProjection {
    lat0: f64,
    lon0: f64,
    cos_lat0: f64,
}

impl LocalProjection {
    fn around(lat0: f64, lon0: f64) -> Self {
        Self {
            lat0,
            lon0,
            cos_lat0: lat0.to_radians().cos(),
        }
    }

    fn project(&self, c: Coord<f64>) -> (f64, f64) {
        (
            (c.x - self.lon0).to_radians() * EARTH_RADIUS_M * self.cos_lat0,
            (c.y - self.lat0).to_radians() * EARTH_RADIUS_M,
        )
    }
}

/// Distance from the origin to the segment a–b in the plane.
fn origin_to_segment(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (-(a.0 * dx + a.1 * dy) / len2).clamp(0.0, 1.0)
    };
    let (px, py) = (a.0 + t * dx, a.1 + t * dy);
    (px * px + py * py).sqrt()
}

/// Shortest distance, metres, from a WGS-84 point to any edge (outer or hole) of the boundary.
pub fn distance_to_boundary_m(boundary: &MultiPolygon<f64>, lat: f64, lon: f64) -> f64 {
    let proj = LocalProjection::around(lat, lon);
    boundary
        .iter()
        .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
        .flat_map(|ring| ring.lines())
        .map(|line| origin_to_segment(proj.project(line.start), proj.project(line.end)))
        .fold(f64::INFINITY, f64::min)
}

/// Is this fix inside the grid, taking its accuracy into account?
pub fn locate_in_grid(boundary: &MultiPolygon<f64>, fix: &GpsFix) -> GridFix {
    let inside = boundary.contains(&Point::new(fix.lon, fix.lat));
    let edge = distance_to_boundary_m(boundary, fix.lat, fix.lon);
    let accuracy = if fix.accuracy_m.is_finite() {
        fix.accuracy_m.max(0.0)
    } else {
        f64::INFINITY
    };
    let verdict = if edge <= accuracy {
        GeoVerdict::Uncertain
    } else if inside {
        GeoVerdict::Inside
    } else {
        GeoVerdict::Outside
    };
    GridFix {
        verdict,
        distance_m: if inside { edge } else { -edge },
    }
}

/// Great-circle distance between two WGS-84 points, metres (haversine).
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// Area of a boundary in square metres (holes subtracted), on a local projection.
pub fn area_m2(boundary: &MultiPolygon<f64>) -> f64 {
    let Some(first) = boundary.iter().next().and_then(|p| p.exterior().0.first()) else {
        return 0.0;
    };
    let proj = LocalProjection::around(first.y, first.x);
    let ring_area = |ring: &geo::LineString<f64>| {
        let pts: Vec<_> = ring.coords().map(|c| proj.project(*c)).collect();
        let twice: f64 = pts
            .windows(2)
            .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
            .sum();
        (twice / 2.0).abs()
    };
    boundary
        .iter()
        .map(|p| ring_area(p.exterior()) - p.interiors().iter().map(ring_area).sum::<f64>())
        .sum()
}

// GCJ-02 ("Mars coordinates"). The algorithm is the one that circulates publicly since 2013; its
// constants are the Krasovsky 1940 ellipsoid.
const KRASOVSKY_A: f64 = 6_378_245.0;
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;

/// GCJ-02 applies only inside mainland China's rough bounding box; elsewhere it is the identity.
pub fn outside_china(lat: f64, lon: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn shift_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn shift_lon(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS-84 (lat, lon) → GCJ-02 (lat, lon).
pub fn wgs84_to_gcj02(lat: f64, lon: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    if outside_china(lat, lon) {
        return (lat, lon);
    }
    let d_lat = shift_lat(lon - 105.0, lat - 35.0);
    let d_lon = shift_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let d_lat =
        (d_lat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let d_lon = (d_lon * 180.0) / (KRASOVSKY_A / sqrt_magic * rad_lat.cos() * PI);
    (lat + d_lat, lon + d_lon)
}

/// GCJ-02 (lat, lon) → WGS-84 (lat, lon), by fixed-point iteration of the forward shift to
/// below a millimetre.
pub fn gcj02_to_wgs84(lat: f64, lon: f64) -> (f64, f64) {
    if outside_china(lat, lon) {
        return (lat, lon);
    }
    let (mut w_lat, mut w_lon) = (lat, lon);
    for _ in 0..30 {
        let (g_lat, g_lon) = wgs84_to_gcj02(w_lat, w_lon);
        let (e_lat, e_lon) = (g_lat - lat, g_lon - lon);
        w_lat -= e_lat;
        w_lon -= e_lon;
        if e_lat.abs() < 1e-10 && e_lon.abs() < 1e-10 {
            break;
        }
    }
    (w_lat, w_lon)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, Polygon};
    use proptest::prelude::*;

    /// A square grid about 1.1 km × 1.0 km in Jiangmen.
    fn square() -> MultiPolygon<f64> {
        MultiPolygon(vec![Polygon::new(
            LineString::from(vec![
                (113.070, 22.580),
                (113.080, 22.580),
                (113.080, 22.590),
                (113.070, 22.590),
                (113.070, 22.580),
            ]),
            vec![],
        )])
    }

    fn fix(lat: f64, lon: f64, accuracy_m: f64) -> GpsFix {
        GpsFix {
            lat,
            lon,
            accuracy_m,
            mock_location: false,
        }
    }

    #[test]
    fn a_guess_worse_than_50_m_or_with_no_accuracy_is_imprecise() {
        assert!(!fix(22.585, 113.075, 8.0).is_imprecise());
        assert!(!fix(22.585, 113.075, MAX_FIX_ACCURACY_M).is_imprecise());
        assert!(fix(22.585, 113.075, 50.5).is_imprecise());
        assert!(fix(22.585, 113.075, f64::NAN).is_imprecise());
    }

    #[test]
    fn centre_is_inside_with_half_the_width_to_spare() {
        let g = locate_in_grid(&square(), &fix(22.585, 113.075, 20.0));
        assert_eq!(g.verdict, GeoVerdict::Inside);
        // 0.005° of latitude ≈ 556 m; of longitude at 22.585° ≈ 514 m: the nearer edge wins.
        assert!((g.distance_m - 514.0).abs() < 2.0, "{}", g.distance_m);
    }

    #[test]
    fn near_the_edge_a_poor_fix_is_uncertain() {
        // ~33 m inside the southern edge.
        let lat = 22.580_3;
        assert_eq!(
            locate_in_grid(&square(), &fix(lat, 113.075, 10.0)).verdict,
            GeoVerdict::Inside
        );
        assert_eq!(
            locate_in_grid(&square(), &fix(lat, 113.075, 50.0)).verdict,
            GeoVerdict::Uncertain
        );
        let outside = locate_in_grid(&square(), &fix(22.579_7, 113.075, 10.0));
        assert_eq!(outside.verdict, GeoVerdict::Outside);
        assert!(
            (outside.distance_m + 33.4).abs() < 1.0,
            "{}",
            outside.distance_m
        );
    }

    #[test]
    fn an_unknown_accuracy_is_never_a_verdict() {
        let g = locate_in_grid(&square(), &fix(22.585, 113.075, f64::NAN));
        assert_eq!(g.verdict, GeoVerdict::Uncertain);
    }

    #[test]
    fn holes_are_outside() {
        let hole = LineString::from(vec![
            (113.074, 22.584),
            (113.076, 22.584),
            (113.076, 22.586),
            (113.074, 22.586),
            (113.074, 22.584),
        ]);
        let mut g = square();
        g.0[0].interiors_push(hole);
        let got = locate_in_grid(&g, &fix(22.585, 113.075, 5.0));
        assert_eq!(got.verdict, GeoVerdict::Outside);
        assert!(
            got.distance_m < -90.0 && got.distance_m > -120.0,
            "{}",
            got.distance_m
        );
    }

    #[test]
    fn area_of_the_square() {
        let a = area_m2(&square());
        // 1027.6 m × 1111.9 m
        assert!((a - 1_142_600.0).abs() < 5_000.0, "{a}");
    }

    #[test]
    fn haversine_known_distance() {
        // One degree of latitude is about 111.2 km.
        assert!((haversine_m(22.0, 113.0, 23.0, 113.0) - 111_195.0).abs() < 10.0);
    }

    /// Published reference pairs (WGS-84 → GCJ-02) used across the open-source implementations
    /// of the algorithm: Shanghai, Shenzhen, Beijing.
    const REFERENCE: [(f64, f64, f64, f64); 3] = [
        (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
        (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
        (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
    ];

    #[test]
    fn gcj02_matches_published_reference_points() {
        for (wlat, wlon, glat, glon) in REFERENCE {
            let (lat, lon) = wgs84_to_gcj02(wlat, wlon);
            // 1e-6° is about 0.1 m.
            assert!(
                (lat - glat).abs() < 1e-6 && (lon - glon).abs() < 1e-6,
                "{lat},{lon}"
            );
            let (blat, blon) = gcj02_to_wgs84(glat, glon);
            assert!(
                (blat - wlat).abs() < 1e-6 && (blon - wlon).abs() < 1e-6,
                "{blat},{blon}"
            );
        }
    }

    #[test]
    fn gcj02_is_identity_outside_china() {
        assert_eq!(wgs84_to_gcj02(48.8566, 2.3522), (48.8566, 2.3522));
        assert_eq!(gcj02_to_wgs84(-33.86, 151.2), (-33.86, 151.2));
    }

    proptest! {
        #[test]
        fn gcj02_round_trips_within_a_millimetre(lat in 18.0f64..53.0, lon in 74.0f64..134.0) {
            let (glat, glon) = wgs84_to_gcj02(lat, lon);
            let (blat, blon) = gcj02_to_wgs84(glat, glon);
            prop_assert!(haversine_m(lat, lon, blat, blon) < 0.001);
            // and the shift itself is the few hundred metres everyone sees
            prop_assert!(haversine_m(lat, lon, glat, glon) < 1_000.0);
        }

        #[test]
        fn verdict_agrees_with_distance(lat in 22.575f64..22.595, lon in 113.065f64..113.085, acc in 0.0f64..200.0) {
            let g = locate_in_grid(&square(), &fix(lat, lon, acc));
            match g.verdict {
                GeoVerdict::Inside => prop_assert!(g.distance_m > acc),
                GeoVerdict::Outside => prop_assert!(-g.distance_m > acc),
                GeoVerdict::Uncertain => prop_assert!(g.distance_m.abs() <= acc),
            }
        }
    }
}
