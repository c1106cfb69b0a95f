//! The base map (底图) a community office imports: building footprints, roads, water and green as
//! GeoJSON — from the street's surveying office, or an OpenStreetMap export as it comes (its
//! `building`, `highway`, `waterway`, `natural`, `landuse` and `leisure` tags are understood).
//!
//! Each feature is checked, cut to every grid it lies in, simplified, and a footprint linked to
//! the building of the roll whose point it holds; each grid then gets one `base_map` record that
//! its phones pull with the rest of their scope. What a phone receives is bounded by
//! `gridmate_model::basemap` (features and vertices per grid).
//!
//! Refused, with the feature at fault, and nothing written: a file over [`MAX_FILE_BYTES`] or over
//! [`MAX_VERTICES`] in all; a feature over `MAX_FEATURE_VERTICES`; a self-intersecting or
//! otherwise invalid polygon; coordinates that are not longitude/latitude degrees (a projected
//! file in metres); a `crs` other than WGS-84 (GCJ-02 or BD-09 exports from Chinese map sites
//! must be converted first: their offset of a few hundred metres would put footprints on the
//! wrong buildings); a geometry that is not the feature's kind. Features outside every grid are
//! dropped and counted. Like the roll import, a dry run first, planned in the same transaction
//! that would write it.

use super::{ImportError, ImportProblem, Said, problem};
use crate::store::{PutRecord, StoreError, WriteTx, admin, office};
use geo::{BoundingRect, Coord, Intersects, LineString, MultiLineString, MultiPolygon, Polygon};
use gridmate_model::GridId;
use gridmate_model::basemap::{self, BaseMap, BuildingPoint, MapFeature, MapFeatureKind, Shape};
use gridmate_protocol::Entity;
use gridmate_protocol::records::{BaseMapRecord, BuildingRecord, GridRecord, boundary_to_geo};
use gridmate_words::Msg;
use serde::Deserialize;
use serde::de::{self, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use uuid::Uuid;

/// The largest file taken.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// The most vertices a file may hold, all features together.
pub const MAX_VERTICES: usize = 500_000;

/// The names a GeoJSON `crs` may give WGS-84 longitude/latitude by.
const WGS84: [&str; 5] = [
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
    "WGS84",
];

/// A GeoJSON position: longitude, latitude and an altitude that is ignored.
#[derive(Clone, Copy, Debug)]
struct Position(f64, f64);

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Position;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a position [longitude, latitude]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Position, A::Error> {
                let x: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let y: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Position(x, y))
            }
        }
        d.deserialize_seq(V)
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", content = "coordinates")]
enum Geometry {
    Polygon(Vec<Vec<Position>>),
    MultiPolygon(Vec<Vec<Vec<Position>>>),
    LineString(Vec<Position>),
    MultiLineString(Vec<Vec<Position>>),
}

#[derive(Deserialize)]
struct Feature {
    #[serde(default)]
    properties: Option<Map<String, Value>>,
    geometry: Option<Geometry>,
}

#[derive(Deserialize)]
struct Collection<'a> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    crs: Option<Value>,
    #[serde(borrow)]
    features: Vec<&'a RawValue>,
}

/// What an import found, and what it wrote when asked to.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Plan {
    pub features_read: usize,
    /// Features with no part in any of the caller's grids: dropped.
    pub outside: usize,
    /// Features cut at a grid's edge (each part kept in its grid).
    pub clipped: usize,
    pub grids: Vec<GridPlan>,
    pub committed: bool,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct GridPlan {
    pub grid_id: Uuid,
    pub grid_name: String,
    pub features: usize,
    pub vertices: usize,
    /// The size of the record the grid's phones will pull.
    pub bytes: usize,
    pub footprints: usize,
    /// Footprints that hold a building of the roll. Few of many suggests the file is offset
    /// (GCJ-02 sold as WGS-84).
    pub footprints_matched: usize,
    /// A dry run's map for this grid, for the console to draw before anything is written
    /// (`None` once committed: the grid's record holds it).
    #[serde(skip)]
    pub planned: Option<BaseMapRecord>,
}

fn text(props: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| props.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A feature's kind from `kind` / `类型`, or from OpenStreetMap tags.
fn kind_of(props: &Map<String, Value>) -> Result<MapFeatureKind, Said> {
    if let Some(k) = text(props, &["kind", "类型", "type"]) {
        return match k.as_str() {
            "building" | "建筑" | "楼栋" | "房屋" => Ok(MapFeatureKind::Building),
            "road" | "道路" | "路" => Ok(MapFeatureKind::Road),
            "water" | "水系" | "水体" => Ok(MapFeatureKind::Water),
            "green" | "绿地" | "广场" => Ok(MapFeatureKind::Green),
            other => Err(Said::fill(
                Msg::ImportUnknownKindBuilding,
                &[&format!("{:?}", other)],
            )),
        };
    }
    let has = |k: &str| props.get(k).is_some_and(|v| !v.is_null());
    let is = |k: &str, vals: &[&str]| {
        props
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|v| vals.contains(&v))
    };
    if has("building") {
        Ok(MapFeatureKind::Building)
    } else if has("highway") {
        Ok(MapFeatureKind::Road)
    } else if has("waterway") || is("natural", &["water"]) {
        Ok(MapFeatureKind::Water)
    } else if is("leisure", &["park", "garden", "playground", "pitch"])
        || is("landuse", &["grass", "recreation_ground", "village_green"])
    {
        Ok(MapFeatureKind::Green)
    } else {
        Err(Said::of(Msg::ImportNoKindGive))
    }
}

fn ring(points: &[Position]) -> LineString<f64> {
    LineString(points.iter().map(|p| Coord { x: p.0, y: p.1 }).collect())
}

fn polygon(rings: &[Vec<Position>]) -> Result<Polygon<f64>, Said> {
    let mut it = rings.iter();
    let exterior = it
        .next()
        .ok_or_else(|| Said::of(Msg::ImportAPolygonNeeds))?;
    for r in rings {
        if r.len() < 4 || r.first().map(|p| (p.0, p.1)) != r.last().map(|p| (p.0, p.1)) {
            return Err(Said::of(Msg::ImportARingNeeds));
        }
    }
    Ok(Polygon::new(ring(exterior), it.map(|r| ring(r)).collect()))
}

fn shape_of(kind: MapFeatureKind, g: &Geometry) -> Result<Shape, Said> {
    let shape = match g {
        Geometry::Polygon(p) => Shape::Area(MultiPolygon(vec![polygon(p)?])),
        Geometry::MultiPolygon(ps) => Shape::Area(MultiPolygon(
            ps.iter().map(|p| polygon(p)).collect::<Result<_, _>>()?,
        )),
        Geometry::LineString(l) => Shape::Line(MultiLineString(vec![ring(l)])),
        Geometry::MultiLineString(ls) => {
            Shape::Line(MultiLineString(ls.iter().map(|l| ring(l)).collect()))
        }
    };
    match (&shape, kind.is_area()) {
        (Shape::Area(_), false) => {
            return Err(Said::of(Msg::ImportARoadIsALine));
        }
        (Shape::Line(_), true) => {
            return Err(Said::fill(Msg::ImportAreaNotLine, &[&kind.code()]));
        }
        _ => {}
    }
    if let Shape::Line(l) = &shape
        && l.iter().any(|l| l.0.len() < 2)
    {
        return Err(Said::of(Msg::ImportALineNeeds));
    }
    if let Shape::Area(a) = &shape {
        basemap::check_area(a).map_err(|e| Said::fill(Msg::ImportInvalidPolygon, &[&e]))?;
    }
    Ok(shape)
}

/// Longitude and latitude in degrees, or a message saying what they look like instead.
fn check_degrees(shape: &Shape) -> Result<(), Said> {
    let Some((min_x, min_y, max_x, max_y)) = shape.bounds() else {
        return Err(Said::of(Msg::ImportNoPositions));
    };
    if min_x < -180.0 || max_x > 180.0 || min_y < -90.0 || max_y > 90.0 {
        return Err(Said::fill(
            Msg::ImportCoordinatesAreNotLongitude,
            &[&format!("{:.1}", min_x), &format!("{:.1}", min_y)],
        ));
    }
    Ok(())
}

/// A feature of the file, checked.
struct Incoming {
    kind: MapFeatureKind,
    name: String,
    shape: Shape,
}

/// The file's features, checked, and how many it had.
fn read(bytes: &[u8]) -> Result<(Vec<Incoming>, usize), ImportError> {
    let one = |p: ImportProblem| ImportError::Problems(vec![p]);
    if bytes.len() > MAX_FILE_BYTES {
        return Err(one(problem(
            0,
            "file",
            Said::fill(Msg::ImportLargerThanMB, &[&(MAX_FILE_BYTES >> 20)]),
        )));
    }
    let json = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .map_err(|_| one(problem(0, "file", Said::of(Msg::ImportGeoJSONIsUTF))))?;
    let doc: Collection = serde_json::from_str(json).map_err(|e| {
        one(problem(
            0,
            "json",
            Said::fill(Msg::ImportNotAGeoJSON, &[&e.line(), &e]),
        ))
    })?;
    if doc.kind != "FeatureCollection" {
        return Err(one(problem(
            0,
            "type",
            Said::of(Msg::ImportExpectedAGeoJSON),
        )));
    }
    if let Some(crs) = &doc.crs {
        let name = crs["properties"]["name"].as_str().unwrap_or_default();
        if !WGS84.contains(&name) {
            return Err(one(problem(
                0,
                "crs",
                Said::fill(Msg::ImportTheFileSays, &[&format!("{:?}", name)]),
            )));
        }
    }
    let mut problems = Vec::new();
    let mut features = Vec::new();
    let mut vertices = 0usize;
    for (i, raw) in doc.features.iter().enumerate() {
        let n = i + 1;
        let f: Feature = match serde_json::from_str(raw.get()) {
            Ok(f) => f,
            Err(e) => {
                problems.push(problem(
                    n,
                    "geometry",
                    Said::fill(Msg::ImportNotAFeature, &[&e]),
                ));
                continue;
            }
        };
        let props = f.properties.unwrap_or_default();
        let kind = match kind_of(&props) {
            Ok(k) => k,
            Err(e) => {
                problems.push(ImportProblem {
                    line: n,
                    field: "kind".into(),
                    message: e,
                });
                continue;
            }
        };
        let Some(geometry) = f.geometry else {
            problems.push(problem(n, "geometry", Said::of(Msg::ImportNoGeometry)));
            continue;
        };
        let count = match &geometry {
            Geometry::Polygon(p) | Geometry::MultiLineString(p) => p.iter().map(Vec::len).sum(),
            Geometry::MultiPolygon(ps) => ps.iter().flatten().map(Vec::len).sum(),
            Geometry::LineString(l) => l.len(),
        };
        vertices += count;
        if vertices > MAX_VERTICES {
            return Err(one(problem(
                n,
                "file",
                Said::fill(Msg::ImportMoreThanVertices, &[&MAX_VERTICES]),
            )));
        }
        if count > basemap::MAX_FEATURE_VERTICES {
            problems.push(problem(
                n,
                "geometry",
                Said::fill(
                    Msg::ImportVerticesInOneFeature,
                    &[&count, &basemap::MAX_FEATURE_VERTICES],
                ),
            ));
            continue;
        }
        let shape = shape_of(kind, &geometry).and_then(|s| check_degrees(&s).map(|()| s));
        match shape {
            Ok(shape) => features.push(Incoming {
                kind,
                name: text(&props, &["name", "名称", "ref", "addr:housenumber"])
                    .unwrap_or_default(),
                shape,
            }),
            Err(e) => problems.push(ImportProblem {
                line: n,
                field: "geometry".into(),
                message: e,
            }),
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Problems(problems));
    }
    Ok((features, doc.features.len()))
}

fn bounds_meet(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> bool {
    a.0 <= b.2 && b.0 <= a.2 && a.1 <= b.3 && b.1 <= a.3
}

/// Plan, and with `commit` write, the base maps of the caller's `grids` from a GeoJSON file, in
/// the caller's write transaction. A refused file is a value, `Ok(Err(problems))`: nothing was
/// written and the transaction may commit; a store failure is the error that rolls it back.
pub fn plan(
    tx: &mut dyn WriteTx,
    grids: &[Uuid],
    bytes: &[u8],
    commit: bool,
) -> Result<Result<Plan, Vec<ImportProblem>>, StoreError> {
    match plan_checked(tx, grids, bytes, commit) {
        Ok(plan) => Ok(Ok(plan)),
        Err(ImportError::Problems(problems)) => Ok(Err(problems)),
        Err(ImportError::Store(e)) => Err(e),
    }
}

fn plan_checked(
    tx: &mut dyn WriteTx,
    grids: &[Uuid],
    bytes: &[u8],
    commit: bool,
) -> Result<Plan, ImportError> {
    let (features, read) = read(bytes)?;
    let grid_records: Vec<GridRecord> = office::records(tx, Entity::Grid, grids)?;
    let buildings: Vec<BuildingRecord> = office::records(tx, Entity::Building, grids)?;
    let existing: Vec<BaseMapRecord> = office::records(tx, Entity::BaseMap, grids)?;
    let mut plan = Plan {
        features_read: read,
        ..Plan::default()
    };
    let mut maps = Vec::new();
    let mut placed = vec![0usize; features.len()];
    let mut problems = Vec::new();
    let boundaries: Vec<MultiPolygon<f64>> = grid_records
        .iter()
        .map(|g| boundary_to_geo(&g.boundary).map_err(StoreError::Corrupt))
        .collect::<Result<_, _>>()?;
    for (g, boundary) in grid_records.iter().zip(&boundaries) {
        let Some(rect) = boundary.bounding_rect() else {
            continue;
        };
        let grid_box = (rect.min().x, rect.min().y, rect.max().x, rect.max().y);
        let points: Vec<BuildingPoint> = buildings
            .iter()
            .filter(|b| b.grid_id == g.id)
            .map(|b| BuildingPoint {
                id: b.id.into(),
                number: b.number.clone(),
                lon: b.lon,
                lat: b.lat,
            })
            .collect();
        let mut map = BaseMap {
            grid_id: GridId::from(g.id),
            features: Vec::new(),
        };
        for (i, Incoming { kind, name, shape }) in features.iter().enumerate() {
            if !shape.bounds().is_some_and(|b| bounds_meet(b, grid_box)) {
                continue;
            }
            let meets = match shape {
                Shape::Area(a) => a.intersects(boundary),
                Shape::Line(l) => l.intersects(boundary),
            };
            if !meets {
                continue;
            }
            let Some(part) = basemap::clip(shape, boundary).and_then(|s| basemap::simplify(&s))
            else {
                continue;
            };
            placed[i] += 1;
            let building_id = match (&part, kind) {
                (Shape::Area(a), MapFeatureKind::Building) => {
                    basemap::building_of(a, name, &points)
                }
                _ => None,
            };
            map.features.push(MapFeature {
                kind: *kind,
                name: name.clone(),
                building_id,
                shape: part,
            });
        }
        if map.features.is_empty() {
            continue;
        }
        if let Err(e) = map.check_size() {
            problems.push(problem(
                0,
                &g.name,
                Said::fill(
                    Msg::ImportBaseMapTooLarge,
                    &[&basemap::MAX_FEATURES, &basemap::MAX_VERTICES, &e],
                ),
            ));
            continue;
        }
        let id = existing
            .iter()
            .find(|m| m.grid_id == g.id)
            .map_or_else(Uuid::now_v7, |m| m.id);
        let record = BaseMapRecord::from_model(id, &map);
        let bytes = serde_json::to_vec(&record).map_or(0, |b| b.len());
        let footprints: Vec<&MapFeature> = map
            .features
            .iter()
            .filter(|f| f.kind == MapFeatureKind::Building)
            .collect();
        plan.grids.push(GridPlan {
            grid_id: g.id,
            grid_name: g.name.clone(),
            features: map.features.len(),
            vertices: map.vertices(),
            bytes,
            footprints: footprints.len(),
            footprints_matched: footprints
                .iter()
                .filter(|f| f.building_id.is_some())
                .count(),
            planned: None,
        });
        maps.push(record);
    }
    if !problems.is_empty() {
        return Err(ImportError::Problems(problems));
    }
    plan.outside = placed.iter().filter(|n| **n == 0).count();
    plan.clipped = features
        .iter()
        .zip(&placed)
        .filter(|(f, n)| **n > 1 || (**n == 1 && !inside_one(&f.shape, &boundaries)))
        .count();
    if commit {
        for record in &maps {
            admin::put(
                tx,
                &PutRecord {
                    entity: Entity::BaseMap,
                    id: record.id,
                    grid_id: Some(record.grid_id),
                    building_id: None,
                    owner_id: None,
                    data: serde_json::to_value(record).unwrap_or(Value::Null),
                },
            )?;
        }
        plan.committed = true;
    } else {
        for (grid, record) in plan.grids.iter_mut().zip(maps) {
            grid.planned = Some(record);
        }
    }
    Ok(plan)
}

/// Whether the shape lies wholly inside one of the grids (so placing it cut nothing).
fn inside_one(shape: &Shape, grids: &[MultiPolygon<f64>]) -> bool {
    use geo::Contains;
    grids.iter().any(|b| match shape {
        Shape::Area(a) => b.contains(a),
        Shape::Line(l) => b.contains(l),
    })
}
