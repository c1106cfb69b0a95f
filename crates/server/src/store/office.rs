//! What the office reads: the dispatch board's lists, one issue or order with its timeline, the
//! people of the community, and the statistics of a period — always within the caller's grids
//! (a grid leader's grids, the community office's community, the street's communities).
//!
//! The office never writes here. Its actions are mutations pushed through [`crate::apply`] like
//! any phone's (one write path, PROTOCOL.md "v1 additions"); people and devices change through
//! [`super::admin`].
//!
//! Records are read per entity and grid set ([`ReadTx::live_in_grids`]) and filtered here, in
//! Rust, so that both backends serve the same rules with one simple query. Derived facts —
//! *overdue*, *visited this period*, *vulnerable and overdue for a visit* — are computed at read
//! time and never stored.

use super::facts::{Tally, TallyQuery, next_visit_due, vulnerable};
use super::trigger_keys;
use super::{
    AssignmentRow, AuditRow, DeviceRow, MessageRow, Principal, ReadTx, Result, StoreError,
};
use chrono::{DateTime, Duration, Utc};
use gridmate_model::{IssueStatus, OrderStatus, Role};
use gridmate_protocol::Entity;
use gridmate_protocol::records::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// The most rows one page of a list gives.
pub const MAX_PAGE: u32 = 500;

fn parse<T: DeserializeOwned>(rows: Vec<String>) -> Result<Vec<T>> {
    rows.iter()
        .map(|d| serde_json::from_str(d).map_err(|e| StoreError::Corrupt(e.to_string())))
        .collect()
}

/// Every live record of one entity in these grids, typed.
pub fn records<T: DeserializeOwned>(
    tx: &mut dyn ReadTx,
    entity: Entity,
    grids: &[Uuid],
) -> Result<Vec<T>> {
    parse(tx.live_in_grids(entity, grids)?)
}

/// The grids a request may look at: the caller's, or the one it names if it is among them.
pub fn grids_for(p: &Principal, grid: Option<Uuid>) -> Result<Vec<Uuid>> {
    match grid {
        None => Ok(p.grids.clone()),
        Some(g) if p.grids.contains(&g) => Ok(vec![g]),
        Some(_) => Err(StoreError::Invalid("that grid is not yours".into())),
    }
}

/// Names the office shows instead of ids: grids, people, departments.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Names {
    pub grids: BTreeMap<Uuid, String>,
    pub people: HashMap<Uuid, String>,
    pub departments: BTreeMap<Uuid, String>,
}

impl Names {
    pub fn load(tx: &mut dyn ReadTx, p: &Principal) -> Result<Names> {
        let grids: Vec<GridRecord> = records(tx, Entity::Grid, &p.grids)?;
        let departments: Vec<DepartmentRecord> =
            records(tx, Entity::Department, &[super::scope::SHARED])?;
        Ok(Names {
            grids: grids.into_iter().map(|g| (g.id, g.name)).collect(),
            people: tx
                .people()?
                .into_iter()
                .map(|(u, _)| (u.id, u.name))
                .collect(),
            departments: departments.into_iter().map(|d| (d.id, d.name)).collect(),
        })
    }

    pub fn person(&self, id: Option<Uuid>) -> Option<String> {
        id.and_then(|i| self.people.get(&i).cloned())
    }

    pub fn grid(&self, id: Uuid) -> String {
        self.grids.get(&id).cloned().unwrap_or_default()
    }
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
pub struct Paging {
    pub limit: u32,
    pub offset: u32,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            limit: 50,
            offset: 0,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Page<T> {
    /// How many match the filter, over all pages.
    pub total: usize,
    pub offset: u32,
    pub items: Vec<T>,
}

fn page<T>(all: Vec<T>, paging: Paging) -> Result<Page<T>> {
    if paging.limit == 0 || paging.limit > MAX_PAGE {
        return Err(StoreError::Invalid(format!(
            "limit must be between 1 and {MAX_PAGE}"
        )));
    }
    let total = all.len();
    Ok(Page {
        total,
        offset: paging.offset,
        items: all
            .into_iter()
            .skip(paging.offset as usize)
            .take(paging.limit as usize)
            .collect(),
    })
}

/// What the dispatch board filters issues by; every field optional.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct IssueFilter {
    pub grid: Option<Uuid>,
    pub category: Option<String>,
    /// A status code, or `open` for every status still on someone's list.
    pub status: Option<String>,
    pub source: Option<String>,
    #[serde(default)]
    pub overdue: bool,
    #[serde(default)]
    pub unassigned: bool,
    /// Words in the title or description, the office's number (2026-000123) or the id's start.
    pub q: Option<String>,
}

/// An issue as the board lists it.
#[derive(Clone, Debug, Serialize)]
pub struct IssueRow {
    #[serde(flatten)]
    pub issue: IssueRecord,
    pub overdue: bool,
    pub grid_name: String,
    pub reporter_name: Option<String>,
    pub assignee_name: Option<String>,
    pub department_name: Option<String>,
}

fn issue_open(status: &str) -> bool {
    IssueStatus::from_code(status).is_some_and(IssueStatus::is_open)
}

fn order_open(status: &str) -> bool {
    OrderStatus::from_code(status).is_some_and(OrderStatus::is_open)
}

fn issue_overdue(i: &IssueRecord, now: DateTime<Utc>) -> bool {
    issue_open(&i.status) && i.due_at.is_some_and(|d| d < now)
}

fn order_overdue(o: &OrderRecord, now: DateTime<Utc>) -> bool {
    order_open(&o.status) && o.due_at < now
}

fn matches_words(q: &Option<String>, fields: &[&str]) -> bool {
    match q.as_deref().map(str::trim) {
        None | Some("") => true,
        Some(q) => fields.iter().any(|f| f.contains(q)),
    }
}

/// A name the words name: contained in it, or — words of Latin letters — the start of its
/// pinyin or its initials, as a phone keyboard types them.
fn name_matches(name: &str, q: &str) -> bool {
    if name.contains(q) {
        return true;
    }
    if !gridmate_model::search_keys::is_pinyin_query(q) {
        return false;
    }
    let q = q.to_ascii_lowercase();
    let (full, initials) = gridmate_model::search_keys::name_keys(name);
    full.starts_with(&q) || initials.starts_with(&q)
}

fn check_code(value: &Option<String>, known: impl Fn(&str) -> bool, what: &str) -> Result<()> {
    match value.as_deref() {
        Some(v) if !v.is_empty() && !known(v) => {
            Err(StoreError::Invalid(format!("unknown {what} {v:?}")))
        }
        _ => Ok(()),
    }
}

fn same(filter: &Option<String>, value: &str) -> bool {
    filter.as_deref().is_none_or(|f| f.is_empty() || f == value)
}

pub fn issues(
    tx: &mut dyn ReadTx,
    p: &Principal,
    f: &IssueFilter,
    paging: Paging,
    now: DateTime<Utc>,
) -> Result<Page<IssueRow>> {
    use gridmate_model::{IssueCategory, IssueSource};
    check_code(
        &f.category,
        |c| IssueCategory::from_code(c).is_some(),
        "category",
    )?;
    check_code(
        &f.status,
        |c| c == "open" || IssueStatus::from_code(c).is_some(),
        "status",
    )?;
    check_code(&f.source, |c| IssueSource::from_code(c).is_some(), "source")?;
    let grids = grids_for(p, f.grid)?;
    let names = Names::load(tx, p)?;
    // Only the issues of the statuses asked for are read and parsed: on the board that is the
    // open ones, a small part of a year's.
    let open: Vec<&str> = IssueStatus::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(IssueStatus::code)
        .collect();
    let mut all: Vec<IssueRecord> = match f.status.as_deref().filter(|s| !s.is_empty()) {
        Some("open") => parse(tx.live_with_status(Entity::Issue, &grids, &open)?)?,
        Some(status) => parse(tx.live_with_status(Entity::Issue, &grids, &[status])?)?,
        None if f.overdue || f.unassigned => {
            parse(tx.live_with_status(Entity::Issue, &grids, &open)?)?
        }
        None => records(tx, Entity::Issue, &grids)?,
    };
    all.retain(|i| {
        same(&f.category, &i.category)
            && match f.status.as_deref() {
                Some("open") => issue_open(&i.status),
                other => same(&other.map(str::to_string), &i.status),
            }
            && same(&f.source, &i.source)
            && (!f.overdue || issue_overdue(i, now))
            && (!f.unassigned || (i.assignee_id.is_none() && issue_open(&i.status)))
            && matches_words(
                &f.q,
                &[
                    &i.title,
                    &i.description,
                    i.number.as_deref().unwrap_or_default(),
                    &i.id.to_string(),
                ],
            )
    });
    // Overdue first, then the soonest due, then the newest.
    all.sort_by(|a, b| {
        issue_overdue(b, now)
            .cmp(&issue_overdue(a, now))
            .then(
                a.due_at
                    .unwrap_or(DateTime::<Utc>::MAX_UTC)
                    .cmp(&b.due_at.unwrap_or(DateTime::<Utc>::MAX_UTC)),
            )
            .then(b.reported_at.cmp(&a.reported_at))
    });
    let rows = all.into_iter().map(|i| issue_row(i, &names, now)).collect();
    page(rows, paging)
}

fn issue_row(i: IssueRecord, names: &Names, now: DateTime<Utc>) -> IssueRow {
    IssueRow {
        overdue: issue_overdue(&i, now),
        grid_name: names.grid(i.grid_id),
        reporter_name: names.person(Some(i.reported_by)),
        assignee_name: names.person(i.assignee_id),
        department_name: i
            .department_id
            .and_then(|d| names.departments.get(&d).cloned()),
        issue: i,
    }
}

/// One issue in full: the row, its timeline, and the open issues near it (the candidates when
/// the office rules it a duplicate).
#[derive(Clone, Debug, Serialize)]
pub struct IssueDetail {
    pub issue: IssueRow,
    pub events: Vec<IssueEventRow>,
    pub nearby: Vec<IssueRow>,
    /// The issue's grid, to draw where it is.
    pub place: PlaceMap,
}

/// A grid as the console draws it around one place: its outline, its base map's footprints,
/// roads, water and green when the office imported one, and its buildings. Coordinates
/// `[lon, lat]`, WGS-84.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PlaceMap {
    pub outline: Vec<Vec<[f64; 2]>>,
    pub footprints: Vec<Vec<[f64; 2]>>,
    pub roads: Vec<Vec<[f64; 2]>>,
    pub water: Vec<Vec<[f64; 2]>>,
    pub green: Vec<Vec<[f64; 2]>>,
    /// (id, label, lon, lat).
    pub buildings: Vec<(Uuid, String, f64, f64)>,
}

impl PlaceMap {
    pub(crate) fn of_grid(tx: &mut dyn ReadTx, grid: Uuid) -> Result<PlaceMap> {
        let maps: Vec<BaseMapRecord> = records(tx, Entity::BaseMap, &[grid])?;
        PlaceMap::drawn_with(tx, grid, maps.iter())
    }

    /// The grid drawn with `map` in place of the base map it has: what an import would show.
    pub fn with_base_map(tx: &mut dyn ReadTx, grid: Uuid, map: &BaseMapRecord) -> Result<PlaceMap> {
        PlaceMap::drawn_with(tx, grid, std::iter::once(map))
    }

    fn drawn_with<'a>(
        tx: &mut dyn ReadTx,
        grid: Uuid,
        maps: impl Iterator<Item = &'a BaseMapRecord>,
    ) -> Result<PlaceMap> {
        let grids: Vec<GridRecord> = records(tx, Entity::Grid, &[grid])?;
        let buildings: Vec<BuildingRecord> = records(tx, Entity::Building, &[grid])?;
        let mut place = PlaceMap {
            outline: grids
                .into_iter()
                .flat_map(|g| g.boundary.into_iter().filter_map(|p| p.into_iter().next()))
                .collect(),
            buildings: buildings
                .into_iter()
                .map(|b| (b.id, format!("{}栋", b.number), b.lon, b.lat))
                .collect(),
            ..PlaceMap::default()
        };
        for f in maps.flat_map(|m| &m.features) {
            let outer = || f.polygons.iter().filter_map(|p| p.first().cloned());
            match f.kind.as_str() {
                "building" => place.footprints.extend(outer()),
                "water" => place.water.extend(outer()),
                "green" => place.green.extend(outer()),
                "road" => place.roads.extend(f.lines.iter().cloned()),
                _ => {}
            }
        }
        Ok(place)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct IssueEventRow {
    #[serde(flatten)]
    pub event: IssueEventRecord,
    pub actor_name: Option<String>,
}

/// Issues this close, or in the same building, are offered as what this one may duplicate.
pub const NEARBY_M: f64 = 300.0;

pub fn issue(
    tx: &mut dyn ReadTx,
    p: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<IssueDetail>> {
    let Some(stored) = tx.record(Entity::Issue, id)? else {
        return Ok(None);
    };
    if stored.deleted || !stored.grid_id.is_some_and(|g| p.grids.contains(&g)) {
        return Ok(None);
    }
    let issue: IssueRecord =
        serde_json::from_value(stored.data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut names = Names::load(tx, p)?;
    let grid = [issue.grid_id];
    let mut events: Vec<IssueEventRecord> = records(tx, Entity::IssueEvent, &grid)?;
    events.retain(|e| e.issue_id == id);
    // A resident who reported it is named by their masked number (the office calls them back
    // from the roll, never from this page).
    if issue.source == gridmate_model::IssueSource::Resident.code()
        && let Some(a) = tx.resident_account(issue.reported_by)?
    {
        names
            .people
            .insert(a.id, gridmate_model::validate::mask_phone(&a.phone));
    }
    events.sort_by_key(|e| e.at);
    let mut nearby: Vec<IssueRecord> = records(tx, Entity::Issue, &grid)?;
    nearby.retain(|o| {
        o.id != id
            && issue_open(&o.status)
            && ((o.building_id.is_some() && o.building_id == issue.building_id)
                || match (o.location, issue.location) {
                    (Some(a), Some(b)) => {
                        gridmate_model::geo_rules::haversine_m(a.lat, a.lon, b.lat, b.lon)
                            <= NEARBY_M
                    }
                    _ => false,
                })
    });
    nearby.sort_by_key(|o| std::cmp::Reverse(o.reported_at));
    nearby.truncate(20);
    let place = PlaceMap::of_grid(tx, issue.grid_id)?;
    Ok(Some(IssueDetail {
        place,
        events: events
            .into_iter()
            .map(|e| IssueEventRow {
                actor_name: names.person(Some(e.actor_id)),
                event: e,
            })
            .collect(),
        nearby: nearby
            .into_iter()
            .map(|o| issue_row(o, &names, now))
            .collect(),
        issue: issue_row(issue, &names, now),
    }))
}

/// The household of `grid` at a room as people say it ("12-2-301", "12栋2单元301室"): how the
/// office links a request taken by phone or at the desk to its household. `None` when the text
/// names no room or no household of the grid lives there.
pub fn household_at(
    tx: &mut dyn ReadTx,
    p: &Principal,
    grid: Uuid,
    room: &str,
) -> Result<Option<Uuid>> {
    let grids = grids_for(p, Some(grid))?;
    let Some(a) = gridmate_model::address::parse(room) else {
        return Ok(None);
    };
    let (Some(unit), Some(room)) = (a.unit, a.room) else {
        return Ok(None);
    };
    let buildings: Vec<BuildingRecord> = records(tx, Entity::Building, &grids)?;
    let here: HashSet<Uuid> = buildings
        .into_iter()
        .filter(|b| b.number == a.building)
        .map(|b| b.id)
        .collect();
    let households: Vec<HouseholdRecord> = records(tx, Entity::Household, &grids)?;
    Ok(households
        .into_iter()
        .find(|h| here.contains(&h.building_id) && h.unit == unit && h.room == room)
        .map(|h| h.id))
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct OrderFilter {
    pub grid: Option<Uuid>,
    pub kind: Option<String>,
    /// A status code, or `open`.
    pub status: Option<String>,
    #[serde(default)]
    pub overdue: bool,
    /// Posted and sent to nobody yet.
    #[serde(default)]
    pub unassigned: bool,
    pub q: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct OrderRow {
    #[serde(flatten)]
    pub order: OrderRecord,
    pub overdue: bool,
    pub grid_name: String,
    pub assignee_name: Option<String>,
    pub taker_name: Option<String>,
}

pub fn orders(
    tx: &mut dyn ReadTx,
    p: &Principal,
    f: &OrderFilter,
    paging: Paging,
    now: DateTime<Utc>,
) -> Result<Page<OrderRow>> {
    use gridmate_model::OrderKind;
    check_code(&f.kind, |c| OrderKind::from_code(c).is_some(), "kind")?;
    check_code(
        &f.status,
        |c| c == "open" || OrderStatus::from_code(c).is_some(),
        "status",
    )?;
    let grids = grids_for(p, f.grid)?;
    let names = Names::load(tx, p)?;
    let mut all: Vec<OrderRecord> = records(tx, Entity::Order, &grids)?;
    all.retain(|o| {
        same(&f.kind, &o.kind)
            && match f.status.as_deref() {
                Some("open") => order_open(&o.status),
                other => same(&other.map(str::to_string), &o.status),
            }
            && (!f.overdue || order_overdue(o, now))
            && (!f.unassigned || o.status == OrderStatus::Posted.code())
            && matches_words(
                &f.q,
                &[
                    &o.title,
                    &o.description,
                    &o.requester,
                    &o.address,
                    o.number.as_deref().unwrap_or_default(),
                ],
            )
    });
    all.sort_by(|a, b| {
        order_overdue(b, now)
            .cmp(&order_overdue(a, now))
            .then(a.due_at.cmp(&b.due_at))
    });
    let rows = all.into_iter().map(|o| order_row(o, &names, now)).collect();
    page(rows, paging)
}

fn order_row(o: OrderRecord, names: &Names, now: DateTime<Utc>) -> OrderRow {
    OrderRow {
        overdue: order_overdue(&o, now),
        grid_name: names.grid(o.grid_id),
        assignee_name: names.person(o.assignee_id),
        taker_name: names.person(o.taker_id),
        order: o,
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct OrderDetail {
    pub order: OrderRow,
    pub events: Vec<OrderEventRecord>,
    /// The grid's party members, to dispatch to.
    pub members: Vec<Person>,
}

pub fn order(
    tx: &mut dyn ReadTx,
    p: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<OrderDetail>> {
    let Some(stored) = tx.record(Entity::Order, id)? else {
        return Ok(None);
    };
    if stored.deleted || !stored.grid_id.is_some_and(|g| p.grids.contains(&g)) {
        return Ok(None);
    }
    let order: OrderRecord =
        serde_json::from_value(stored.data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let names = Names::load(tx, p)?;
    let mut events: Vec<OrderEventRecord> = records(tx, Entity::OrderEvent, &[order.grid_id])?;
    events.retain(|e| e.order_id == id);
    events.sort_by_key(|e| e.at);
    let members = people(tx, p, Some(order.grid_id))?
        .into_iter()
        .filter(|m| m.roles.contains(&Role::PartyMember.code().to_string()))
        .collect();
    Ok(Some(OrderDetail {
        order: order_row(order, &names, now),
        events,
        members,
    }))
}

/// A person of the caller's grids, their phone masked.
#[derive(Clone, Debug, Serialize)]
pub struct Person {
    pub id: Uuid,
    pub name: String,
    pub phone_masked: String,
    pub roles: Vec<String>,
    pub grids: Vec<Uuid>,
    pub buildings: Vec<Uuid>,
}

/// Everyone assigned to a grid the caller looks after (or to `grid` alone).
pub fn people(tx: &mut dyn ReadTx, p: &Principal, grid: Option<Uuid>) -> Result<Vec<Person>> {
    let grids: HashSet<Uuid> = grids_for(p, grid)?.into_iter().collect();
    Ok(tx
        .people()?
        .into_iter()
        .filter(|(_, a)| a.iter().any(|a| in_grids(a, &grids)))
        .map(|(u, a)| Person {
            id: u.id,
            name: u.name,
            phone_masked: gridmate_model::validate::mask_phone(&u.phone),
            roles: u.roles.iter().map(|r| r.code().to_string()).collect(),
            grids: a.iter().filter_map(|a| a.grid_id).collect(),
            buildings: a.iter().filter_map(|a| a.building_id).collect(),
        })
        .collect())
}

fn in_grids(a: &AssignmentRow, grids: &HashSet<Uuid>) -> bool {
    a.grid_id.is_some_and(|g| grids.contains(&g))
}

/// A person's devices, if the person is one of the caller's.
pub fn devices(tx: &mut dyn ReadTx, p: &Principal, user: Uuid) -> Result<Option<Vec<DeviceRow>>> {
    if !people(tx, p, None)?.iter().any(|m| m.id == user) {
        return Ok(None);
    }
    tx.devices_of(user).map(Some)
}

pub fn audit(tx: &mut dyn ReadTx, limit: u32) -> Result<Vec<AuditRow>> {
    tx.audit_log(limit.min(MAX_PAGE))
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct HouseholdFilter {
    pub grid: Option<Uuid>,
    pub building: Option<Uuid>,
    /// Only households with a vulnerable tag.
    #[serde(default)]
    pub vulnerable: bool,
    /// Only households whose visit is overdue by their cadence.
    #[serde(default)]
    pub visit_overdue: bool,
    /// Only households on this month's list not yet visited (本月未走访): due by their cadence
    /// before the month ends (China time), and not visited since the first.
    #[serde(default)]
    pub unvisited_this_month: bool,
    /// Words of the address or the head's name, or any resident's name — as written, or its
    /// pinyin or initials ("zhang", "zs").
    pub q: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct HouseholdRow {
    #[serde(flatten)]
    pub household: HouseholdRecord,
    pub grid_name: String,
    pub vulnerable: bool,
    pub visit_overdue: bool,
}

fn visit_overdue(h: &HouseholdRecord, now: DateTime<Utc>) -> bool {
    next_visit_due(h).is_none_or(|due| due < now)
}

pub fn households(
    tx: &mut dyn ReadTx,
    p: &Principal,
    f: &HouseholdFilter,
    paging: Paging,
    now: DateTime<Utc>,
) -> Result<Page<HouseholdRow>> {
    let grids = grids_for(p, f.grid)?;
    let names = Names::load(tx, p)?;
    let mut all: Vec<HouseholdRecord> = records(tx, Entity::Household, &grids)?;
    let query = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    // The households one of whose people the words name.
    let named: HashSet<Uuid> = match query {
        None => HashSet::new(),
        Some(q) => records::<ResidentRecord>(tx, Entity::Resident, &grids)?
            .into_iter()
            .filter(|r| name_matches(&r.name, q))
            .map(|r| r.household_id)
            .collect(),
    };
    all.retain(|h| {
        f.building.is_none_or(|b| h.building_id == b)
            && (!f.vulnerable || vulnerable(h))
            && (!f.visit_overdue || visit_overdue(h, now))
            && (!f.unvisited_this_month
                || (super::facts::due_this_month(h, now)
                    && !super::facts::visited_this_month(h, now)))
            && query.is_none_or(|q| {
                h.address.contains(q) || name_matches(&h.head_name, q) || named.contains(&h.id)
            })
    });
    all.sort_by(|a, b| a.address.cmp(&b.address));
    let rows = all
        .into_iter()
        .map(|h| HouseholdRow {
            grid_name: names.grid(h.grid_id),
            vulnerable: vulnerable(&h),
            visit_overdue: visit_overdue(&h, now),
            household: h,
        })
        .collect();
    page(rows, paging)
}

/// A half-open period `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Period {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Period> {
        if to <= from {
            return Err(StoreError::Invalid(
                "the period ends before it starts".into(),
            ));
        }
        if to - from > Duration::days(3660) {
            return Err(StoreError::Invalid("a period is at most ten years".into()));
        }
        Ok(Period { from, to })
    }

    pub fn holds(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }
}

/// The figures of one grid, or one person, for a period.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Figures {
    pub households: u64,
    /// Households the period asked a visit of (应访): visited in it, or overdue now by their
    /// cadence — per building at most its households. Coverage is `visited / due`: a household
    /// visited every quarter is not missing from a month's coverage.
    pub due: u64,
    /// Households visited at least once in the period.
    pub visited: u64,
    pub visits: u64,
    /// Vulnerable households whose visit is overdue now.
    pub vulnerable_overdue: u64,
    pub issues_reported: u64,
    pub issues_open: u64,
    pub issues_overdue: u64,
    pub issues_closed: u64,
    /// Residents' ratings of their reports in the period: satisfied or mostly (`rate`), and
    /// not satisfied (`send_back`, which reopened them).
    pub issues_rated: u64,
    pub issues_sent_back: u64,
    pub issues_by_category: BTreeMap<String, u64>,
    pub issues_by_status: BTreeMap<String, u64>,
    pub orders: u64,
    pub orders_open: u64,
    pub orders_overdue: u64,
    pub orders_by_status: BTreeMap<String, u64>,
    pub satisfaction: BTreeMap<String, u64>,
    pub service_hours: f64,
    pub checkins: u64,
    pub callups: u64,
    /// People called (per call-up, per person) and how many answered coming or arrived.
    pub callup_called: u64,
    pub callup_coming: u64,
    pub callup_arrived: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct GridFigures {
    pub grid_id: Uuid,
    pub grid_name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Clone, Debug, Serialize)]
pub struct PersonFigures {
    pub user_id: Uuid,
    pub name: String,
    pub roles: Vec<String>,
    pub visits: u64,
    pub issues_reported: u64,
    /// Issues this person resolved or closed in the period.
    pub issues_handled: u64,
    pub orders_done: u64,
    pub service_hours: f64,
    pub checkins: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    pub period: Period,
    /// Grid outlines and buildings coloured by the period's coverage.
    pub map: CoverageMap,
    pub total: Figures,
    pub grids: Vec<GridFigures>,
    pub people: Vec<PersonFigures>,
}

/// The statistics of a period over the caller's grids (or one of them), counted from the
/// records' facts ([`super::facts`]): no record is parsed but the few call-ups.
pub fn stats(
    tx: &mut dyn ReadTx,
    p: &Principal,
    grid: Option<Uuid>,
    period: Period,
    now: DateTime<Utc>,
) -> Result<Stats> {
    let grids = grids_for(p, grid)?;
    let names = Names::load(tx, p)?;
    let now_tally = |tx: &mut dyn ReadTx, e| tx.tally(&TallyQuery::all(e, &grids, now));
    let households =
        tx.tally(&TallyQuery::all(Entity::Household, &grids, now).seen_since(period.from))?;
    let issues_now = now_tally(tx, Entity::Issue)?;
    let orders_now = now_tally(tx, Entity::Order)?;
    let in_period = |tx: &mut dyn ReadTx, e| {
        tx.tally(&TallyQuery::between(e, &grids, period.from, period.to, now))
    };
    let visits = PeriodVisits::count(tx, &grids, period, now, &households)?;
    let issues_reported = in_period(tx, Entity::Issue)?;
    let events = in_period(tx, Entity::IssueEvent)?;
    let orders_recorded = in_period(tx, Entity::Order)?;
    let order_events = in_period(tx, Entity::OrderEvent)?;
    let service = in_period(tx, Entity::ServiceRecord)?;
    let checkins = in_period(tx, Entity::Checkin)?;
    let callups: Vec<CallupRecord> = records(tx, Entity::Callup, &grids)?;
    let answers: Vec<CallupResponseRecord> = records(tx, Entity::CallupResponse, &grids)?;
    let people_rows = people(tx, p, grid)?;
    let map = coverage_map(
        records(tx, Entity::Grid, &grids)?,
        records(tx, Entity::Building, &grids)?,
        &households,
        &visits.by_building,
    );

    let mut by_grid: BTreeMap<Uuid, Figures> =
        grids.iter().map(|g| (*g, Figures::default())).collect();
    let unmerged = |t: &Tally, actions: &[&str]| {
        t.status.is_none() && t.kind.as_deref().is_some_and(|k| actions.contains(&k))
    };
    for t in &households {
        let f = by_grid.entry(t.grid_id).or_default();
        f.households += t.count;
        if t.kind.as_deref() == Some("vulnerable") {
            f.vulnerable_overdue += t.late;
        }
    }
    for ((g, _), n) in &visits.made {
        by_grid.entry(*g).or_default().visits += n;
    }
    for (g, n) in &visits.by_grid {
        by_grid.entry(*g).or_default().visited += n;
    }
    for b in &map.buildings {
        by_grid.entry(b.grid_id).or_default().due += u64::from(b.due);
    }
    for t in &issues_now {
        let f = by_grid.entry(t.grid_id).or_default();
        if t.status.as_deref().is_some_and(issue_open) {
            f.issues_open += t.count;
            f.issues_overdue += t.late;
        }
    }
    for t in &issues_reported {
        let f = by_grid.entry(t.grid_id).or_default();
        f.issues_reported += t.count;
        *f.issues_by_category
            .entry(t.kind.clone().unwrap_or_default())
            .or_default() += t.count;
        *f.issues_by_status
            .entry(t.status.clone().unwrap_or_default())
            .or_default() += t.count;
    }
    for t in events.iter().filter(|t| unmerged(t, &["close"])) {
        by_grid.entry(t.grid_id).or_default().issues_closed += t.count;
    }
    for t in events.iter().filter(|t| unmerged(t, &["rate"])) {
        by_grid.entry(t.grid_id).or_default().issues_rated += t.count;
    }
    for t in events.iter().filter(|t| unmerged(t, &["send_back"])) {
        by_grid.entry(t.grid_id).or_default().issues_sent_back += t.count;
    }
    for t in &orders_now {
        let f = by_grid.entry(t.grid_id).or_default();
        if t.status.as_deref().is_some_and(order_open) {
            f.orders_open += t.count;
            f.orders_overdue += t.late;
        }
    }
    for t in &orders_recorded {
        let f = by_grid.entry(t.grid_id).or_default();
        f.orders += t.count;
        *f.orders_by_status
            .entry(t.status.clone().unwrap_or_default())
            .or_default() += t.count;
        if let Some(s) = &t.kind {
            *f.satisfaction.entry(s.clone()).or_default() += t.count;
        }
    }
    for t in &service {
        by_grid.entry(t.grid_id).or_default().service_hours += t.amount;
    }
    for t in &checkins {
        by_grid.entry(t.grid_id).or_default().checkins += t.count;
    }
    // The latest answer per person counts; arrivals count as coming.
    let mut latest: HashMap<(Uuid, Uuid), &CallupResponseRecord> = HashMap::new();
    for a in &answers {
        let key = (a.callup_id, a.user_id);
        if latest.get(&key).is_none_or(|b| b.at <= a.at) {
            latest.insert(key, a);
        }
    }
    for c in callups.iter().filter(|c| period.holds(c.at)) {
        let f = by_grid.entry(c.grid_id).or_default();
        f.callups += 1;
        f.callup_called += people_rows
            .iter()
            .filter(|m| {
                m.grids.contains(&c.grid_id)
                    && (c.roles.is_empty() || m.roles.iter().any(|r| c.roles.contains(r)))
            })
            .count() as u64;
        for a in latest.values().filter(|a| a.callup_id == c.id) {
            match a.answer.as_str() {
                "coming" => f.callup_coming += 1,
                "arrived" => {
                    f.callup_coming += 1;
                    f.callup_arrived += 1;
                }
                _ => {}
            }
        }
    }

    let mut total = Figures::default();
    for f in by_grid.values() {
        add_figures(&mut total, f);
    }

    let mut per_person: HashMap<Uuid, PersonFigures> = people_rows
        .iter()
        .map(|m| {
            (
                m.id,
                PersonFigures {
                    user_id: m.id,
                    name: m.name.clone(),
                    roles: m.roles.clone(),
                    visits: 0,
                    issues_reported: 0,
                    issues_handled: 0,
                    orders_done: 0,
                    service_hours: 0.0,
                    checkins: 0,
                },
            )
        })
        .collect();
    for ((_, person), n) in &visits.made {
        if let Some(f) = per_person.get_mut(person) {
            f.visits += n;
        }
    }
    let mut credit = |t: &Tally, add: &dyn Fn(&mut PersonFigures, &Tally)| {
        if let Some(f) = t.actor_id.and_then(|a| per_person.get_mut(&a)) {
            add(f, t);
        }
    };
    for t in &issues_reported {
        credit(t, &|f, t| f.issues_reported += t.count);
    }
    for t in events
        .iter()
        .filter(|t| unmerged(t, &["resolve", "resolve_on_spot", "close"]))
    {
        credit(t, &|f, t| f.issues_handled += t.count);
    }
    for t in order_events.iter().filter(|t| unmerged(t, &["done"])) {
        credit(t, &|f, t| f.orders_done += t.count);
    }
    for t in &service {
        credit(t, &|f, t| f.service_hours += t.amount);
    }
    for t in &checkins {
        credit(t, &|f, t| f.checkins += t.count);
    }
    let mut people_figures: Vec<PersonFigures> = per_person.into_values().collect();
    people_figures.sort_by(|a, b| a.name.cmp(&b.name));

    Ok(Stats {
        period,
        map,
        total,
        grids: by_grid
            .into_iter()
            .map(|(g, figures)| GridFigures {
                grid_id: g,
                grid_name: names.grid(g),
                figures,
            })
            .collect(),
        people: people_figures,
    })
}

fn add_figures(total: &mut Figures, f: &Figures) {
    total.households += f.households;
    total.due += f.due;
    total.visited += f.visited;
    total.visits += f.visits;
    total.vulnerable_overdue += f.vulnerable_overdue;
    total.issues_reported += f.issues_reported;
    total.issues_open += f.issues_open;
    total.issues_overdue += f.issues_overdue;
    total.issues_closed += f.issues_closed;
    total.issues_rated += f.issues_rated;
    total.issues_sent_back += f.issues_sent_back;
    for (k, v) in &f.issues_by_category {
        *total.issues_by_category.entry(k.clone()).or_default() += v;
    }
    for (k, v) in &f.issues_by_status {
        *total.issues_by_status.entry(k.clone()).or_default() += v;
    }
    total.orders += f.orders;
    total.orders_open += f.orders_open;
    total.orders_overdue += f.orders_overdue;
    for (k, v) in &f.orders_by_status {
        *total.orders_by_status.entry(k.clone()).or_default() += v;
    }
    for (k, v) in &f.satisfaction {
        *total.satisfaction.entry(k.clone()).or_default() += v;
    }
    total.service_hours += f.service_hours;
    total.checkins += f.checkins;
    total.callups += f.callups;
    total.callup_called += f.callup_called;
    total.callup_coming += f.callup_coming;
    total.callup_arrived += f.callup_arrived;
}

/// A call-up with who was called and how each answered (their latest answer counts).
#[derive(Clone, Debug, Serialize)]
pub struct CallupRow {
    #[serde(flatten)]
    pub callup: CallupRecord,
    pub grid_name: String,
    pub answers: Vec<CallupAnswerRow>,
    /// Called people who have not answered.
    pub silent: Vec<CalledPerson>,
    /// How each person the call-up texted was reached: the call's SMS and, for those silent
    /// after its `recall_after_minutes`, the second one.
    pub texts: Vec<CallupText>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CalledPerson {
    pub user_id: Uuid,
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CallupText {
    pub user_id: Uuid,
    /// The call's text: queued, sending, sent, delivered, failed or skipped.
    pub state: String,
    /// The provider's words when it failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub words: Option<String>,
    /// The second text to the silent, once queued: its state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recall: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CallupAnswerRow {
    pub user_id: Uuid,
    pub name: String,
    pub answer: String,
    pub at: DateTime<Utc>,
    /// For an arrival: metres from the meeting point, as the server measured it.
    pub distance_m: Option<f64>,
}

/// The call-ups of the caller's grids, open ones first, newest first.
pub fn callups(tx: &mut dyn ReadTx, p: &Principal) -> Result<Vec<CallupRow>> {
    let names = Names::load(tx, p)?;
    let mut all: Vec<CallupRecord> = records(tx, Entity::Callup, &p.grids)?;
    let answers: Vec<CallupResponseRecord> = records(tx, Entity::CallupResponse, &p.grids)?;
    let people = people(tx, p, None)?;
    all.sort_by_key(|c| (c.closed_at.is_some(), std::cmp::Reverse(c.at)));
    all.into_iter()
        .map(|c| {
            let mut latest: HashMap<Uuid, &CallupResponseRecord> = HashMap::new();
            for a in answers.iter().filter(|a| a.callup_id == c.id) {
                if latest.get(&a.user_id).is_none_or(|b| b.at <= a.at) {
                    latest.insert(a.user_id, a);
                }
            }
            let mut rows: Vec<CallupAnswerRow> = latest
                .values()
                .map(|a| CallupAnswerRow {
                    user_id: a.user_id,
                    name: names.person(Some(a.user_id)).unwrap_or_default(),
                    answer: a.answer.clone(),
                    at: a.at,
                    distance_m: a.distance_m,
                })
                .collect();
            rows.sort_by(|a, b| a.name.cmp(&b.name));
            let silent = people
                .iter()
                // Called as `apply::notices` calls: not the caller, not the street's
                // read-only accounts.
                .filter(|m| {
                    m.grids.contains(&c.grid_id)
                        && m.id != c.created_by
                        && m.roles.iter().any(|r| {
                            r != Role::StreetViewer.code()
                                && (c.roles.is_empty() || c.roles.contains(r))
                        })
                        && !latest.contains_key(&m.id)
                })
                .map(|m| CalledPerson {
                    user_id: m.id,
                    name: m.name.clone(),
                })
                .collect();
            CallupRow {
                grid_name: names.grid(c.grid_id),
                answers: rows,
                silent,
                texts: Vec::new(),
                callup: c,
            }
        })
        .map(|mut row| {
            row.texts = texts(tx, &row.callup, &people)?;
            Ok(row)
        })
        .collect()
}

/// The call-up's texts to each of `people`, by the trigger keys `apply::notices` and
/// `apply::sweep` give them.
fn texts(tx: &mut dyn ReadTx, c: &CallupRecord, people: &[Person]) -> Result<Vec<CallupText>> {
    let called: Vec<Uuid> = people
        .iter()
        .filter(|m| m.grids.contains(&c.grid_id))
        .map(|m| m.id)
        .collect();
    let keys: Vec<String> = called
        .iter()
        .flat_map(|&m| {
            [
                trigger_keys::callup(c.id, m),
                trigger_keys::callup_recall(c.id, m),
            ]
        })
        .collect();
    let messages: HashMap<String, MessageRow> = tx
        .messages_keyed(&keys)?
        .into_iter()
        .map(|m| (m.trigger_key.clone(), m))
        .collect();
    let mut texts: Vec<CallupText> = called
        .iter()
        .filter_map(|&m| {
            let first = messages.get(&trigger_keys::callup(c.id, m))?;
            Some(CallupText {
                user_id: m,
                state: first.state.code().to_string(),
                words: first.words.clone(),
                recall: messages
                    .get(&trigger_keys::callup_recall(c.id, m))
                    .map(|r| r.state.code().to_string()),
            })
        })
        .collect();
    texts.sort_by_key(|t| t.user_id);
    Ok(texts)
}

/// The community's departments, by name.
pub fn departments(tx: &mut dyn ReadTx) -> Result<Vec<DepartmentRecord>> {
    let mut all: Vec<DepartmentRecord> = records(tx, Entity::Department, &[super::scope::SHARED])?;
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

/// The community drawn for the statistics: grid outlines, and each building with how many of its
/// households were visited in the period.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CoverageMap {
    /// (grid name, outer rings as `[lon, lat]`).
    pub grids: Vec<(String, Vec<Vec<[f64; 2]>>)>,
    pub buildings: Vec<BuildingCoverage>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BuildingCoverage {
    pub grid_id: Uuid,
    pub label: String,
    pub lat: f64,
    pub lon: f64,
    pub households: u32,
    /// Visited in the period, or overdue now (at most `households`).
    pub due: u32,
    pub visited: u32,
}

/// The map from the period's tallies: households per building, those overdue now, and the
/// households visited in the period per building.
fn coverage_map(
    outlines: Vec<GridRecord>,
    buildings: Vec<BuildingRecord>,
    households: &[Tally],
    visited: &HashMap<Uuid, u64>,
) -> CoverageMap {
    // (households, overdue now, visited in the period)
    let mut per_building: HashMap<Uuid, (u32, u32, u32)> = HashMap::new();
    for t in households {
        if let Some(b) = t.building_id {
            let e = per_building.entry(b).or_default();
            e.0 += t.count as u32;
            e.1 += t.late as u32;
        }
    }
    for (b, n) in visited {
        per_building.entry(*b).or_default().2 += *n as u32;
    }
    CoverageMap {
        grids: outlines
            .into_iter()
            .map(|g| {
                (
                    g.name,
                    g.boundary
                        .into_iter()
                        .filter_map(|p| p.into_iter().next())
                        .collect(),
                )
            })
            .collect(),
        buildings: buildings
            .into_iter()
            .map(|b| {
                let (households, overdue, visited) =
                    per_building.get(&b.id).copied().unwrap_or_default();
                // A household visited and then gone from the building still counts once; one
                // visited early in the period and due again now (weekly) is one household.
                let visited = visited.min(households);
                BuildingCoverage {
                    grid_id: b.grid_id,
                    label: format!("{}{}栋", b.estate, b.number),
                    lat: b.lat,
                    lon: b.lon,
                    households,
                    due: (visited + overdue).min(households),
                    visited,
                }
            })
            .collect(),
    }
}

/// The period's visits as the statistics count them: how many each person made in each grid,
/// and how many households were visited, per grid and per building.
struct PeriodVisits {
    /// (grid, person) → visits.
    made: HashMap<(Uuid, Uuid), u64>,
    by_grid: HashMap<Uuid, u64>,
    by_building: HashMap<Uuid, u64>,
}

impl PeriodVisits {
    /// For a period reaching today, households visited are those whose last visit is in it
    /// (`households` tallied with [`TallyQuery::seen_since`] the period's start: a last visit
    /// only moves forward), and the visits made are the whole months' counts plus the facts of
    /// the days at the period's edges — a read of the households and a few thousand rows, not of
    /// every visit. A period that ended before today groups its visit facts per household.
    fn count(
        tx: &mut dyn ReadTx,
        grids: &[Uuid],
        period: Period,
        now: DateTime<Utc>,
        households: &[Tally],
    ) -> Result<PeriodVisits> {
        let mut out = PeriodVisits {
            made: HashMap::new(),
            by_grid: HashMap::new(),
            by_building: HashMap::new(),
        };
        let add_made = |out: &mut PeriodVisits, t: &Tally| {
            if let Some(a) = t.actor_id {
                *out.made.entry((t.grid_id, a)).or_default() += t.count;
            }
        };
        if period.to < now {
            let mut visited: HashSet<Uuid> = HashSet::new();
            for t in tx.tally(&TallyQuery::between(
                Entity::Visit,
                grids,
                period.from,
                period.to,
                now,
            ))? {
                add_made(&mut out, &t);
                if let Some(h) = t.subject_id
                    && visited.insert(h)
                {
                    *out.by_grid.entry(t.grid_id).or_default() += 1;
                    if let Some(b) = t.building_id {
                        *out.by_building.entry(b).or_default() += 1;
                    }
                }
            }
            return Ok(out);
        }
        for t in households.iter().filter(|t| t.seen > 0) {
            *out.by_grid.entry(t.grid_id).or_default() += t.seen;
            if let Some(b) = t.building_id {
                *out.by_building.entry(b).or_default() += t.seen;
            }
        }
        use gridmate_model::calendar::{month_start, next_month_start};
        let first = if month_start(period.from) == period.from {
            period.from
        } else {
            next_month_start(period.from)
        };
        let last = month_start(period.to);
        let mut edges = vec![(period.from, period.to)];
        if first < last {
            for m in tx.visit_months(grids, first.timestamp_millis(), last.timestamp_millis())? {
                *out.made.entry((m.grid_id, m.actor_id)).or_default() += m.visits.max(0) as u64;
            }
            edges = vec![(period.from, first), (last, period.to)];
        }
        for (from, to) in edges.into_iter().filter(|(from, to)| from < to) {
            for t in tx.tally(&TallyQuery::between(Entity::Visit, grids, from, to, now))? {
                add_made(&mut out, &t);
            }
        }
        Ok(out)
    }
}
