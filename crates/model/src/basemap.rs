//! A grid's base map (底图): the footprints of its buildings, its roads, water and green, which the
//! office imports once (GeoJSON from the street's surveying office or OpenStreetMap) and every
//! phone of the grid keeps to draw the grid offline — no tile server, no signal needed.
//!
//! What a phone holds must stay small whatever the office was handed, so the rules here decide
//! what a base map may be: each feature is cut to the grid it lies in ([`clip`]), simplified to
//! [`TOLERANCE_M`] ([`simplify`]), and a grid holds at most [`MAX_FEATURES`] features and
//! [`MAX_VERTICES`] vertices (about 500 KB of JSON at the very most; a real residential grid of
//! 300–500 households is a few thousand). An area must be a valid polygon: a self-intersecting
//! ring has no inside to fill and is refused, not guessed at ([`check_area`]).
//!
//! Coordinates are WGS-84 `(x = lon, y = lat)` like every grid boundary.

use crate::ids::{BuildingId, GridId};
use geo::{BooleanOps, BoundingRect, Contains, Coord, MultiLineString, MultiPolygon, Simplify};

/// The most features one grid's base map holds.
pub const MAX_FEATURES: usize = 2_000;
/// The most vertices one grid's base map holds, all features together.
pub const MAX_VERTICES: usize = 20_000;
/// The most vertices one feature may have as imported, before simplification.
pub const MAX_FEATURE_VERTICES: usize = 10_000;
/// Simplification tolerance: finer than a phone's screen shows a grid at any zoom it offers.
pub const TOLERANCE_M: f64 = 0.5;

crate::code_enum! {
    /// What a feature of the base map is.
    pub enum MapFeatureKind {
        /// A building's footprint (an area).
        Building = "building",
        /// A road, lane or path (a line).
        Road = "road",
        Water = "water",
        /// Green space, a square or a playground (an area).
        Green = "green",
    }
}

impl MapFeatureKind {
    /// Whether the feature is an area (else a line).
    pub fn is_area(self) -> bool {
        !matches!(self, MapFeatureKind::Road)
    }
}

/// A feature's geometry: an area or a line, never both.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Area(MultiPolygon<f64>),
    Line(MultiLineString<f64>),
}

impl Shape {
    pub fn vertices(&self) -> usize {
        match self {
            Shape::Area(a) => a
                .iter()
                .map(|p| {
                    p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()
                })
                .sum(),
            Shape::Line(l) => l.iter().map(|l| l.0.len()).sum(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Shape::Area(a) => a.0.is_empty(),
            Shape::Line(l) => l.0.iter().all(|l| l.0.len() < 2),
        }
    }

    /// `(min lon, min lat, max lon, max lat)`, if it has any point.
    pub fn bounds(&self) -> Option<(f64, f64, f64, f64)> {
        let r = match self {
            Shape::Area(a) => a.bounding_rect(),
            Shape::Line(l) => l.bounding_rect(),
        }?;
        Some((r.min().x, r.min().y, r.max().x, r.max().y))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct MapFeature {
    pub kind: MapFeatureKind,
    /// A road's or an estate's name, a building's number; may be empty.
    pub name: String,
    /// The building of the grid this footprint is, when one of its points lies inside it.
    pub building_id: Option<BuildingId>,
    pub shape: Shape,
}

/// One grid's base map.
#[derive(Clone, Debug, PartialEq)]
pub struct BaseMap {
    pub grid_id: GridId,
    pub features: Vec<MapFeature>,
}

impl BaseMap {
    pub fn vertices(&self) -> usize {
        self.features.iter().map(|f| f.shape.vertices()).sum()
    }

    /// Whether it is within [`MAX_FEATURES`] and [`MAX_VERTICES`]; else what is over.
    pub fn check_size(&self) -> Result<(), String> {
        if self.features.len() > MAX_FEATURES {
            return Err(format!(
                "{} features in one grid (at most {MAX_FEATURES})",
                self.features.len()
            ));
        }
        let v = self.vertices();
        if v > MAX_VERTICES {
            return Err(format!(
                "{v} vertices in one grid after simplification (at most {MAX_VERTICES})"
            ));
        }
        Ok(())
    }
}

/// Whether an area is a valid polygon set: closed rings of at least four points, no ring crossing
/// itself or another, holes inside their shell.
pub fn check_area(area: &MultiPolygon<f64>) -> Result<(), String> {
    use geo::Validation;
    area.check_validation().map_err(|e| e.to_string())
}

/// The part of `shape` inside the grid's boundary, or `None` if nothing of it is.
pub fn clip(shape: &Shape, boundary: &MultiPolygon<f64>) -> Option<Shape> {
    let clipped = match shape {
        Shape::Area(a) => Shape::Area(a.intersection(boundary)),
        Shape::Line(l) => Shape::Line(boundary.clip(l, false)),
    };
    (!clipped.is_empty()).then_some(clipped)
}

/// Ramer–Douglas–Peucker at [`TOLERANCE_M`]; areas that vanish (a sliver left by the clip) go.
pub fn simplify(shape: &Shape) -> Option<Shape> {
    // Degrees of latitude per metre: near enough for a tolerance this small.
    let epsilon = TOLERANCE_M / 111_320.0;
    let out = match shape {
        Shape::Area(a) => Shape::Area(MultiPolygon(
            a.simplify(epsilon)
                .0
                .into_iter()
                .filter(|p| p.exterior().0.len() >= 4)
                .collect(),
        )),
        Shape::Line(l) => Shape::Line(l.simplify(epsilon)),
    };
    (!out.is_empty()).then_some(out)
}

/// A building of the roll, as a footprint is matched to it: its number and its point.
#[derive(Clone, Debug)]
pub struct BuildingPoint {
    pub id: BuildingId,
    /// "12", as in 12栋.
    pub number: String,
    pub lon: f64,
    pub lat: f64,
}

/// Which building a footprint is: of the buildings whose point lies inside it, the one its name
/// gives the number of ("12栋", "12号楼", "12"), else the one nearest its centre. Blocks built
/// close together put a neighbour's entrance inside a footprint more often than one would think.
pub fn building_of(
    footprint: &MultiPolygon<f64>,
    name: &str,
    buildings: &[BuildingPoint],
) -> Option<BuildingId> {
    use geo::Centroid;
    let inside: Vec<&BuildingPoint> = buildings
        .iter()
        .filter(|b| footprint.contains(&Coord { x: b.lon, y: b.lat }))
        .collect();
    let number = name
        .trim()
        .trim_end_matches(['栋', '幢', '座'])
        .trim_end_matches("号楼")
        .trim();
    if let Some(b) = inside
        .iter()
        .find(|b| !number.is_empty() && b.number == number)
    {
        return Some(b.id);
    }
    let centre = footprint.centroid()?;
    inside
        .into_iter()
        .min_by(|a, b| {
            let d = |p: &BuildingPoint| (p.lon - centre.x()).hypot(p.lat - centre.y());
            d(a).total_cmp(&d(b))
        })
        .map(|b| b.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, Polygon, polygon};

    fn square(x: f64, y: f64, size: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x, y: y),
            (x: x + size, y: y),
            (x: x + size, y: y + size),
            (x: x, y: y + size),
            (x: x, y: y),
        ]])
    }

    #[test]
    fn a_self_intersecting_ring_is_refused() {
        let bow_tie = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (1.0, 1.0),
                (1.0, 0.0),
                (0.0, 1.0),
                (0.0, 0.0),
            ]),
            vec![],
        )]);
        assert!(check_area(&bow_tie).is_err());
        assert!(check_area(&square(0.0, 0.0, 1.0)).is_ok());
    }

    #[test]
    fn clipping_keeps_only_what_is_inside_the_grid() {
        let grid = square(0.0, 0.0, 1.0);
        let half_out = Shape::Area(square(0.5, 0.5, 1.0));
        let Some(Shape::Area(inside)) = clip(&half_out, &grid) else {
            panic!("half of it is inside");
        };
        use geo::Area;
        assert!((inside.unsigned_area() - 0.25).abs() < 1e-9);
        assert_eq!(clip(&Shape::Area(square(5.0, 5.0, 1.0)), &grid), None);

        let road = Shape::Line(MultiLineString(vec![LineString::from(vec![
            (-1.0, 0.5),
            (2.0, 0.5),
        ])]));
        let Some(Shape::Line(cut)) = clip(&road, &grid) else {
            panic!("the road crosses the grid");
        };
        let (min_x, _, max_x, _) = Shape::Line(cut).bounds().unwrap();
        assert!((min_x - 0.0).abs() < 1e-9 && (max_x - 1.0).abs() < 1e-9);
    }

    #[test]
    fn simplification_drops_points_closer_than_the_tolerance() {
        let step = 0.1 / 111_320.0; // 10 cm
        let wiggly: Vec<(f64, f64)> = (0..1_000)
            .map(|i| (120.0 + i as f64 * step, 36.0 + (i % 2) as f64 * step))
            .collect();
        let line = Shape::Line(MultiLineString(vec![LineString::from(wiggly)]));
        let simple = simplify(&line).unwrap();
        assert!(simple.vertices() <= 3, "{}", simple.vertices());
    }

    #[test]
    fn a_footprint_finds_its_building_by_number_then_by_nearness() {
        let point = |n: u128, number: &str, lon: f64, lat: f64| BuildingPoint {
            id: BuildingId::from(uuid::Uuid::from_u128(n)),
            number: number.into(),
            lon,
            lat,
        };
        let fp = square(120.0, 36.0, 0.001);
        let far = point(1, "1", 121.0, 36.0);
        let edge = point(2, "2", 120.0001, 36.0001);
        let centre = point(3, "3", 120.0005, 36.0005);
        let all = [far.clone(), edge.clone(), centre.clone()];
        assert_eq!(
            building_of(&fp, "", &all),
            Some(centre.id),
            "the nearest inside"
        );
        assert_eq!(building_of(&fp, "2栋", &all), Some(edge.id), "its number");
        assert_eq!(
            building_of(&fp, "1栋", &all),
            Some(centre.id),
            "not one outside"
        );
        assert_eq!(building_of(&fp, "", &[far]), None);
    }

    #[test]
    fn a_base_map_over_its_bounds_says_what_is_over() {
        let f = MapFeature {
            kind: MapFeatureKind::Building,
            name: String::new(),
            building_id: None,
            shape: Shape::Area(square(0.0, 0.0, 1.0)),
        };
        let m = BaseMap {
            grid_id: GridId::from(uuid::Uuid::from_u128(1)),
            features: vec![f.clone(); MAX_FEATURES + 1],
        };
        assert!(m.check_size().unwrap_err().contains("features"));
        // A 20-sided footprint: 21 vertices with the closing one.
        let round: Vec<(f64, f64)> = (0..=20)
            .map(|i| {
                let a = f64::from(i % 20) * std::f64::consts::TAU / 20.0;
                (a.cos(), a.sin())
            })
            .collect();
        let round = MapFeature {
            shape: Shape::Area(MultiPolygon(vec![Polygon::new(
                LineString::from(round),
                vec![],
            )])),
            ..f
        };
        let m = BaseMap {
            grid_id: m.grid_id,
            features: vec![round; MAX_VERTICES / 21 + 1],
        };
        assert!(m.check_size().unwrap_err().contains("vertices"));
    }
}
