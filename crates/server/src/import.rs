//! What the community office loads: grids from GeoJSON, households from the spreadsheet Excel in
//! China writes (UTF-8 with or without BOM, or GBK), and a check that a community's grids tile
//! its ground without gap or overlap.
//!
//! A community's per-person ledger (实有人口台账, XLSX or CSV) is [`people`]'s.
//!
//! An import is all or nothing: every row is parsed and checked first, every problem reported
//! with its line (or feature) and field, and only a clean file is written, in one transaction.

use crate::store::{Backend, PutRecord, StoreError, admin};
use geo::{Area, BooleanOps, MultiPolygon};
use gridmate_model::geo_rules::area_m2;
use gridmate_model::validate::ValidationError;
use gridmate_model::{GridKind, HouseholdTag, validate};
use gridmate_protocol::Entity;
use gridmate_protocol::records::*;
use gridmate_words::{Lang, Msg};
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

pub mod base_map;
pub mod people;

/// One problem in an input file, said in both of the console's languages: the office that
/// uploaded it reads it in its own.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportProblem {
    /// 1-based line of a CSV (the header is line 1), or 1-based feature number of GeoJSON.
    pub line: usize,
    pub field: String,
    pub message: Said,
}

pub use gridmate_words::Said;

impl ImportProblem {
    /// The column or part of the file at fault: a ledger's own header as written, else the
    /// part's name in the reader's language.
    pub fn field_in(&self, lang: Lang) -> &str {
        lang.t(match self.field.as_str() {
            "file" => Msg::ImportFieldFile,
            "header" => Msg::ImportFieldHeader,
            "row" => Msg::ImportFieldRow,
            "geometry" => Msg::ImportFieldGeometry,
            "kind" => Msg::ImportFieldKind,
            "type" => Msg::ImportFieldType,
            "crs" => Msg::ImportFieldCrs,
            "json" => Msg::ImportFieldJson,
            other => return other,
        })
    }
}

/// The office API answers in zh-CN, with the English beside it.
impl serde::Serialize for ImportProblem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("ImportProblem", 4)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("field", &self.field)?;
        st.serialize_field("message", &self.message.zh)?;
        st.serialize_field("message_en", &self.message.en)?;
        st.end()
    }
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "第 {} 行，{}：{}（{}）",
            self.line, self.field, self.message.zh, self.message.en
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("文件有 {} 个问题，未导入 / the file has {} problem(s); nothing was imported:\n{}", .0.len(), .0.len(), .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Problems(Vec<ImportProblem>),
    #[error("{0}")]
    Store(#[from] StoreError),
}

pub(crate) fn problem(line: usize, field: &str, message: Said) -> ImportProblem {
    ImportProblem {
        line,
        field: field.into(),
        message,
    }
}

/// A cell a rule of `gridmate_model::validate` refused.
pub(crate) fn invalid(line: usize, field: &str, e: &ValidationError) -> ImportProblem {
    ImportProblem {
        line,
        field: field.into(),
        message: Said::invalid(e),
    }
}

/// Text of a file as Excel writes it: strip a UTF-8 BOM; if it is not UTF-8, read it as GBK
/// (GB18030, its superset).
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

/// Every live record of one entity, decoded.
fn stored<T: serde::de::DeserializeOwned>(
    store: &impl Backend,
    entity: Entity,
) -> Result<Vec<T>, StoreError> {
    store
        .admin(|tx| tx.live_data(entity))?
        .iter()
        .map(|data| serde_json::from_str(data).map_err(|e| StoreError::Corrupt(e.to_string())))
        .collect()
}

/// Import a GeoJSON FeatureCollection of Polygon/MultiPolygon grids with properties `code`,
/// `name`, `kind` (resident/reserved/dedicated or 居民/预留/专属) and `community`. A grid whose
/// community and code exist already is updated in place. Returns how many grids were written.
pub fn import_grids(store: &impl Backend, text: &str) -> Result<usize, ImportError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        ImportError::Problems(vec![problem(
            e.line(),
            "json",
            Said::fill(Msg::ImportNotJSON, &[&e]),
        )])
    })?;
    if doc["type"] != "FeatureCollection" {
        return Err(ImportError::Problems(vec![problem(
            1,
            "type",
            Said::of(Msg::ImportExpectedAGeoJSON),
        )]));
    }
    let features = doc["features"].as_array().cloned().unwrap_or_default();
    let stored_grids: Vec<GridRecord> = stored(store, Entity::Grid)?;
    let existing: HashMap<(&str, &str), Uuid> = stored_grids
        .iter()
        .map(|g| ((g.community_name.as_str(), g.code.as_str()), g.id))
        .collect();
    let mut communities: HashMap<String, Uuid> = stored_grids
        .iter()
        .map(|g| (g.community_name.clone(), g.community_id))
        .collect();
    let mut problems = Vec::new();
    let mut grids = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let n = i + 1;
        let prop = |k: &str| {
            f["properties"][k]
                .as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let code = prop("code");
        let name = prop("name");
        let community = prop("community");
        for (field, v) in [("code", &code), ("name", &name), ("community", &community)] {
            if v.is_none() {
                problems.push(problem(n, field, Said::of(Msg::Required)));
            }
        }
        let kind = match prop("kind").as_deref() {
            None | Some("resident") | Some("居民") | Some("居民网格") => {
                Some(GridKind::Resident)
            }
            Some("reserved") | Some("预留") | Some("预留网格") => Some(GridKind::Reserved),
            Some("dedicated") | Some("专属") | Some("专属网格") => Some(GridKind::Dedicated),
            Some(other) => {
                problems.push(problem(
                    n,
                    "kind",
                    Said::fill(Msg::ImportUnknownGridKind, &[&format!("{:?}", other)]),
                ));
                None
            }
        };
        let geometry = &f["geometry"];
        let coords: Option<MultiPolygonCoords> = match geometry["type"].as_str() {
            Some("Polygon") => serde_json::from_value(geometry["coordinates"].clone())
                .ok()
                .map(|p| vec![p]),
            Some("MultiPolygon") => serde_json::from_value(geometry["coordinates"].clone()).ok(),
            other => {
                problems.push(problem(
                    n,
                    "geometry",
                    Said::fill(
                        Msg::ImportExpectedPolygonOrMultiPolygon,
                        &[&format!("{:?}", other)],
                    ),
                ));
                None
            }
        };
        let boundary = match coords.map(|c| boundary_to_geo(&c)) {
            Some(Ok(b)) => Some(b),
            Some(Err(e)) => {
                problems.push(problem(
                    n,
                    "geometry",
                    Said::fill(Msg::ImportUnusableBoundary, &[&e]),
                ));
                None
            }
            None if matches!(geometry["type"].as_str(), Some("Polygon" | "MultiPolygon")) => {
                problems.push(problem(
                    n,
                    "geometry",
                    Said::of(Msg::ImportCoordinatesAreNotLon),
                ));
                None
            }
            None => None,
        };
        if let (Some(code), Some(name), Some(community), Some(kind), Some(boundary)) =
            (code, name, community, kind, boundary)
        {
            grids.push((code, name, community, kind, boundary));
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Problems(problems));
    }
    let count = grids.len();
    store.admin(|tx| {
        for (code, name, community, kind, boundary) in grids {
            let community_id = *communities
                .entry(community.clone())
                .or_insert_with(Uuid::now_v7);
            let id = existing
                .get(&(community.as_str(), code.as_str()))
                .copied()
                .unwrap_or_else(Uuid::now_v7);
            let model = gridmate_model::Grid {
                id: id.into(),
                community_id: community_id.into(),
                code,
                name,
                kind,
                boundary,
            };
            let record = GridRecord::from_model(&model, &community);
            admin::put(
                tx,
                &PutRecord {
                    entity: Entity::Grid,
                    id,
                    grid_id: Some(id),
                    building_id: None,
                    owner_id: None,
                    data: serde_json::to_value(record).unwrap_or(Value::Null),
                },
            )?;
        }
        Ok(())
    })?;
    Ok(count)
}

/// The household spreadsheet's columns (Chinese headers, any order; * required):
/// 网格编码* 楼栋* 单元* 房号* 户主姓名* 地址 小区 标签 走访周期 户主电话
const REQUIRED: [&str; 5] = ["网格编码", "楼栋", "单元", "房号", "户主姓名"];

/// A tag as community ledgers write it (its Chinese name, with the common short forms), or its
/// code.
pub(crate) fn tag_from_label(label: &str) -> Option<HouseholdTag> {
    let tag = match label {
        "独居老人" | "独居" => HouseholdTag::ElderlyLivingAlone,
        "低保户" | "低保" => HouseholdTag::LowIncome,
        "残疾人" | "残疾" => HouseholdTag::Disabled,
        "留守儿童" => HouseholdTag::LeftBehindChild,
        "退役军人" => HouseholdTag::Veteran,
        "大病" => HouseholdTag::SeriousIllness,
        "出租户" | "出租" => HouseholdTag::Rental,
        "空置户" | "空置" => HouseholdTag::Vacant,
        "党员户" => HouseholdTag::PartyMemberHousehold,
        code => return HouseholdTag::from_code(code),
    };
    Some(tag)
}

/// Import households (and each head of household as a resident). Returns how many households.
pub fn import_households(store: &impl Backend, text: &str) -> Result<usize, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| {
            ImportError::Problems(vec![problem(
                1,
                "header",
                Said::fill(Msg::ImportUnreadableHeader, &[&e]),
            )])
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let missing: Vec<ImportProblem> = REQUIRED
        .iter()
        .filter(|h| col(h).is_none())
        .map(|h| problem(1, h, Said::of(Msg::ImportColumnMissing)))
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::Problems(missing));
    }
    let grid_records: Vec<GridRecord> = stored(store, Entity::Grid)?;
    let grids: HashMap<&str, &GridRecord> =
        grid_records.iter().map(|g| (g.code.as_str(), g)).collect();
    let buildings: HashMap<(Uuid, String), Uuid> =
        stored::<BuildingRecord>(store, Entity::Building)?
            .into_iter()
            .map(|b| ((b.grid_id, b.number), b.id))
            .collect();
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(problem(
                    line,
                    "row",
                    Said::fill(Msg::ImportUnreadableRow, &[&e]),
                ));
                continue;
            }
        };
        let get = |name: &str| {
            col(name)
                .and_then(|c| record.get(c))
                .map(str::trim)
                .unwrap_or("")
        };
        let mut row_problems = Vec::new();
        let grid = grids.get(get("网格编码")).map(|g| g.id);
        if grid.is_none() {
            row_problems.push(problem(
                line,
                "网格编码",
                Said::fill(
                    Msg::ImportNoGridWithCode,
                    &[&format!("{:?}", get("网格编码"))],
                ),
            ));
        }
        let building = get("楼栋").trim_end_matches(['栋', '幢', '座']).to_string();
        if building.is_empty() || building.chars().count() > 8 {
            row_problems.push(problem(
                line,
                "楼栋",
                Said::of(Msg::ImportOneToEightCharacters),
            ));
        }
        let unit = get("单元")
            .trim_end_matches("单元")
            .parse::<u16>()
            .ok()
            .filter(|u| (1..=99).contains(u));
        if unit.is_none() {
            row_problems.push(problem(line, "单元", Said::of(Msg::ImportUnitRange)));
        }
        let room = validate::room(get("房号").trim_end_matches('室'));
        if let Err(e) = &room {
            row_problems.push(invalid(line, "房号", e));
        }
        let head = validate::text("户主姓名", get("户主姓名"), validate::limits::NAME, true);
        if let Err(e) = &head {
            row_problems.push(invalid(line, "户主姓名", e));
        }
        let mut tags = Vec::new();
        for label in get("标签")
            .split(['、', ',', '，', ';', '；', ' '])
            .filter(|s| !s.is_empty())
        {
            match tag_from_label(label) {
                Some(t) => tags.push(t),
                None => row_problems.push(problem(
                    line,
                    "标签",
                    Said::fill(Msg::ImportUnknownTag, &[&format!("{:?}", label)]),
                )),
            }
        }
        let cadence = match get("走访周期") {
            "" => Some(gridmate_model::community::cadence_for(&tags)),
            s => s
                .trim_end_matches('天')
                .parse::<u16>()
                .ok()
                .filter(|d| (1..=365).contains(d)),
        };
        if cadence.is_none() {
            row_problems.push(problem(line, "走访周期", Said::of(Msg::ImportCadenceRange)));
        }
        let phone = match get("户主电话") {
            "" => Ok(None),
            p => validate::phone(p).map(Some),
        };
        if let Err(e) = &phone {
            row_problems.push(invalid(line, "户主电话", e));
        }
        if row_problems.is_empty() {
            let (grid, unit, room, head, cadence, phone) = (
                grid.unwrap_or_default(),
                unit.unwrap_or(1),
                room.unwrap_or_default(),
                head.unwrap_or_default(),
                cadence.unwrap_or(90),
                phone.unwrap_or(None),
            );
            if !seen.insert((grid, building.clone(), unit, room.clone())) {
                problems.push(problem(line, "房号", Said::of(Msg::ImportTheSameRoom)));
                continue;
            }
            let address = match get("地址") {
                "" => gridmate_model::community::household_address(
                    get("小区"),
                    &building,
                    unit,
                    &room,
                ),
                a => a.to_string(),
            };
            rows.push((
                grid,
                building.clone(),
                get("小区").to_string(),
                unit,
                room,
                head,
                tags,
                cadence,
                phone,
                address,
            ));
        }
        problems.extend(row_problems);
    }
    if !problems.is_empty() {
        return Err(ImportError::Problems(problems));
    }
    let count = rows.len();
    // New buildings start at their grid's centre until someone places them on the map.
    let grid_centres: HashMap<Uuid, (f64, f64)> = grid_records
        .iter()
        .map(|g| (g.id, grid_centre(g)))
        .collect();
    store.admin(|tx| {
        let mut new_buildings: HashMap<(Uuid, String), Uuid> = HashMap::new();
        for (grid, number, estate, unit, room, head, tags, cadence, phone, address) in rows {
            let building_id = match buildings.get(&(grid, number.clone())) {
                Some(id) => *id,
                None => match new_buildings.get(&(grid, number.clone())) {
                    Some(id) => *id,
                    None => {
                        let id = Uuid::now_v7();
                        let (lat, lon) = grid_centres.get(&grid).copied().unwrap_or_default();
                        let b = BuildingRecord {
                            id,
                            grid_id: grid,
                            number: number.clone(),
                            estate: estate.clone(),
                            units: unit,
                            floors: 1,
                            lat,
                            lon,
                        };
                        admin::put_new(
                            tx,
                            &PutRecord {
                                entity: Entity::Building,
                                id,
                                grid_id: Some(grid),
                                building_id: Some(id),
                                owner_id: None,
                                data: serde_json::to_value(b).unwrap_or(Value::Null),
                            },
                        )?;
                        new_buildings.insert((grid, number.clone()), id);
                        id
                    }
                },
            };
            let hid = Uuid::now_v7();
            let h = HouseholdRecord {
                id: hid,
                grid_id: grid,
                building_id,
                unit,
                room,
                address,
                head_name: head.clone(),
                tags: tags_to_codes(&tags),
                visit_cadence_days: cadence,
                last_visit_at: None,
            };
            admin::put_new(
                tx,
                &PutRecord {
                    entity: Entity::Household,
                    id: hid,
                    grid_id: Some(grid),
                    building_id: Some(building_id),
                    owner_id: None,
                    data: serde_json::to_value(h).unwrap_or(Value::Null),
                },
            )?;
            let rid = Uuid::now_v7();
            let r = ResidentRecord {
                moved_out: false,
                id: rid,
                household_id: hid,
                name: head,
                relation: "户主".into(),
                birth_year: None,
                phone_masked: phone.as_deref().map(validate::mask_phone),
                phone,
                id_number_masked: None,
                tags: vec![],
            };
            admin::put_new(
                tx,
                &PutRecord {
                    entity: Entity::Resident,
                    id: rid,
                    grid_id: Some(grid),
                    building_id: Some(building_id),
                    owner_id: None,
                    data: serde_json::to_value(r).unwrap_or(Value::Null),
                },
            )?;
        }
        Ok(())
    })?;
    Ok(count)
}

/// The mean of a grid's outer ring (lat, lon): where a new building waits until someone places
/// it on the map.
pub(crate) fn grid_centre(g: &GridRecord) -> (f64, f64) {
    let pts: Vec<[f64; 2]> = g
        .boundary
        .iter()
        .flat_map(|p| p[0].iter().copied())
        .collect();
    let n = pts.len().max(1) as f64;
    let lat = pts.iter().map(|p| p[1]).sum::<f64>() / n;
    let lon = pts.iter().map(|p| p[0]).sum::<f64>() / n;
    (lat, lon)
}

/// Overlaps between a community's grids and gaps enclosed by them, in square metres.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CoverageReport {
    pub community: String,
    pub grids: usize,
    pub total_m2: f64,
    /// (grid code, grid code, overlap m²)
    pub overlaps: Vec<(String, String, f64)>,
    /// Areas surrounded by grids that no grid covers, m² each.
    pub gaps_m2: Vec<f64>,
}

/// Slivers below this are rounding in the surveyed coordinates, not real gaps or overlaps.
const SLIVER_M2: f64 = 1.0;

pub fn coverage_check(store: &impl Backend) -> Result<Vec<CoverageReport>, StoreError> {
    let grids: Vec<GridRecord> = stored(store, Entity::Grid)?;
    let mut by_community: HashMap<String, Vec<(String, MultiPolygon<f64>)>> = HashMap::new();
    for g in grids {
        if let Ok(b) = boundary_to_geo(&g.boundary) {
            by_community
                .entry(g.community_name.clone())
                .or_default()
                .push((g.code.clone(), b));
        }
    }
    let mut reports: Vec<CoverageReport> = by_community
        .into_iter()
        .map(|(community, grids)| {
            let mut overlaps = Vec::new();
            for (i, (ca, a)) in grids.iter().enumerate() {
                for (cb, b) in &grids[i + 1..] {
                    let inter = a.intersection(b);
                    if inter.unsigned_area() > 0.0 {
                        let m2 = area_m2(&inter);
                        if m2 > SLIVER_M2 {
                            overlaps.push((ca.clone(), cb.clone(), m2));
                        }
                    }
                }
            }
            let union = grids
                .iter()
                .skip(1)
                .fold(grids[0].1.clone(), |acc, (_, g)| acc.union(g));
            let gaps_m2 = union
                .iter()
                .flat_map(|p| {
                    p.interiors().iter().map(|hole| {
                        area_m2(&MultiPolygon(vec![geo::Polygon::new(hole.clone(), vec![])]))
                    })
                })
                .filter(|a| *a > SLIVER_M2)
                .collect();
            CoverageReport {
                community,
                grids: grids.len(),
                total_m2: area_m2(&union),
                overlaps,
                gaps_m2,
            }
        })
        .collect();
    reports.sort_by(|a, b| a.community.cmp(&b.community));
    Ok(reports)
}
