//! The demo's base maps (底图): what a surveying office's file would give each grid — every
//! building's footprint (a slab block, 板楼, about 48 m × 13 m, east–west like most of the
//! estate), the estate road running round inside the grid's edge with a lane from its nearest
//! side to each building, and a pocket park where the buildings leave room. Deterministic: drawn from the
//! grids and buildings alone, so the rest of the demo is unchanged.

use geo::{Coord, LineString, MultiLineString, MultiPolygon, Polygon};
use gridmate_model::basemap::Shape;
use gridmate_model::{BaseMap, Building, Grid, MapFeature, MapFeatureKind};

const M_PER_DEG_LAT: f64 = 111_320.0;

/// Metres east and north of `origin` as a coordinate.
fn offset(origin: Coord<f64>, east_m: f64, north_m: f64) -> Coord<f64> {
    let m_per_deg_lon = M_PER_DEG_LAT * origin.y.to_radians().cos();
    Coord {
        x: origin.x + east_m / m_per_deg_lon,
        y: origin.y + north_m / M_PER_DEG_LAT,
    }
}

fn rectangle(centre: Coord<f64>, width_m: f64, depth_m: f64) -> Polygon<f64> {
    let (w, d) = (width_m / 2.0, depth_m / 2.0);
    let corners = [(-w, -d), (w, -d), (w, d), (-w, d), (-w, -d)];
    Polygon::new(
        LineString(
            corners
                .iter()
                .map(|(e, n)| offset(centre, *e, *n))
                .collect(),
        ),
        vec![],
    )
}

fn distance_m(a: Coord<f64>, b: Coord<f64>) -> f64 {
    let m_per_deg_lon = M_PER_DEG_LAT * a.y.to_radians().cos();
    ((a.x - b.x) * m_per_deg_lon).hypot((a.y - b.y) * M_PER_DEG_LAT)
}

/// One base map per grid.
pub fn base_maps(grids: &[Grid], buildings: &[Building]) -> Vec<BaseMap> {
    grids
        .iter()
        .map(|g| {
            let ring = g.boundary.0[0].exterior();
            let (min, max) = ring.0.iter().fold((ring.0[0], ring.0[0]), |(lo, hi), c| {
                (
                    Coord {
                        x: lo.x.min(c.x),
                        y: lo.y.min(c.y),
                    },
                    Coord {
                        x: hi.x.max(c.x),
                        y: hi.y.max(c.y),
                    },
                )
            });
            // The estate road, 18 m inside the grid's edge.
            let inset = |c: Coord<f64>, east: f64, north: f64| offset(c, east, north);
            let road_sw = inset(min, 18.0, 18.0);
            let road_ne = inset(max, -18.0, -18.0);
            let road = LineString(vec![
                road_sw,
                Coord {
                    x: road_ne.x,
                    y: road_sw.y,
                },
                road_ne,
                Coord {
                    x: road_sw.x,
                    y: road_ne.y,
                },
                road_sw,
            ]);
            let mut features = vec![MapFeature {
                kind: MapFeatureKind::Road,
                name: format!("{}环路", g.name.trim_end_matches("网格")),
                building_id: None,
                shape: Shape::Line(MultiLineString(vec![road])),
            }];
            let mine: Vec<&Building> = buildings.iter().filter(|b| b.grid_id == g.id).collect();
            for b in &mine {
                let centre = Coord { x: b.lon, y: b.lat };
                features.push(MapFeature {
                    kind: MapFeatureKind::Building,
                    name: format!("{}栋", b.number),
                    building_id: Some(b.id),
                    shape: Shape::Area(MultiPolygon(vec![rectangle(centre, 48.0, 13.0)])),
                });
                // A lane from the footprint to the nearest side of the estate road.
                let m_per_deg_lon = M_PER_DEG_LAT * centre.y.to_radians().cos();
                let sides = [
                    ((centre.y - road_sw.y) * M_PER_DEG_LAT, (0.0, -6.5)),
                    ((road_ne.y - centre.y) * M_PER_DEG_LAT, (0.0, 6.5)),
                    ((centre.x - road_sw.x) * m_per_deg_lon, (-24.0, 0.0)),
                    ((road_ne.x - centre.x) * m_per_deg_lon, (24.0, 0.0)),
                ];
                let (side, (east, north)) = sides
                    .iter()
                    .enumerate()
                    .min_by(|a, b| a.1.0.total_cmp(&b.1.0))
                    .map(|(i, s)| (i, s.1))
                    .unwrap_or((0, (0.0, -6.5)));
                let door = offset(centre, east, north);
                let end = match side {
                    0 => Coord {
                        x: door.x,
                        y: road_sw.y,
                    },
                    1 => Coord {
                        x: door.x,
                        y: road_ne.y,
                    },
                    2 => Coord {
                        x: road_sw.x,
                        y: door.y,
                    },
                    _ => Coord {
                        x: road_ne.x,
                        y: door.y,
                    },
                };
                features.push(MapFeature {
                    kind: MapFeatureKind::Road,
                    name: String::new(),
                    building_id: None,
                    shape: Shape::Line(MultiLineString(vec![LineString(vec![door, end])])),
                });
            }
            // The pocket park: the candidate spot farthest from any building.
            let candidates = [0.3, 0.5, 0.7].iter().flat_map(|fx| {
                [0.3, 0.5, 0.7].iter().map(move |fy| Coord {
                    x: min.x + (max.x - min.x) * fx,
                    y: min.y + (max.y - min.y) * fy,
                })
            });
            let room = |c: &Coord<f64>| {
                mine.iter()
                    .map(|b| distance_m(*c, Coord { x: b.lon, y: b.lat }))
                    .fold(f64::MAX, f64::min)
            };
            if let Some(spot) = candidates.max_by(|a, b| room(a).total_cmp(&room(b)))
                && room(&spot) > 45.0
            {
                features.push(MapFeature {
                    kind: MapFeatureKind::Green,
                    name: "口袋公园".into(),
                    building_id: None,
                    shape: Shape::Area(MultiPolygon(vec![rectangle(spot, 40.0, 30.0)])),
                });
            }
            BaseMap {
                grid_id: g.id,
                features,
            }
        })
        .collect()
}
