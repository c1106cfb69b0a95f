//! The demo community: a deterministic, pure generator of a plausible Chinese urban community,
//! sized from `shared/DOMAIN.md` (Lianhe community, Jiangmen: 4 grids, 62 residential buildings,
//! ~4,600 households, ~13,800 residents), that the device store, the server's `demo` command and
//! every benchmark build from.
//!
//! Same [`DemoConfig`] in, same community out, on every machine: ids come from a seeded generator,
//! not the clock, so a test can name "household 17" and a benchmark can compare runs. Scale it up
//! ([`DemoConfig::scaled`]) for the 50,000-household benchmarks.
//!
//! It must never do I/O; it only builds values of `gridmate-model` types.

pub mod basemap;
mod names;
mod rng;

use chrono::{DateTime, Duration, TimeZone, Utc};
use geo::{LineString, MultiPolygon, Polygon};
use gridmate_model::community::cadence_for;
use gridmate_model::validate::id_check_char;
use gridmate_model::*;
use rng::Rng;

/// How big a community to make.
#[derive(Clone, Debug)]
pub struct DemoConfig {
    pub seed: u64,
    pub grids: usize,
    pub buildings: usize,
    pub households: usize,
    /// Issues in the ledger, open and closed.
    pub issues: usize,
    /// The moment the demo is "now": a year of visits lies before it, this month's visits are
    /// at the pace of a month under way, open issues and orders are due around it. Tests and
    /// benchmarks pass a fixed day; the demo server passes the day it seeds.
    pub as_of: DateTime<Utc>,
}

impl DemoConfig {
    /// Lianhe community as DOMAIN.md describes it.
    pub fn lianhe() -> Self {
        Self {
            seed: 0x6c69_616e_6865,
            grids: 4,
            buildings: 62,
            households: 4_600,
            issues: 600,
            as_of: Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(),
        }
    }

    /// Lianhe community as it stands at `now`: the same people, buildings and ids, with its
    /// history laid out behind `now`.
    pub fn lianhe_at(now: DateTime<Utc>) -> Self {
        Self {
            as_of: now,
            ..Self::lianhe()
        }
    }

    /// Lianhe's proportions at another household count (benchmarks: 500, 5,000, 50,000).
    pub fn scaled(households: usize) -> Self {
        let base = Self::lianhe();
        let factor = households as f64 / base.households as f64;
        Self {
            grids: ((base.grids as f64 * factor).round() as usize).max(1),
            buildings: ((base.buildings as f64 * factor).round() as usize).max(1),
            households,
            issues: ((base.issues as f64 * factor).round() as usize).max(1),
            ..base
        }
    }
}

/// A demo account, one per role. The password is for the demo server only.
#[derive(Clone, Debug)]
pub struct DemoUser {
    pub user: User,
    pub phone: String,
    pub password: String,
    pub assignments: Vec<Assignment>,
}

#[derive(Clone, Debug)]
pub struct DemoCommunity {
    pub community: Community,
    pub grids: Vec<Grid>,
    pub buildings: Vec<Building>,
    pub households: Vec<Household>,
    pub residents: Vec<Resident>,
    pub visits: Vec<Visit>,
    pub issues: Vec<Issue>,
    /// Every step of every issue, oldest first: an issue's status is what its steps make of it.
    pub issue_events: Vec<IssueEvent>,
    pub users: Vec<DemoUser>,
    pub departments: Vec<Department>,
    /// Residents' requests (三单制) in the first grid, at every stage; their status is what
    /// their events make of it.
    pub orders: Vec<Order>,
    pub order_events: Vec<OrderEvent>,
    /// A call-up (一键响应) in the first grid a week ago, closed, with its answers and arrivals.
    pub callups: Vec<Callup>,
    pub callup_responses: Vec<CallupResponse>,
    /// The party member's public commitments for the year (承诺践诺).
    pub commitments: Vec<Commitment>,
    /// Their steps: a progress step each month since the promise (the last within the past
    /// month for the one under way), and the kept one's fulfilment.
    pub commitment_events: Vec<CommitmentEvent>,
    /// The party member's volunteer service this year, the done requests among it.
    pub service_records: Vec<ServiceRecord>,
    /// The party member's check-ins to the grid this year.
    pub checkins: Vec<CheckIn>,
    /// Each grid worker's patrols (巡查) of the last fortnight, with their tracks.
    pub patrols: Vec<Patrol>,
}

impl DemoCommunity {
    /// The same community with a call-up under way, first in `callups`: called `at` for two
    /// hours later, nobody answered yet — for the tests of answering one (the living demo has
    /// none open).
    pub fn with_callup_under_way(mut self, at: DateTime<Utc>) -> Self {
        let mut rng = Rng::new(0x0ca1_1c0e);
        if let Some(last) = self.callups.first() {
            let under_way = Callup {
                id: CallupId(rng.uuid()),
                at: at + Duration::hours(2),
                closed_at: None,
                ..last.clone()
            };
            self.callups.insert(0, under_way);
        }
        self
    }

    pub fn user(&self, role: Role) -> &DemoUser {
        self.users
            .iter()
            .find(|u| u.user.roles.contains(&role))
            .expect("the demo has one user per role")
    }
}

/// Centre of the demo community: Pengjiang district, Jiangmen (WGS-84).
const CENTRE: (f64, f64) = (22.5905, 113.0815);
/// Degrees per grid cell side: about 550 m × 510 m.
const CELL: f64 = 0.005;

/// Build the community described by `cfg`.
pub fn generate(cfg: &DemoConfig) -> DemoCommunity {
    let mut rng = Rng::new(cfg.seed);
    let community = Community {
        id: CommunityId(rng.uuid()),
        name: "联和社区".into(),
        district: "广东省江门市蓬江区".into(),
    };

    let grids = make_grids(cfg, &community, &mut rng);
    let mut buildings = make_buildings(cfg, &grids, &mut rng);
    let (households, residents) = make_households(cfg, &mut buildings, &mut rng);
    let users = make_users(&grids, &buildings, &mut rng);
    // One full-time worker per grid: the first grid's is `users[0]`; the others come from a
    // stream of their own, so adding them changed nothing else of the community.
    let mut workers: Vec<UserId> = vec![users[0].user.id];
    let others = more_workers(cfg, &grids);
    workers.extend(others.iter().map(|u| u.user.id));
    let visits = make_visits(cfg, &grids, &households, &workers, &mut rng);
    let mut issues = make_issues(cfg, &buildings, &households, &users, &mut rng);
    let issue_events = make_issue_events(cfg, &mut issues, &users, &mut rng);
    let departments = make_departments(&mut rng);
    let (mut orders, order_events) = make_orders(cfg, &households, &grids, &users, &mut rng);
    number_cases(&mut issues, &mut orders);
    let (callups, callup_responses) = make_callups(cfg, &grids, &buildings, &users, &mut rng);
    let commitments = make_commitments(cfg, &users, &mut rng);
    let commitment_events = make_commitment_events(cfg, &commitments);
    let (service_records, checkins) =
        make_service(cfg, &grids, &users, &orders, &order_events, &mut rng);
    let patrols = make_patrols(cfg, &grids, &buildings, &workers, &mut rng);
    let mut users = users;
    users.extend(others);

    DemoCommunity {
        community,
        grids,
        buildings,
        households,
        residents,
        visits,
        issues,
        issue_events,
        users,
        departments,
        orders,
        order_events,
        callups,
        callup_responses,
        commitments,
        commitment_events,
        service_records,
        checkins,
        patrols,
    }
}

/// The office's numbers, as the server would have handed them out: in the order each was
/// recorded, a series per year. (A seeded server continues each series after the last.)
fn number_cases(issues: &mut [Issue], orders: &mut [Order]) {
    use gridmate_model::case_number::{format, year_of};
    fn number<T>(cases: &mut [T], at: impl Fn(&T) -> DateTime<Utc>, set: impl Fn(&mut T, String)) {
        let mut order: Vec<usize> = (0..cases.len()).collect();
        order.sort_by_key(|&i| at(&cases[i]));
        let mut seq: std::collections::HashMap<i32, u64> = Default::default();
        for i in order {
            let year = year_of(at(&cases[i]));
            let n = seq.entry(year).or_default();
            *n += 1;
            set(&mut cases[i], format(year, *n));
        }
    }
    number(issues, |i| i.reported_at, |i, n| i.number = Some(n));
    number(orders, |o| o.recorded_at, |o, n| o.number = Some(n));
}

/// The party member's promises for the year: one under way, one kept.
fn make_commitments(cfg: &DemoConfig, users: &[DemoUser], rng: &mut Rng) -> Vec<Commitment> {
    use chrono::Datelike;
    let Some(member) = users
        .iter()
        .find(|u| u.user.roles.contains(&Role::PartyMember))
    else {
        return vec![];
    };
    let Some(grid) = member.assignments.iter().find_map(|a| a.grid_id) else {
        return vec![];
    };
    [
        ("每月陪护独居老人就医一次", CommitmentStatus::Promised, 9),
        ("为楼栋孩子辅导暑期作业", CommitmentStatus::Fulfilled, 6),
    ]
    .into_iter()
    .map(|(title, status, progress)| Commitment {
        id: CommitmentId(rng.uuid()),
        grid_id: grid,
        user_id: member.user.id,
        user_name: member.user.name.clone(),
        year: cfg.as_of.year(),
        title: title.into(),
        description: String::new(),
        status,
        progress,
        created_at: cfg.as_of - Duration::days(300),
    })
    .collect()
}

/// Each promise's steps, from a stream of their own (so adding them changed nothing else of the
/// community): its progress steps evenly between the promise and the past fortnight, and a kept
/// promise's fulfilment after its last step.
fn make_commitment_events(cfg: &DemoConfig, commitments: &[Commitment]) -> Vec<CommitmentEvent> {
    let mut rng = Rng::new(cfg.seed ^ 0x5bd1_e995_c0ff_ee00);
    let notes = [
        "陪同就医，协助挂号取药",
        "上门了解近况，整理下次复诊时间",
        "辅导作业两小时",
        "与家长沟通孩子学习情况",
    ];
    let mut out = Vec::new();
    for c in commitments {
        let steps = c.progress.max(1);
        let span = (cfg.as_of - Duration::days(14)) - c.created_at;
        for k in 0..c.progress {
            out.push(CommitmentEvent {
                id: CommitmentEventId(rng.uuid()),
                commitment_id: c.id,
                action: CommitmentAction::Progress,
                note: notes[rng.below(notes.len() as u64) as usize].into(),
                at: c.created_at + span * (k as i32 + 1) / steps as i32,
                photos: vec![],
                service_id: None,
            });
        }
        if c.status == CommitmentStatus::Fulfilled {
            out.push(CommitmentEvent {
                id: CommitmentEventId(rng.uuid()),
                commitment_id: c.id,
                action: CommitmentAction::Fulfil,
                note: "承诺已兑现".into(),
                at: cfg.as_of - Duration::days(10),
                photos: vec![],
                service_id: None,
            });
        }
    }
    out
}

fn more_workers(cfg: &DemoConfig, grids: &[Grid]) -> Vec<DemoUser> {
    let mut rng = Rng::new(cfg.seed ^ 0x9e37_79b9_7f4a_7c15);
    let names = ["周丽华", "吴国强", "郑晓燕", "冯志明", "何静", "许文斌"];
    grids
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, g)| DemoUser {
            user: User {
                id: UserId(rng.uuid()),
                name: names[(i - 1) % names.len()].into(),
                roles: vec![Role::GridWorker],
            },
            phone: format!("1380000{:04}", 2000 + i),
            password: format!("demo-grid-worker-{}-2026", i + 1),
            assignments: vec![Assignment {
                role: Role::GridWorker,
                grid_id: Some(g.id),
                building_id: None,
            }],
        })
        .collect()
}

/// 一键响应: a week before "now" the leader called the first grid's party members, building
/// leaders and workers to a flood watch at the first building. The member and the worker came
/// and checked in at the meeting point; the building leader could not; the call-up is closed.
fn make_callups(
    cfg: &DemoConfig,
    grids: &[Grid],
    buildings: &[Building],
    users: &[DemoUser],
    rng: &mut Rng,
) -> (Vec<Callup>, Vec<CallupResponse>) {
    let by_role = |role: Role| user_with(users, role);
    let leader = by_role(Role::GridLeader);
    let grid = grids[0].id;
    let Some(b) = buildings.iter().find(|b| b.grid_id == grid) else {
        return (vec![], vec![]);
    };
    let at = cfg.as_of - Duration::days(7);
    let callup = Callup {
        id: CallupId(rng.uuid()),
        grid_id: grid,
        roles: vec![Role::PartyMember, Role::BuildingLeader, Role::GridWorker],
        place: format!("{}{}栋楼下", b.estate, b.number),
        location: Some((b.lat, b.lon)),
        at,
        message: "台风预警：请到集合点参加防汛巡查，清理排水口、转移低洼住户".into(),
        created_by: leader.user.id,
        closed_at: Some(at + Duration::hours(4)),
        recall_after_minutes: Some(15),
    };
    let mut responses = Vec::new();
    let mut answer = |user: &DemoUser, answer: CallupAnswer, minutes: i64, rng: &mut Rng| {
        let location = (answer == CallupAnswer::Arrived).then(|| GpsFix {
            lat: b.lat + 0.0001 * rng.unit(),
            lon: b.lon + 0.0001 * rng.unit(),
            accuracy_m: 8.0,
            mock_location: false,
        });
        responses.push(CallupResponse {
            id: CallupResponseId(rng.uuid()),
            callup_id: callup.id,
            user_id: user.user.id,
            answer,
            at: at - Duration::hours(2) + Duration::minutes(minutes),
            distance_m: location.as_ref().and_then(|f| callup.distance_m(f)),
            location,
        });
    };
    let member = by_role(Role::PartyMember);
    let worker = by_role(Role::GridWorker);
    answer(member, CallupAnswer::Coming, 6, rng);
    answer(worker, CallupAnswer::Coming, 9, rng);
    answer(by_role(Role::BuildingLeader), CallupAnswer::Cannot, 15, rng);
    answer(member, CallupAnswer::Arrived, 115, rng);
    answer(worker, CallupAnswer::Arrived, 118, rng);
    (vec![callup], responses)
}

/// The party member's year: two or three services a month since New Year (the requests they
/// did among them, at the time they did them), and a check-in to the grid before most.
fn make_service(
    cfg: &DemoConfig,
    grids: &[Grid],
    users: &[DemoUser],
    orders: &[Order],
    order_events: &[OrderEvent],
    rng: &mut Rng,
) -> (Vec<ServiceRecord>, Vec<CheckIn>) {
    let member = user_with(users, Role::PartyMember);
    let Some(grid) = member
        .assignments
        .iter()
        .find_map(|a| a.grid_id)
        .and_then(|g| grids.iter().find(|x| x.id == g))
    else {
        return (vec![], vec![]);
    };
    let titles = [
        ("陪同独居老人就医", 20u16, 1u16),
        ("楼道清理小广告", 15, 0),
        ("为老人上门理发", 15, 3),
        ("防诈骗宣传", 20, 12),
        ("垃圾分类督导", 20, 0),
        ("帮扶家庭辅导作业", 15, 1),
    ];
    let mut services = Vec::new();
    let mut checkins = Vec::new();
    let centre = grid.boundary.0[0].exterior().0[0];
    let mut check_in = |at: DateTime<Utc>, rng: &mut Rng| {
        let fix = GpsFix {
            lat: centre.y + CELL * (0.2 + 0.6 * rng.unit()),
            lon: centre.x + CELL * (0.2 + 0.6 * rng.unit()),
            accuracy_m: 6.0 + 10.0 * rng.unit(),
            mock_location: false,
        };
        let judged = geo_rules::locate_in_grid(&grid.boundary, &fix);
        checkins.push(CheckIn {
            id: CheckInId(rng.uuid()),
            user_id: member.user.id,
            grid_id: grid.id,
            at,
            fix,
            verdict: judged.verdict,
            boundary_distance_m: judged.distance_m,
        });
    };
    let year_start = calendar::year_start(cfg.as_of);
    let mut at = year_start + Duration::days(3) + Duration::hours(1);
    while at < cfg.as_of - Duration::days(1) {
        let (title, tenths, served) = titles[rng.below(titles.len() as u64) as usize];
        if rng.below(4) > 0 {
            check_in(at - Duration::minutes(10), rng);
        }
        services.push(ServiceRecord {
            id: ServiceRecordId(rng.uuid()),
            user_id: member.user.id,
            grid_id: grid.id,
            issue_id: None,
            order_id: None,
            title: title.into(),
            at,
            hours_tenths: tenths + 5 * rng.below(3) as u16,
            people_served: served,
            photos: vec![],
        });
        at += Duration::days(9 + rng.below(8) as i64);
    }
    // The requests the member did: their service is logged when they marked them done.
    for e in order_events
        .iter()
        .filter(|e| e.action == OrderAction::Done && e.actor == member.user.id)
    {
        if let Some(o) = orders.iter().find(|o| o.id == e.order_id) {
            services.push(ServiceRecord {
                id: ServiceRecordId(rng.uuid()),
                user_id: member.user.id,
                grid_id: o.grid_id,
                issue_id: None,
                order_id: Some(o.id),
                title: o.title.clone(),
                at: e.at,
                hours_tenths: 10 + 5 * rng.below(3) as u16,
                people_served: 1,
                photos: vec![],
            });
        }
    }
    (services, checkins)
}

/// Each grid worker walks their grid every other day or so: a loop past a few of its
/// buildings, sampled and simplified as the phone would keep it.
fn make_patrols(
    cfg: &DemoConfig,
    grids: &[Grid],
    buildings: &[Building],
    workers: &[UserId],
    rng: &mut Rng,
) -> Vec<Patrol> {
    let mut patrols = Vec::new();
    for (grid, worker) in grids.iter().zip(workers) {
        let stops: Vec<&Building> = buildings.iter().filter(|b| b.grid_id == grid.id).collect();
        if stops.len() < 2 {
            continue;
        }
        let mut day = 1;
        while day <= 14 {
            let started_at = working_hours(cfg.as_of - Duration::days(day), rng);
            let first = rng.below(stops.len() as u64) as usize;
            let count = 3 + rng.below(4) as usize;
            let mut track: Vec<(f64, f64)> = (0..count)
                .map(|k| {
                    let b = stops[(first + k * 3) % stops.len()];
                    (
                        b.lat + 0.0002 * (rng.unit() - 0.5),
                        b.lon + 0.0002 * (rng.unit() - 0.5),
                    )
                })
                .collect();
            track.push(track[0]);
            let distance_m = patrol::track_length_m(&track);
            patrols.push(Patrol {
                id: PatrolId(rng.uuid()),
                grid_id: grid.id,
                user_id: *worker,
                started_at,
                ended_at: started_at + Duration::minutes(30 + rng.below(60) as i64),
                track,
                distance_m,
                notes: [
                    "巡查消防通道，无异常",
                    "检查楼道堆物、电动车充电",
                    "查看积水点和井盖",
                ][rng.below(3) as usize]
                    .into(),
                issues: vec![],
            });
            day += 1 + rng.below(3) as i64;
        }
    }
    patrols
}

/// A time on the morning or afternoon of the day `t` falls on, Beijing time (UTC+8): 08:30 to
/// 17:30, when people knock on doors.
fn working_hours(t: DateTime<Utc>, rng: &mut Rng) -> DateTime<Utc> {
    calendar::day_start(t) + Duration::minutes(8 * 60 + 30 + rng.below(9 * 60) as i64)
}

/// The departments a community escalates to (吹哨报到).
fn make_departments(rng: &mut Rng) -> Vec<Department> {
    [
        ("街道综治中心", "0750-3281001"),
        ("城管执法中队", "0750-3281002"),
        ("消防救援站", "0750-3281119"),
        ("物业服务中心", "0750-3281003"),
        ("市场监管所", "0750-3281004"),
        ("派出所社区警务室", "0750-3281110"),
    ]
    .into_iter()
    .map(|(name, phone)| Department {
        id: DepartmentId(rng.uuid()),
        name: name.into(),
        phone: Some(phone.into()),
    })
    .collect()
}

/// Requests in the first grid at every stage of 群众点单、社区派单、党员接单, recorded by the
/// worker, dispatched by the leader, taken by the party member, confirmed by the worker.
fn make_orders(
    cfg: &DemoConfig,
    households: &[Household],
    grids: &[Grid],
    users: &[DemoUser],
    rng: &mut Rng,
) -> (Vec<Order>, Vec<OrderEvent>) {
    use OrderAction::*;
    let by_role = |role: Role| user_with(users, role);
    let (worker, leader, member) = (
        by_role(Role::GridWorker),
        by_role(Role::GridLeader),
        by_role(Role::PartyMember),
    );
    let samples: [(OrderKind, &str, &[OrderAction], bool); 12] = [
        (OrderKind::Wish, "想要一副老花镜", &[], false),
        (OrderKind::Errand, "代办高龄津贴申请", &[], false),
        (OrderKind::Repair, "厨房水龙头漏水", &[Dispatch], false),
        (
            OrderKind::Assistance,
            "每周陪同去医院复诊",
            &[Dispatch],
            false,
        ),
        (OrderKind::Wish, "孩子想要一套课外书", &[Dispatch], true),
        (OrderKind::Errand, "代取慢性病药品", &[Dispatch], true),
        (
            OrderKind::Assistance,
            "独居老人家中大扫除",
            &[Dispatch, Take],
            true,
        ),
        (
            OrderKind::Repair,
            "楼道声控灯不亮",
            &[Dispatch, Take],
            false,
        ),
        (
            OrderKind::Errand,
            "代缴水电费",
            &[Dispatch, Take, Done],
            true,
        ),
        (
            OrderKind::Wish,
            "想学用智能手机挂号",
            &[Dispatch, Take, Done, Confirm],
            true,
        ),
        (
            OrderKind::Assistance,
            "助浴服务",
            &[Dispatch, Take, Done, Confirm],
            false,
        ),
        (OrderKind::Other, "反映小区停车难", &[Cancel], false),
    ];
    let grid = grids[0].id;
    let in_grid: Vec<&Household> = households.iter().filter(|h| h.grid_id == grid).collect();
    let mut orders = Vec::new();
    let mut events = Vec::new();
    for (kind, title, path, to_member) in samples {
        let household = in_grid[rng.below(in_grid.len() as u64) as usize];
        // Open requests came in within their week's time limit; finished ones up to weeks ago.
        let window = if matches!(path.last(), Some(Confirm | Cancel)) {
            24 * 20
        } else {
            24 * 5
        };
        let recorded_at = cfg.as_of - Duration::hours(6 + rng.below(window) as i64);
        let mut order = Order {
            number: None,
            id: OrderId(rng.uuid()),
            grid_id: grid,
            building_id: Some(household.building_id),
            household_id: Some(household.id),
            kind,
            source: OrderSource::Visit,
            status: OrderStatus::Posted,
            title: title.into(),
            description: String::new(),
            requester: household.head_name.clone(),
            address: household.address.clone(),
            recorded_by: worker.user.id,
            recorded_at,
            due_at: recorded_at + order::ORDER_TIME_LIMIT,
            assignee: None,
            taker: None,
            satisfaction: None,
        };
        let span = (cfg.as_of - recorded_at).num_minutes().max(1);
        for (n, &action) in path.iter().enumerate() {
            let actor = match action {
                Dispatch | Cancel => leader,
                Take | Done => member,
                _ => worker,
            };
            let assignee = (action == Dispatch && to_member).then_some(member.user.id);
            let satisfaction = (action == Confirm).then_some(Satisfaction::Satisfied);
            let parties = OrderParties {
                actor: actor.user.id,
                assignee: order.assignee,
                taker: order.taker,
            };
            order.status = order::transition(order.status, action, &actor.user.roles, parties)
                .expect("every demo path is legal for its actors");
            match action {
                Dispatch => order.assignee = assignee,
                Take => order.taker = Some(actor.user.id),
                Confirm => order.satisfaction = satisfaction,
                _ => {}
            }
            let note = match action {
                Dispatch if to_member => "派给党员梁志强",
                Dispatch => "面向网格党员开放接单",
                Take => "我来办",
                Done => "已办结",
                Confirm => "居民表示满意",
                Cancel => "已转物业处理，撤单",
                _ => "",
            };
            events.push(OrderEvent {
                id: OrderEventId(rng.uuid()),
                order_id: order.id,
                action,
                actor: actor.user.id,
                note: note.into(),
                at: recorded_at
                    + Duration::minutes(span * (n as i64 + 1) / (path.len() as i64 + 1)),
                photos: vec![],
                assignee,
                satisfaction,
                merged_reason: None,
            });
        }
        orders.push(order);
    }
    (orders, events)
}

/// The demo's account of `role`: `make_users` makes one of every role.
fn user_with(users: &[DemoUser], role: Role) -> &DemoUser {
    users
        .iter()
        .find(|u| u.user.roles.contains(&role))
        .expect("the demo has every role")
}

/// Grids tile a near-square block of cells without gap or overlap: neighbours share their edges
/// exactly, as the "seamless coverage" rule requires.
fn make_grids(cfg: &DemoConfig, community: &Community, rng: &mut Rng) -> Vec<Grid> {
    let cols = (cfg.grids as f64).sqrt().ceil() as usize;
    let rows = cfg.grids.div_ceil(cols);
    let lon0 = CENTRE.1 - CELL * cols as f64 / 2.0;
    let lat0 = CENTRE.0 - CELL * rows as f64 / 2.0;
    let ordinals = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    (0..cfg.grids)
        .map(|i| {
            let (r, c) = (i / cols, i % cols);
            let (x0, y0) = (lon0 + c as f64 * CELL, lat0 + r as f64 * CELL);
            let (x1, y1) = (x0 + CELL, y0 + CELL);
            let ring = LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]);
            let name = match ordinals.get(i) {
                Some(o) => format!("联和第{o}网格"),
                None => format!("联和第{}网格", i + 1),
            };
            Grid {
                id: GridId(rng.uuid()),
                community_id: community.id,
                code: format!("LH-{:02}", i + 1),
                name,
                kind: GridKind::Resident,
                boundary: MultiPolygon(vec![Polygon::new(ring, vec![])]),
            }
        })
        .collect()
}

fn make_buildings(cfg: &DemoConfig, grids: &[Grid], rng: &mut Rng) -> Vec<Building> {
    let estates = [
        "联和花园",
        "江华小区",
        "华园新村",
        "丰乐苑",
        "建设二村",
        "紫茶小区",
    ];
    (0..cfg.buildings)
        .map(|i| {
            let grid = &grids[i * grids.len() / cfg.buildings];
            let first = grid.boundary.0[0].exterior().0[0];
            // Inside the cell with a 40 m margin from its edges.
            let lon = first.x + CELL * (0.08 + 0.84 * rng.unit());
            let lat = first.y + CELL * (0.08 + 0.84 * rng.unit());
            Building {
                id: BuildingId(rng.uuid()),
                grid_id: grid.id,
                number: (i + 1).to_string(),
                estate: estates[i % estates.len()].into(),
                units: 2 + rng.below(3) as u16,
                floors: 0,
                lat,
                lon,
            }
        })
        .collect()
}

fn make_households(
    cfg: &DemoConfig,
    buildings: &mut [Building],
    rng: &mut Rng,
) -> (Vec<Household>, Vec<Resident>) {
    let mut households = Vec::with_capacity(cfg.households);
    let mut residents = Vec::with_capacity(cfg.households * 3);
    let per_building = cfg.households / buildings.len();
    let extra = cfg.households % buildings.len();
    for (bi, b) in buildings.iter_mut().enumerate() {
        let n = per_building + usize::from(bi < extra);
        let units = b.units as usize;
        let per_floor = 2 + (bi % 3);
        b.floors = n.div_ceil(units).div_ceil(per_floor).max(1) as u16;
        for k in 0..n {
            let unit = (k % units) as u16 + 1;
            let in_unit = k / units;
            let floor = in_unit / per_floor + 1;
            let room = format!("{}{:02}", floor, in_unit % per_floor + 1);
            let tags = draw_tags(rng);
            let size = household_size(&tags, rng);
            let hid = HouseholdId(rng.uuid());
            let head = names::full_name(rng);
            for m in 0..size {
                let name = if m == 0 {
                    head.clone()
                } else {
                    names::relative_name(&head, m, rng)
                };
                residents.push(make_resident(hid, name, m, &tags, rng));
            }
            households.push(Household {
                id: hid,
                building_id: b.id,
                grid_id: b.grid_id,
                unit,
                room: room.clone(),
                address: format!("江门市蓬江区{}{}栋{}单元{}", b.estate, b.number, unit, room),
                head_name: head,
                visit_cadence_days: cadence_for(&tags),
                tags,
            });
        }
    }
    (households, residents)
}

fn draw_tags(rng: &mut Rng) -> Vec<HouseholdTag> {
    use HouseholdTag::*;
    // Shares per household, in per mille, from the orders of magnitude the articles give.
    let odds = [
        (ElderlyLivingAlone, 60),
        (LowIncome, 30),
        (Disabled, 30),
        (LeftBehindChild, 10),
        (Veteran, 20),
        (SeriousIllness, 20),
        (Rental, 150),
        (Vacant, 40),
        (PartyMemberHousehold, 50),
    ];
    let mut tags: Vec<HouseholdTag> = odds
        .iter()
        .filter(|(_, per_mille)| rng.below(1000) < *per_mille)
        .map(|(t, _)| *t)
        .collect();
    if tags.contains(&Vacant) {
        tags.retain(|t| *t == Vacant || *t == Rental);
    }
    tags
}

fn household_size(tags: &[HouseholdTag], rng: &mut Rng) -> usize {
    if tags.contains(&HouseholdTag::ElderlyLivingAlone) || tags.contains(&HouseholdTag::Vacant) {
        return 1;
    }
    // Mean ≈ 3.0 residents per household (13,848 / 4,600).
    [1, 2, 2, 3, 3, 3, 4, 4, 5, 3][rng.below(10) as usize]
}

fn make_resident(
    household_id: HouseholdId,
    name: String,
    member: usize,
    tags: &[HouseholdTag],
    rng: &mut Rng,
) -> Resident {
    let relation = ["户主", "配偶", "子女", "子女", "父母"][member.min(4)];
    let elderly = tags.contains(&HouseholdTag::ElderlyLivingAlone);
    let birth_year: u16 = if elderly {
        1936 + rng.below(20) as u16
    } else if (2..=3).contains(&member) {
        1990 + rng.below(25) as u16
    } else {
        1950 + rng.below(45) as u16
    };
    let phone = format!("1{}{:09}", 3 + rng.below(7), rng.below(1_000_000_000));
    let first17 = format!(
        "440703{}{:02}{:02}{:03}",
        birth_year,
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(1000)
    );
    let check = id_check_char(&first17).unwrap_or('0');
    Resident {
        id: ResidentId(rng.uuid()),
        household_id,
        name,
        relation: relation.into(),
        birth_year: Some(birth_year),
        phone: Some(phone),
        id_number: Some(format!("{first17}{check}")),
        tags: if member == 0 { tags.to_vec() } else { vec![] },
        moved_out: false,
    }
}

fn make_users(grids: &[Grid], buildings: &[Building], rng: &mut Rng) -> Vec<DemoUser> {
    let g0 = grids[0].id;
    let b0 = buildings
        .iter()
        .find(|b| b.grid_id == g0)
        .map(|b| b.id)
        .unwrap_or(buildings[0].id);
    let people = [
        (Role::GridWorker, "李敏", vec![(Some(g0), None)]),
        (
            Role::GridLeader,
            "陈建华",
            grids.iter().take(2).map(|g| (Some(g.id), None)).collect(),
        ),
        (Role::BuildingLeader, "黄伯", vec![(Some(g0), Some(b0))]),
        (Role::PartyMember, "梁志强", vec![(Some(g0), None)]),
        (
            Role::CommunityAdmin,
            "社区办 周敏",
            grids.iter().map(|g| (Some(g.id), None)).collect(),
        ),
        // The street reads every community it has; the demo street has this one.
        (
            Role::StreetViewer,
            "街道办 王强",
            grids.iter().map(|g| (Some(g.id), None)).collect(),
        ),
    ];
    people
        .into_iter()
        .enumerate()
        .map(|(i, (role, name, scope))| DemoUser {
            user: User {
                id: UserId(rng.uuid()),
                name: name.into(),
                roles: vec![role],
            },
            phone: format!("1380000{:04}", 1001 + i),
            password: format!("demo-{}-2026", role.code().replace('_', "-")),
            assignments: scope
                .into_iter()
                .map(|(grid_id, building_id)| Assignment {
                    role,
                    grid_id,
                    building_id,
                })
                .collect(),
        })
        .collect()
}

/// How far this month's visits are along in each grid: the share of the households that fell
/// due since the month began which have been seen. Most grids are 60–90 % through; the last is
/// behind (a worker on leave, a grid that just grew).
fn grid_paces(grids: &[Grid], rng: &mut Rng) -> Vec<f64> {
    (0..grids.len())
        .map(|i| {
            if grids.len() > 1 && i == grids.len() - 1 {
                0.35
            } else {
                0.62 + 0.26 * rng.unit()
            }
        })
        .collect()
}

/// A year of door-to-door visits, each household at its cadence (weekly for the elderly living
/// alone, quarterly for most). Before this month nearly every visit was made on time; this month
/// is under way at its grid's pace, so those not yet seen are the ones due — vulnerable
/// households first, so few of them are overdue. A few households were never visited (just
/// registered).
fn make_visits(
    cfg: &DemoConfig,
    grids: &[Grid],
    households: &[Household],
    workers: &[UserId],
    rng: &mut Rng,
) -> Vec<Visit> {
    let paces = grid_paces(grids, rng);
    let month = calendar::month_start(cfg.as_of);
    let latest = cfg.as_of - Duration::minutes(30);
    let mut visits = Vec::with_capacity(households.len() * 8);
    for h in households {
        let g = grids.iter().position(|g| g.id == h.grid_id).unwrap_or(0);
        let visitor = workers.get(g).copied().unwrap_or(workers[0]);
        let pace = if h.is_vulnerable() {
            1.0 - (1.0 - paces[g]) / 8.0
        } else {
            paces[g]
        };
        if rng.below(100) < 3 {
            continue;
        }
        let cadence = f64::from(h.visit_cadence_days);
        // Due a cadence after the last visit; the day's hour varies, the cadence is kept.
        let next = |t: DateTime<Utc>| t + Duration::days(i64::from(h.visit_cadence_days));
        let mut due = cfg.as_of - Duration::days(365)
            + Duration::minutes((cadence * rng.unit() * 1440.0) as i64);
        while due <= cfg.as_of {
            let this_month = due >= month;
            if this_month && rng.unit() >= pace {
                // Not seen yet this month: due, and overdue if its day has passed.
                break;
            }
            let at = working_hours(due, rng).min(latest);
            visits.push(make_visit(h, visitor, at, rng));
            due = next(at);
        }
    }
    visits
}

fn make_visit(h: &Household, visitor: UserId, started_at: DateTime<Utc>, rng: &mut Rng) -> Visit {
    let outcome = match rng.below(10) {
        0 => VisitOutcome::NobodyHome,
        1 if !h.is_vulnerable() => VisitOutcome::Refused,
        _ => VisitOutcome::Met,
    };
    Visit {
        id: VisitId({
            // The draw `uuid` makes for its timestamp, made and dropped: the demo's shape is
            // tuned to its random stream, and every later draw stays where it was.
            let _ = rng.below(1_000_000);
            rng.uuid_at(started_at.timestamp_millis().max(0) as u64)
        }),
        household_id: h.id,
        visitor,
        started_at,
        ended_at: started_at + Duration::minutes(5 + rng.below(25) as i64),
        kind: if h.is_vulnerable() {
            VisitKind::CareVisit
        } else {
            VisitKind::Routine
        },
        outcome,
        notes: match outcome {
            VisitOutcome::Met => "了解家庭情况，宣传消防安全".into(),
            VisitOutcome::NobodyHome => "无人在家，已留联系卡".into(),
            VisitOutcome::Refused => "住户不愿配合".into(),
        },
        people_served: u16::from(outcome == VisitOutcome::Met),
        location: None,
        photos: vec![],
        raised_issues: vec![],
    }
}

fn make_issues(
    cfg: &DemoConfig,
    buildings: &[Building],
    households: &[Household],
    users: &[DemoUser],
    rng: &mut Rng,
) -> Vec<Issue> {
    let samples: [(IssueCategory, &str, &str); 10] = [
        (
            IssueCategory::FireSafety,
            "楼道电动车充电",
            "一楼楼道有电动车私拉电线充电",
        ),
        (
            IssueCategory::FireSafety,
            "消防通道堵塞",
            "杂物堆放堵塞消防通道",
        ),
        (
            IssueCategory::Sanitation,
            "垃圾未及时清运",
            "垃圾桶满溢两天未清运",
        ),
        (
            IssueCategory::BrokenFacility,
            "路灯不亮",
            "小区主干道路灯损坏",
        ),
        (
            IssueCategory::BrokenFacility,
            "井盖破损",
            "人行道井盖松动有安全隐患",
        ),
        (
            IssueCategory::Dispute,
            "邻里漏水纠纷",
            "楼上漏水与楼下住户发生纠纷",
        ),
        (IssueCategory::Noise, "夜间装修噪音", "晚上十点后仍在装修"),
        (
            IssueCategory::IllegalConstruction,
            "天台违章搭建",
            "顶楼住户在天台搭建铁皮房",
        ),
        (
            IssueCategory::ResidentNeed,
            "申请低保咨询",
            "住户咨询低保申请流程",
        ),
        (
            IssueCategory::Sanitation,
            "蚊虫滋生",
            "积水处蚊虫多，需要消杀",
        ),
    ];
    // An issue still inside its time limit may be at any stage; one past it was closed, but for
    // a handful of this month's still open (overdue) or waiting for the leader's check; nothing
    // older is open.
    let fresh: [(IssueStatus, u64); 8] = [
        (IssueStatus::Reported, 12),
        (IssueStatus::Accepted, 10),
        (IssueStatus::Assigned, 8),
        (IssueStatus::InProgress, 10),
        (IssueStatus::Escalated, 4),
        (IssueStatus::Resolved, 6),
        (IssueStatus::ResolvedOnSpot, 5),
        (IssueStatus::Closed, 10),
    ];
    let past_limit: [(IssueStatus, u64); 4] = [
        (IssueStatus::InProgress, 3),
        (IssueStatus::Escalated, 1),
        (IssueStatus::Resolved, 1),
        (IssueStatus::Closed, 95),
    ];
    let pick = |weights: &[(IssueStatus, u64)], rng: &mut Rng| {
        let total: u64 = weights.iter().map(|w| w.1).sum();
        let mut n = rng.below(total);
        weights
            .iter()
            .find(|(_, w)| {
                let hit = n < *w;
                n = n.saturating_sub(*w);
                hit
            })
            .map_or(IssueStatus::Closed, |(s, _)| *s)
    };
    (0..cfg.issues)
        .map(|_| {
            let (category, title, description) = samples[rng.below(samples.len() as u64) as usize];
            let building = &buildings[rng.below(buildings.len() as u64) as usize];
            let household = (category == IssueCategory::ResidentNeed
                || category == IssueCategory::Dispute)
                .then(|| households.iter().find(|h| h.building_id == building.id))
                .flatten();
            let severity = if category == IssueCategory::FireSafety {
                Severity::High
            } else {
                Severity::Low
            };
            let id = IssueId(rng.uuid());
            // A quarter came in this past week (the live board); the rest over the quarter.
            let window = if rng.below(4) == 0 { 7 } else { 90 };
            let reported_at =
                cfg.as_of - Duration::minutes(30 + rng.below(60 * 24 * window) as i64);
            let limit = issue::time_limit(category, severity);
            let age = cfg.as_of - reported_at;
            let status = if age <= limit {
                pick(&fresh, rng)
            } else if age < Duration::days(30) {
                pick(&past_limit, rng)
            } else {
                IssueStatus::Closed
            };
            Issue {
                number: None,
                id,
                grid_id: building.grid_id,
                building_id: Some(building.id),
                household_id: household.map(|h| h.id),
                category,
                severity,
                source: IssueSource::Visit,
                status,
                title: format!("{}栋{}", building.number, title),
                description: description.into(),
                location: Some((building.lat + 0.0002, building.lon - 0.0001)),
                reported_by: users[0].user.id,
                reported_at,
                photos: vec![],
                assignee: None,
                department_id: None,
                due_at: Some(reported_at + limit),
            }
        })
        .collect()
}

/// The steps that take an issue from reported to `status`, and who takes each: the worker
/// accepts, starts, resolves, escalates or handles on the spot; the leader assigns and closes.
fn path_to(status: IssueStatus) -> &'static [IssueAction] {
    use IssueAction::*;
    match status {
        IssueStatus::Reported | IssueStatus::Reopened | IssueStatus::RejectedDuplicate => &[],
        IssueStatus::Accepted => &[Accept],
        IssueStatus::Assigned => &[Accept, Assign],
        IssueStatus::InProgress => &[Accept, Assign, Start],
        IssueStatus::Escalated => &[Escalate],
        IssueStatus::Resolved => &[Accept, Assign, Start, Resolve],
        IssueStatus::ResolvedOnSpot => &[ResolveOnSpot],
        IssueStatus::Closed => &[Accept, Assign, Start, Resolve, Close],
    }
}

/// Each issue's history, replayed through the state machine: the issue's status is set from its
/// last step, never written on its own.
fn make_issue_events(
    cfg: &DemoConfig,
    issues: &mut [Issue],
    users: &[DemoUser],
    rng: &mut Rng,
) -> Vec<IssueEvent> {
    let by_role = |role: Role| user_with(users, role);
    let (worker, leader) = (by_role(Role::GridWorker), by_role(Role::GridLeader));
    let mut events = Vec::new();
    for issue in issues.iter_mut() {
        let path = path_to(issue.status);
        // A handled issue was handled within its time limit; one still open has taken until now.
        let age = cfg.as_of - issue.reported_at;
        let span = match (issue.status.is_open(), issue.due_at) {
            (false, Some(due)) => age.min((due - issue.reported_at) * 9 / 10),
            _ => age,
        }
        .num_minutes()
        .max(1);
        let mut status = IssueStatus::Reported;
        for (n, &action) in path.iter().enumerate() {
            let actor = if matches!(action, IssueAction::Assign | IssueAction::Close) {
                leader
            } else {
                worker
            };
            status = issue::transition(status, action, actor.user.roles[0])
                .expect("every demo path is legal for its actors");
            if action == IssueAction::Assign {
                issue.assignee = Some(worker.user.id);
            }
            let note = match action {
                IssueAction::Accept => "已受理",
                IssueAction::Assign => "派网格员处理",
                IssueAction::Start => "已到现场",
                IssueAction::Resolve => "已处理完毕，请核查",
                IssueAction::Close => "已现场核查，销号",
                IssueAction::Escalate => "已转相关部门",
                IssueAction::ResolveOnSpot => "现场已处置",
                _ => "",
            };
            events.push(IssueEvent {
                id: IssueEventId(rng.uuid()),
                issue_id: issue.id,
                action,
                actor: actor.user.id,
                note: note.into(),
                at: issue.reported_at
                    + Duration::minutes(span * (n as i64 + 1) / (path.len() as i64 + 1)),
                photos: vec![],
                merged_reason: None,
            });
        }
        issue.status = status;
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use gridmate_model::geo_rules::{GeoVerdict, locate_in_grid};
    use std::collections::{HashMap, HashSet};

    #[test]
    fn every_issue_status_is_what_its_steps_make_of_it() {
        let d = generate(&DemoConfig::lianhe());
        let mut steps: HashMap<IssueId, Vec<&IssueEvent>> = HashMap::new();
        for e in &d.issue_events {
            steps.entry(e.issue_id).or_default().push(e);
        }
        let roles: HashMap<UserId, Role> = d
            .users
            .iter()
            .map(|u| (u.user.id, u.user.roles[0]))
            .collect();
        let mut with_history = 0;
        for i in &d.issues {
            let mut status = IssueStatus::Reported;
            let mut at = i.reported_at;
            for e in steps.get(&i.id).into_iter().flatten() {
                assert!(
                    e.at > at && e.at <= DemoConfig::lianhe().as_of,
                    "steps in order"
                );
                at = e.at;
                status = issue::transition(status, e.action, roles[&e.actor]).unwrap();
            }
            assert_eq!(status, i.status, "{}", i.title);
            if status != IssueStatus::Reported {
                with_history += 1;
                assert!(steps.contains_key(&i.id), "a {status} issue has steps");
            }
        }
        assert!(with_history > d.issues.len() / 2);
    }

    #[test]
    fn every_order_status_is_what_its_events_make_of_it() {
        let d = generate(&DemoConfig::lianhe());
        let roles: HashMap<UserId, Vec<Role>> = d
            .users
            .iter()
            .map(|u| (u.user.id, u.user.roles.clone()))
            .collect();
        let mut statuses = HashSet::new();
        for o in &d.orders {
            let (mut status, mut assignee, mut taker) = (OrderStatus::Posted, None, None);
            for e in d.order_events.iter().filter(|e| e.order_id == o.id) {
                let parties = OrderParties {
                    actor: e.actor,
                    assignee,
                    taker,
                };
                status = order::transition(status, e.action, &roles[&e.actor], parties).unwrap();
                match e.action {
                    OrderAction::Dispatch => assignee = e.assignee,
                    OrderAction::Take => taker = Some(e.actor),
                    _ => {}
                }
            }
            assert_eq!((status, assignee, taker), (o.status, o.assignee, o.taker));
            assert!(o.due_at > o.recorded_at);
            statuses.insert(status);
        }
        assert_eq!(statuses.len(), OrderStatus::ALL.len(), "every stage shown");
        assert!(d.issues.iter().all(|i| i.due_at.is_some()));
        assert!(
            d.issues
                .iter()
                .any(|i| i.assignee == Some(d.user(Role::GridWorker).user.id))
        );
    }

    /// What someone shown the demo sees on its "today": per grid, the share of the (ordinary)
    /// households that fell due this month already seen; vulnerable households overdue; open issues and
    /// orders past their time limit; the oldest open issue; call-ups still open; this year's
    /// service hours; patrols of the last fortnight.
    #[derive(Debug)]
    struct Shape {
        month_pace: Vec<f64>,
        vulnerable_overdue: usize,
        issues_overdue: usize,
        orders_overdue: usize,
        oldest_open_issue_days: i64,
        open_callups: usize,
        arrivals: usize,
        service_hours: f64,
        patrols: usize,
    }

    fn shape(d: &DemoCommunity, now: DateTime<Utc>) -> Shape {
        let month = calendar::month_start(now);
        let mut visits: HashMap<HouseholdId, Vec<DateTime<Utc>>> = HashMap::new();
        for v in &d.visits {
            assert!(v.ended_at <= now, "no visit in the future");
            visits.entry(v.household_id).or_default().push(v.started_at);
        }
        let month_pace = d
            .grids
            .iter()
            .map(|g| {
                let (mut due, mut seen) = (0, 0);
                // Vulnerable households are seen first (weekly, and counted below as overdue):
                // the month's pace is the other households'.
                for h in d
                    .households
                    .iter()
                    .filter(|h| h.grid_id == g.id && !h.is_vulnerable())
                {
                    let times = visits.get(&h.id).cloned().unwrap_or_default();
                    let before = times.iter().filter(|t| **t < month).max();
                    let cadence = Duration::days(i64::from(h.visit_cadence_days));
                    // Never visited (just registered) is not this month's pace: it is on the
                    // not-yet-visited list whatever the month.
                    if before.is_some_and(|t| *t + cadence <= now) {
                        due += 1;
                        seen += usize::from(times.iter().any(|t| *t >= month));
                    }
                }
                seen as f64 / due.max(1) as f64
            })
            .collect();
        let vulnerable_overdue = d
            .households
            .iter()
            .filter(|h| h.is_vulnerable())
            .filter(|h| {
                let last = visits.get(&h.id).and_then(|t| t.iter().max().copied());
                let cadence = Duration::days(i64::from(h.visit_cadence_days));
                last.is_some_and(|t| t + cadence < now)
            })
            .count();
        let open: Vec<&Issue> = d.issues.iter().filter(|i| i.status.is_open()).collect();
        Shape {
            month_pace,
            vulnerable_overdue,
            issues_overdue: open
                .iter()
                .filter(|i| i.due_at.is_some_and(|t| t < now))
                .count(),
            orders_overdue: d
                .orders
                .iter()
                .filter(|o| o.status.is_open() && o.due_at < now)
                .count(),
            oldest_open_issue_days: open
                .iter()
                .map(|i| (now - i.reported_at).num_days())
                .max()
                .unwrap_or(0),
            open_callups: d.callups.iter().filter(|c| c.is_open()).count(),
            arrivals: d
                .callup_responses
                .iter()
                .filter(|r| r.answer == CallupAnswer::Arrived)
                .count(),
            service_hours: d
                .service_records
                .iter()
                .map(|s| f64::from(s.hours_tenths) / 10.0)
                .sum(),
            patrols: d
                .patrols
                .iter()
                .filter(|p| p.started_at > now - Duration::days(15))
                .count(),
        }
    }

    /// The demo lives in the present: seeded on any day it looks like a community at work that
    /// day — most grids 60–90 % through the month's due visits and one behind, a handful of
    /// things overdue, nothing open from before last month, last week's call-up closed with
    /// people who came, a year of service — and the same on a day a year later.
    #[test]
    fn the_demo_looks_alive_on_any_day() {
        let days = [
            Utc.with_ymd_and_hms(2026, 12, 7, 2, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2027, 12, 18, 7, 30, 0).unwrap(),
            Utc.with_ymd_and_hms(2027, 3, 28, 1, 0, 0).unwrap(),
        ];
        let mut visits = Vec::new();
        for now in days {
            let d = generate(&DemoConfig::lianhe_at(now));
            let s = shape(&d, now);
            let (behind, rest) = s.month_pace.split_last().unwrap();
            for pace in rest {
                assert!((0.55..=0.95).contains(pace), "{now}: {s:?}");
            }
            assert!(*behind < 0.55, "one grid behind, {now}: {s:?}");
            let vulnerable = d.households.iter().filter(|h| h.is_vulnerable()).count();
            assert!(s.vulnerable_overdue * 10 < vulnerable, "{now}: {s:?}");
            assert!((1..=25).contains(&s.issues_overdue), "{now}: {s:?}");
            assert!(s.orders_overdue <= 1, "{now}: {s:?}");
            assert!(s.oldest_open_issue_days < 31, "{now}: {s:?}");
            assert_eq!((s.open_callups, s.arrivals), (0, 2), "{now}: {s:?}");
            // A few hours a month since New Year.
            let months = f64::from(now.month() - 1);
            assert!(s.service_hours >= 3.0 * months, "{now}: {s:?}");
            assert!(s.patrols >= d.grids.len() * 4, "{now}: {s:?}");
            assert!(d.checkins.iter().all(|c| c.at <= now));
            // Each promise's steps are there and past, the one under way stepped this month.
            for c in &d.commitments {
                let steps: Vec<&CommitmentEvent> = d
                    .commitment_events
                    .iter()
                    .filter(|e| e.commitment_id == c.id)
                    .collect();
                let progress = steps
                    .iter()
                    .filter(|e| e.action == CommitmentAction::Progress)
                    .count();
                assert_eq!(progress, c.progress as usize, "{now}: {}", c.title);
                assert!(steps.iter().all(|e| c.created_at < e.at && e.at <= now));
                if c.status == CommitmentStatus::Promised {
                    assert!(steps.iter().any(|e| e.at > now - Duration::days(31)));
                }
            }
            // The office's numbers: each year's issues 1, 2, 3… in the order they were reported.
            let mut numbered: Vec<(DateTime<Utc>, (i32, u64))> = d
                .issues
                .iter()
                .map(|i| {
                    let n = i.number.as_deref().and_then(case_number::parse);
                    (i.reported_at, n.expect("every demo issue numbered"))
                })
                .collect();
            numbered.sort();
            let mut next: HashMap<i32, u64> = HashMap::new();
            for (at, (year, seq)) in numbered {
                assert_eq!(year, case_number::year_of(at));
                let n = next.entry(year).or_insert(1);
                assert_eq!(seq, *n, "{now}: no gap, no repeat");
                *n += 1;
            }
            visits.push(d.visits.len() as f64);
        }
        // A year of history whatever the day: the same order of magnitude every time.
        let (lo, hi) = visits
            .iter()
            .fold((f64::MAX, 0f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        assert!(hi / lo < 1.1, "{visits:?}");
        assert!(lo > 20_000.0, "a year of visits: {visits:?}");
    }

    #[test]
    fn lianhe_has_the_sizes_of_the_article() {
        let d = generate(&DemoConfig::lianhe());
        assert_eq!(d.grids.len(), 4);
        assert_eq!(d.buildings.len(), 62);
        assert_eq!(d.households.len(), 4_600);
        let per_household = d.residents.len() as f64 / d.households.len() as f64;
        assert!((2.7..=3.3).contains(&per_household), "{per_household}");
        // One account per role (residents sign themselves in: none is made for them), and a
        // worker for each grid but the first.
        let accounts = Role::ALL.iter().filter(|r| **r != Role::Resident).count();
        assert_eq!(d.users.len(), accounts + d.grids.len() - 1);
        for g in &d.grids {
            let workers = d
                .users
                .iter()
                .filter(|u| {
                    u.user.roles == [Role::GridWorker]
                        && u.assignments.iter().any(|a| a.grid_id == Some(g.id))
                })
                .count();
            assert_eq!(workers, 1, "one full-time worker per grid");
        }
        assert!(d.buildings.iter().all(|b| (4..=40).contains(&b.floors)));
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Resident) {
            assert!(!d.user(role).assignments.is_empty());
        }
    }

    #[test]
    fn same_seed_same_community() {
        let a = generate(&DemoConfig::scaled(500));
        let b = generate(&DemoConfig::scaled(500));
        assert_eq!(a.households, b.households);
        assert_eq!(a.residents, b.residents);
        assert_eq!(a.issues, b.issues);
        let c = generate(&DemoConfig {
            seed: 7,
            ..DemoConfig::scaled(500)
        });
        assert_ne!(a.households[0].id, c.households[0].id);
    }

    #[test]
    fn records_are_consistent_and_valid() {
        let d = generate(&DemoConfig::lianhe());
        let ids: HashSet<_> = d.households.iter().map(|h| h.id).collect();
        assert_eq!(ids.len(), d.households.len(), "household ids unique");
        let buildings: HashMap<_, _> = d.buildings.iter().map(|b| (b.id, b)).collect();
        let grids: HashMap<_, _> = d.grids.iter().map(|g| (g.id, g)).collect();
        let mut addresses = HashSet::new();
        for h in &d.households {
            let b = buildings[&h.building_id];
            assert_eq!(h.grid_id, b.grid_id);
            assert!(
                addresses.insert((h.building_id, h.unit, h.room.clone())),
                "one household a room"
            );
            assert!(validate::room(&h.room).is_ok());
        }
        for b in &d.buildings {
            let fix = GpsFix {
                lat: b.lat,
                lon: b.lon,
                accuracy_m: 5.0,
                mock_location: false,
            };
            assert_eq!(
                locate_in_grid(&grids[&b.grid_id].boundary, &fix).verdict,
                GeoVerdict::Inside
            );
        }
        for r in &d.residents {
            assert!(ids.contains(&r.household_id));
            assert!(validate::phone(r.phone.as_ref().unwrap()).is_ok());
            assert!(validate::id_number(r.id_number.as_ref().unwrap()).is_ok());
            assert!((2..=3).contains(&r.name.chars().count()), "{}", r.name);
        }
        let vulnerable = d.households.iter().filter(|h| h.is_vulnerable()).count();
        assert!(vulnerable > 300 && vulnerable < 1_000, "{vulnerable}");
    }

    #[test]
    fn grids_tile_without_gap_or_overlap() {
        let d = generate(&DemoConfig::scaled(20_000));
        let total: f64 = d
            .grids
            .iter()
            .map(|g| geo_rules::area_m2(&g.boundary))
            .sum();
        let one = geo_rules::area_m2(&d.grids[0].boundary);
        assert!((total - one * d.grids.len() as f64).abs() / total < 0.01);
        use geo::{Area, BooleanOps};
        for (i, a) in d.grids.iter().enumerate() {
            for b in &d.grids[i + 1..] {
                assert!(a.boundary.intersection(&b.boundary).unsigned_area() < 1e-12);
            }
        }
    }

    #[test]
    fn scales() {
        let d = generate(&DemoConfig::scaled(50_000));
        assert_eq!(d.households.len(), 50_000);
        assert!(d.residents.len() > 140_000);
        assert!(d.grids.len() >= 40);
    }
}
