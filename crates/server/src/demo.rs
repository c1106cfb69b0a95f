//! Seeding the demo community (the shared generator's Lianhe community) and its accounts (one per
//! role, and a full-time worker for each grid), for `gridmate-server demo` and the tests.

use crate::store::residents;
use crate::store::{
    Backend, Principal, PutRecord, ResidentAccountRow, Result, StoreError, WriteTx, admin,
};
use chrono::{DateTime, Duration, Utc};
use gridmate_demo::{DemoCommunity, DemoUser};
use gridmate_model::case_number::{self, CaseKind};
use gridmate_model::validate::{mask_id_number, mask_phone};
use gridmate_model::{IssueAction, IssueCategory, IssueSource, Role, Satisfaction, Severity};
use gridmate_protocol::Entity;
use gridmate_protocol::records::*;
use gridmate_protocol::{IssueEventData, IssueReportData, Mutation, MutationPayload};
use serde::Serialize;
use std::collections::HashMap;

/// One line of `demo-accounts.json`.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct DemoAccount {
    pub role: String,
    pub phone: String,
    pub password: String,
    pub name: String,
    pub grids: Vec<String>,
    pub buildings: Vec<String>,
}

fn value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Write the whole community and its accounts in one transaction. Returns the accounts.
pub fn seed(store: &impl Backend, d: &DemoCommunity) -> Result<Vec<DemoAccount>> {
    store.admin(|tx| {
        let mut last_visit = HashMap::new();
        for v in &d.visits {
            let e = last_visit.entry(v.household_id).or_insert(v.started_at);
            *e = (*e).max(v.started_at);
        }
        let buildings: HashMap<_, _> = d.buildings.iter().map(|b| (b.id, b)).collect();
        let households: HashMap<_, _> = d.households.iter().map(|h| (h.id, h)).collect();
        let put = |tx: &mut dyn WriteTx,
                   entity,
                   id: uuid::Uuid,
                   grid: Option<uuid::Uuid>,
                   building: Option<uuid::Uuid>,
                   owner: Option<uuid::Uuid>,
                   data| {
            admin::put(
                tx,
                &PutRecord {
                    entity,
                    id,
                    grid_id: grid,
                    building_id: building,
                    owner_id: owner,
                    data,
                },
            )
        };
        for g in &d.grids {
            put(
                tx,
                Entity::Grid,
                g.id.0,
                Some(g.id.0),
                None,
                None,
                value(&GridRecord::from_model(g, &d.community.name)),
            )?;
        }
        for b in &d.buildings {
            let r = BuildingRecord {
                id: b.id.0,
                grid_id: b.grid_id.0,
                number: b.number.clone(),
                estate: b.estate.clone(),
                units: b.units,
                floors: b.floors,
                lat: b.lat,
                lon: b.lon,
            };
            put(
                tx,
                Entity::Building,
                b.id.0,
                Some(b.grid_id.0),
                Some(b.id.0),
                None,
                value(&r),
            )?;
        }
        for h in &d.households {
            let r = HouseholdRecord {
                id: h.id.0,
                grid_id: h.grid_id.0,
                building_id: h.building_id.0,
                unit: h.unit,
                room: h.room.clone(),
                address: h.address.clone(),
                head_name: h.head_name.clone(),
                tags: tags_to_codes(&h.tags),
                visit_cadence_days: h.visit_cadence_days,
                last_visit_at: last_visit.get(&h.id).copied(),
            };
            put(
                tx,
                Entity::Household,
                h.id.0,
                Some(h.grid_id.0),
                Some(h.building_id.0),
                None,
                value(&r),
            )?;
        }
        for r in &d.residents {
            let h = households[&r.household_id];
            let rec = ResidentRecord {
                moved_out: r.moved_out,
                id: r.id.0,
                household_id: r.household_id.0,
                name: r.name.clone(),
                relation: r.relation.clone(),
                birth_year: r.birth_year,
                phone: r.phone.clone(),
                phone_masked: r.phone.as_deref().map(mask_phone),
                // ID numbers are kept masked only: no screen of the product needs them whole.
                id_number_masked: r.id_number.as_deref().map(mask_id_number),
                tags: tags_to_codes(&r.tags),
            };
            put(
                tx,
                Entity::Resident,
                r.id.0,
                Some(h.grid_id.0),
                Some(h.building_id.0),
                None,
                value(&rec),
            )?;
        }
        for v in &d.visits {
            let h = households[&v.household_id];
            let rec = VisitRecord {
                id: v.id.0,
                household_id: v.household_id.0,
                visitor_id: v.visitor.0,
                started_at: v.started_at,
                ended_at: v.ended_at,
                kind: v.kind.code().into(),
                outcome: v.outcome.code().into(),
                notes: v.notes.clone(),
                people_served: v.people_served,
                location: None,
                photos: vec![],
            };
            put(
                tx,
                Entity::Visit,
                v.id.0,
                Some(h.grid_id.0),
                Some(h.building_id.0),
                Some(v.visitor.0),
                value(&rec),
            )?;
        }
        for i in &d.issues {
            let rec = IssueRecord::from_model(i);
            let building = i
                .building_id
                .and_then(|b| buildings.get(&b))
                .map(|b| b.id.0);
            put(
                tx,
                Entity::Issue,
                i.id.0,
                Some(i.grid_id.0),
                building,
                Some(i.reported_by.0),
                value(&rec),
            )?;
        }
        let issues: HashMap<_, _> = d.issues.iter().map(|i| (i.id, i)).collect();
        for e in &d.issue_events {
            let i = issues[&e.issue_id];
            let rec = IssueEventRecord {
                id: e.id.0,
                issue_id: e.issue_id.0,
                action: e.action.code().into(),
                actor_id: e.actor.0,
                note: e.note.clone(),
                at: e.at,
                photos: vec![],
                merged_reason: None,
                satisfaction: None,
            };
            put(
                tx,
                Entity::IssueEvent,
                e.id.0,
                Some(i.grid_id.0),
                i.building_id.map(|b| b.0),
                Some(i.reported_by.0),
                value(&rec),
            )?;
        }
        for dept in &d.departments {
            put(
                tx,
                Entity::Department,
                dept.id.0,
                Some(crate::store::scope::SHARED),
                None,
                None,
                value(&DepartmentRecord::from_model(dept)),
            )?;
        }
        for o in &d.orders {
            put(
                tx,
                Entity::Order,
                o.id.0,
                Some(o.grid_id.0),
                None,
                Some(o.recorded_by.0),
                value(&OrderRecord::from_model(o)),
            )?;
        }
        // The server numbers what reaches it after the seed after the demo's own numbers.
        let numbered = d
            .issues
            .iter()
            .map(|i| (CaseKind::Issue, i.number.as_deref()))
            .chain(
                d.orders
                    .iter()
                    .map(|o| (CaseKind::Order, o.number.as_deref())),
            );
        for (kind, number) in numbered {
            if let Some((year, seq)) = number.and_then(case_number::parse) {
                tx.raise_series(&case_number::series(kind, d.community.id.0, year), seq)?;
            }
        }
        let orders: HashMap<_, _> = d.orders.iter().map(|o| (o.id, o)).collect();
        for e in &d.order_events {
            let o = orders[&e.order_id];
            put(
                tx,
                Entity::OrderEvent,
                e.id.0,
                Some(o.grid_id.0),
                None,
                Some(o.recorded_by.0),
                value(&OrderEventRecord::from_model(e)),
            )?;
        }
        for c in &d.callups {
            put(
                tx,
                Entity::Callup,
                c.id.0,
                Some(c.grid_id.0),
                None,
                Some(c.created_by.0),
                value(&CallupRecord::from_model(c)),
            )?;
        }
        for c in &d.commitments {
            put(
                tx,
                Entity::Commitment,
                c.id.0,
                Some(c.grid_id.0),
                None,
                Some(c.user_id.0),
                value(&CommitmentRecord::from_model(c)),
            )?;
        }
        for e in &d.commitment_events {
            let Some(c) = d.commitments.iter().find(|c| c.id == e.commitment_id) else {
                continue;
            };
            put(
                tx,
                Entity::CommitmentEvent,
                e.id.0,
                Some(c.grid_id.0),
                None,
                Some(c.user_id.0),
                value(&CommitmentEventRecord::from_model(e)),
            )?;
        }
        for r in &d.callup_responses {
            let Some(c) = d.callups.iter().find(|c| c.id == r.callup_id) else {
                continue;
            };
            put(
                tx,
                Entity::CallupResponse,
                r.id.0,
                Some(c.grid_id.0),
                None,
                Some(r.user_id.0),
                value(&CallupResponseRecord::from_model(r)),
            )?;
        }
        for s in &d.service_records {
            put(
                tx,
                Entity::ServiceRecord,
                s.id.0,
                Some(s.grid_id.0),
                None,
                Some(s.user_id.0),
                value(&ServiceRecordRecord::from_model(s)),
            )?;
        }
        for c in &d.checkins {
            // The demo's check-ins were made inside the grid, as the server judges too.
            put(
                tx,
                Entity::Checkin,
                c.id.0,
                Some(c.grid_id.0),
                None,
                Some(c.user_id.0),
                value(&CheckinRecord::from_model(c, Some(c.verdict))),
            )?;
        }
        for p in &d.patrols {
            put(
                tx,
                Entity::Patrol,
                p.id.0,
                Some(p.grid_id.0),
                None,
                Some(p.user_id.0),
                value(&PatrolRecord::from_model(p)),
            )?;
        }
        // The base maps go in the way an office's file would: as GeoJSON, through the import.
        let grids: Vec<uuid::Uuid> = d.grids.iter().map(|g| g.id.0).collect();
        let file = base_map_geojson(&gridmate_demo::basemap::base_maps(&d.grids, &d.buildings));
        crate::import::base_map::plan(tx, &grids, &file, true)?.map_err(|p| {
            StoreError::Invalid(crate::import::ImportError::Problems(p).to_string())
        })?;
        d.users.iter().map(|u| add_account(&mut *tx, u)).collect()
    })
}

/// Base maps as the GeoJSON FeatureCollection a surveying office would hand over.
pub fn base_map_geojson(maps: &[gridmate_model::BaseMap]) -> Vec<u8> {
    let features: Vec<serde_json::Value> = maps
        .iter()
        .flat_map(|m| &m.features)
        .map(|f| {
            let r = MapFeatureRecord::from_model(f);
            let geometry = if r.lines.is_empty() {
                serde_json::json!({ "type": "MultiPolygon", "coordinates": r.polygons })
            } else {
                serde_json::json!({ "type": "MultiLineString", "coordinates": r.lines })
            };
            serde_json::json!({
                "type": "Feature",
                "properties": { "kind": r.kind, "name": r.name },
                "geometry": geometry,
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "type": "FeatureCollection", "features": features }))
        .unwrap_or_default()
}

fn add_account(tx: &mut dyn WriteTx, u: &DemoUser) -> Result<DemoAccount> {
    admin::add_user(
        tx,
        u.user.id.0,
        &u.phone,
        &u.user.name,
        &u.user.roles,
        &u.password,
    )?;
    for a in &u.assignments {
        // Building leaders are assigned their building; the grid follows from it.
        let grid = if a.building_id.is_some() {
            None
        } else {
            a.grid_id.map(|g| g.0)
        };
        admin::assign(tx, &u.phone, a.role, grid, a.building_id.map(|b| b.0))?;
    }
    Ok(DemoAccount {
        role: u.user.roles[0].code().into(),
        phone: u.phone.clone(),
        password: u.password.clone(),
        name: u.user.name.clone(),
        grids: u
            .assignments
            .iter()
            .filter_map(|a| a.grid_id)
            .map(|g| g.to_string())
            .collect(),
        buildings: u
            .assignments
            .iter()
            .filter_map(|a| a.building_id)
            .map(|b| b.to_string())
            .collect(),
    })
}

/// The demo's residents: people of the first grid's roll who signed in on the resident page
/// and were matched, each with a report at another stage — just sent, given to the grid worker,
/// handled and waiting for their rating, closed and rated 满意, sent back as 不满意 — made
/// through the write path as the people themselves would make them. They sign in with their
/// phone and a code (shown on the page by the demo server, which texts nothing).
pub fn seed_residents(
    store: &impl Backend,
    d: &DemoCommunity,
    now: DateTime<Utc>,
) -> Result<Vec<DemoAccount>> {
    let grid = d.grids[0].id;
    let staff = |role: Role| -> Option<Principal> {
        let u = d.users.iter().find(|u| {
            u.user.roles.contains(&role)
                && (role == Role::CommunityAdmin
                    || u.assignments.iter().any(|a| a.grid_id == Some(grid)))
        })?;
        Some(Principal {
            user_id: u.user.id.0,
            name: u.user.name.clone(),
            roles: u.user.roles.clone(),
            grids: if role == Role::CommunityAdmin {
                d.grids.iter().map(|g| g.id.0).collect()
            } else {
                vec![grid.0]
            },
            buildings: Vec::new(),
            scope_epoch: 1,
            device_id: "demo".into(),
            household: None,
        })
    };
    let (Some(office), Some(worker)) = (staff(Role::CommunityAdmin), staff(Role::GridWorker))
    else {
        return Ok(Vec::new());
    };
    let households: HashMap<_, _> = d.households.iter().map(|h| (h.id, h)).collect();
    let people: Vec<_> = d
        .residents
        .iter()
        .filter(|r| {
            !r.moved_out && r.phone.is_some() && households[&r.household_id].grid_id == grid
        })
        .take(STAGES.len())
        .collect();
    store.admin(|tx| {
        let mut clock = gridmate_model::HlcClock::default();
        let mut accounts = Vec::new();
        for (stage, person) in STAGES.iter().zip(people) {
            let hh = households[&person.household_id];
            let phone = person.phone.clone().unwrap_or_default();
            let reported = now - Duration::hours(stage.hours_ago);
            let account = ResidentAccountRow {
                id: residents::account_id(&phone),
                phone: phone.clone(),
                household_id: Some(hh.id.0),
                resident_id: Some(person.id.0),
                grid_id: Some(grid.0),
                verified_at_ms: Some((reported - Duration::hours(1)).timestamp_millis()),
                blocked_at_ms: None,
                created_at_ms: (reported - Duration::hours(1)).timestamp_millis(),
            };
            tx.put_resident_account(&account)?;
            let me = residents::principal(&account);
            let issue = uuid::Uuid::new_v5(&person.id.0, b"demo resident report");
            let mut step = |p: &Principal, at: DateTime<Utc>, payload: MutationPayload| {
                let m = Mutation {
                    id: uuid::Uuid::new_v5(&issue, at.to_rfc3339().as_bytes()),
                    kind: payload.kind().into(),
                    recorded_at: at,
                    hlc: clock.tick(at.timestamp_millis()).to_string(),
                    data: payload.to_json(),
                };
                // A demo the rules refuse is a broken demo: say so rather than seed half of it.
                match crate::apply::push(&mut *tx, p, &[m], now)?.pop() {
                    Some(r) if r.status == gridmate_protocol::PushStatus::Applied => Ok(()),
                    other => Err(StoreError::Invalid(format!(
                        "the demo's resident report was refused: {other:?}"
                    ))),
                }
            };
            step(
                &me,
                reported,
                MutationPayload::IssueReport(IssueReportData {
                    issue_id: issue,
                    grid_id: grid.0,
                    category: stage.category.code().into(),
                    title: stage.title.into(),
                    description: stage.description.into(),
                    severity: Severity::Low.code().into(),
                    building_id: Some(hh.building_id.0),
                    household_id: stage.at_home.then_some(hh.id.0),
                    location: None,
                    photos: Vec::new(),
                    source: IssueSource::Resident.code().into(),
                }),
            )?;
            let event = |action: IssueAction, note: &str| IssueEventData {
                event_id: uuid::Uuid::new_v5(&issue, action.code().as_bytes()),
                issue_id: issue,
                action: action.code().into(),
                note: note.into(),
                photos: Vec::new(),
                assignee_id: (action == IssueAction::Assign).then_some(worker.user_id),
                department: None,
                department_id: None,
                duplicate_of: None,
                satisfaction: None,
            };
            let mut at = reported;
            for (who, action, note) in stage.steps {
                at += Duration::hours(2);
                let p = match who {
                    Who::Office => &office,
                    Who::Worker => &worker,
                    Who::Resident => &me,
                };
                let mut e = event(*action, note);
                if let Some(s) = stage.rating.filter(|_| *who == Who::Resident) {
                    e.satisfaction = Some(s.code().into());
                }
                step(p, at, MutationPayload::IssueEvent(e))?;
            }
            accounts.push(DemoAccount {
                role: Role::Resident.code().into(),
                phone,
                password: String::new(),
                name: person.name.clone(),
                grids: vec![grid.0.to_string()],
                buildings: vec![hh.building_id.0.to_string()],
            });
        }
        Ok(accounts)
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Who {
    Office,
    Worker,
    Resident,
}

/// One demo resident's report and how far it went.
struct Stage {
    hours_ago: i64,
    category: IssueCategory,
    title: &'static str,
    description: &'static str,
    at_home: bool,
    steps: &'static [(Who, IssueAction, &'static str)],
    rating: Option<Satisfaction>,
}

const HANDLED: &[(Who, IssueAction, &str)] = &[
    (Who::Office, IssueAction::Assign, "请上门查看"),
    (Who::Worker, IssueAction::Start, "已联系住户，约好下午上门"),
    (
        Who::Worker,
        IssueAction::Resolve,
        "已更换灯具，现场试亮正常",
    ),
];

const STAGES: &[Stage] = &[
    Stage {
        hours_ago: 2,
        category: IssueCategory::Sanitation,
        title: "楼下垃圾桶满了没人清",
        description: "两天没清运，有异味",
        at_home: false,
        steps: &[],
        rating: None,
    },
    Stage {
        hours_ago: 26,
        category: IssueCategory::BrokenFacility,
        title: "单元门禁坏了",
        description: "刷卡没反应，门关不上",
        at_home: false,
        steps: &[(Who::Office, IssueAction::Assign, "请联系物业一起看")],
        rating: None,
    },
    Stage {
        hours_ago: 72,
        category: IssueCategory::BrokenFacility,
        title: "楼道灯不亮",
        description: "三楼到四楼的声控灯坏了",
        at_home: false,
        steps: HANDLED,
        rating: None,
    },
    Stage {
        hours_ago: 150,
        category: IssueCategory::Noise,
        title: "楼上装修中午也施工",
        description: "每天十二点到两点电钻声很大",
        at_home: true,
        steps: &[
            (Who::Office, IssueAction::Assign, "请协调装修时间"),
            (Who::Worker, IssueAction::Start, "已找到施工队"),
            (
                Who::Worker,
                IssueAction::Resolve,
                "约定午休时间停工，已贴告示",
            ),
            (Who::Office, IssueAction::Close, "回访确认"),
            (Who::Resident, IssueAction::Rate, "现在中午安静了，谢谢"),
        ],
        rating: Some(Satisfaction::Satisfied),
    },
    Stage {
        hours_ago: 200,
        category: IssueCategory::BrokenFacility,
        title: "小区路灯不亮",
        description: "东门进来第二盏路灯",
        at_home: false,
        steps: &[
            (Who::Office, IssueAction::Assign, "请上门查看"),
            (Who::Worker, IssueAction::Start, "已报物业电工"),
            (Who::Worker, IssueAction::Resolve, "已更换灯泡"),
            (Who::Office, IssueAction::Close, ""),
            (Who::Resident, IssueAction::SendBack, "修好第二天又不亮了"),
        ],
        rating: Some(Satisfaction::Dissatisfied),
    },
];
