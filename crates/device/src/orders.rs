//! Residents' requests (三单制) on the phone, the departments to escalate to, and "my tasks":
//! what waits on the signed-in user. All SQL of orders and departments lives here.
//!
//! Every write is ONE transaction holding the local change and its outbox mutation(s); the
//! local status moves at once by `gridmate_model::order::transition`, and the server has the
//! final word when it replays the event in its order (a pulled order replaces the local one
//! once nothing about it waits in the outbox).

use crate::columns::photos_text;
use crate::queries::{ISSUE_ROW, IssueRow, issue_row};
use crate::store::{Session, Store};
use crate::time::{from_ms, ms};
use crate::writes::{NewService, check_photos, enqueue_checked, photo_strings, record_service_in};
use crate::{DeviceError, Result};
use chrono::{DateTime, Utc};
use gridmate_model::order::{ORDER_TIME_LIMIT, allowed_actions, transition};
use gridmate_model::validate::{self, limits};
use gridmate_model::*;
use gridmate_protocol::MutationPayload;
use gridmate_protocol::mutations::{OrderCreateData, OrderEventData};
use rusqlite::{OptionalExtension, Row, Transaction, params};

/// A request as the "record a request" screen fills it in.
#[derive(Clone, Debug, PartialEq)]
pub struct NewOrder {
    pub grid_id: GridId,
    pub household_id: Option<HouseholdId>,
    pub kind: OrderKind,
    pub source: OrderSource,
    pub title: String,
    pub description: String,
    pub requester: String,
    pub photos: Vec<PhotoRef>,
}

/// One step someone takes on an order.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderStep {
    pub action: OrderAction,
    pub note: String,
    pub photos: Vec<PhotoRef>,
    /// For dispatch: the member it goes to; `None` opens it to the grid.
    pub assignee: Option<UserId>,
    /// For confirm: the resident's feedback.
    pub satisfaction: Option<Satisfaction>,
}

impl OrderStep {
    pub fn new(action: OrderAction, note: &str) -> Self {
        Self {
            action,
            note: note.into(),
            photos: vec![],
            assignee: None,
            satisfaction: None,
        }
    }
}

/// Which orders a list shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderFilter {
    pub grid: Option<GridId>,
    pub household: Option<HouseholdId>,
    /// Only those still open (not confirmed, not cancelled).
    pub open_only: bool,
    /// Only those this user may take now (dispatched to them or open to the grid) or holds.
    pub for_user: Option<UserId>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderDetail {
    pub order: Order,
    pub events: Vec<OrderEvent>,
    /// What the signed-in user can do next, comment always among them.
    pub actions: Vec<OrderAction>,
}

/// What a task asks of the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskStep {
    /// An issue assigned to me: handle it.
    HandleIssue,
    /// An issue resolved in my grids: verify and close it (grid leaders).
    VerifyIssue,
    /// An order dispatched to me: take it.
    TakeOrder,
    /// An order I took: do it.
    CarryOutOrder,
    /// An order done in my grids: record the resident's feedback (grid workers).
    RecordFeedback,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskSubject {
    Issue(IssueId),
    Order(OrderId),
}

/// One thing waiting on the user, for "my tasks".
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub subject: TaskSubject,
    pub step: TaskStep,
    pub title: String,
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
}

const ORDER_ROW: &str = "id, grid_id, building_id, household_id, kind, source, status, title,
     description, requester, address, recorded_by, recorded_at, due_at, assignee, taker,
     satisfaction, number";

fn order_row(r: &Row<'_>) -> rusqlite::Result<Order> {
    let code = |i: usize| r.get::<_, String>(i);
    Ok(Order {
        id: OrderId(r.get(0)?),
        grid_id: GridId(r.get(1)?),
        building_id: r.get::<_, Option<uuid::Uuid>>(2)?.map(BuildingId),
        household_id: r.get::<_, Option<uuid::Uuid>>(3)?.map(HouseholdId),
        kind: OrderKind::from_code(&code(4)?).unwrap_or(OrderKind::Other),
        source: OrderSource::from_code(&code(5)?).unwrap_or(OrderSource::Visit),
        status: OrderStatus::from_code(&code(6)?).unwrap_or(OrderStatus::Posted),
        title: r.get(7)?,
        description: r.get(8)?,
        requester: r.get(9)?,
        address: r.get(10)?,
        recorded_by: UserId(r.get(11)?),
        recorded_at: from_ms(r.get(12)?),
        due_at: from_ms(r.get(13)?),
        assignee: r.get::<_, Option<uuid::Uuid>>(14)?.map(UserId),
        taker: r.get::<_, Option<uuid::Uuid>>(15)?.map(UserId),
        satisfaction: r
            .get::<_, Option<String>>(16)?
            .and_then(|c| Satisfaction::from_code(&c)),
        number: r.get(17)?,
    })
}

fn load_order(tx: &Transaction<'_>, id: OrderId) -> Result<Order> {
    tx.query_row(
        &format!("SELECT {ORDER_ROW} FROM orders WHERE id = ?1"),
        [id.0],
        order_row,
    )
    .optional()?
    .ok_or_else(|| DeviceError::not_found("order", id))
}

fn insert_order(tx: &Transaction<'_>, o: &Order, photos: &[PhotoRef]) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO orders (id, grid_id, building_id, household_id, kind, source,
             status, title, description, requester, address, recorded_by, recorded_at, due_at,
             assignee, taker, satisfaction, photos, number)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18, ?19)",
    )?
    .execute(params![
        o.id.0,
        o.grid_id.0,
        o.building_id.map(|b| b.0),
        o.household_id.map(|h| h.0),
        o.kind.code(),
        o.source.code(),
        o.status.code(),
        o.title,
        o.description,
        o.requester,
        o.address,
        o.recorded_by.0,
        ms(o.recorded_at),
        ms(o.due_at),
        o.assignee.map(|a| a.0),
        o.taker.map(|t| t.0),
        o.satisfaction.map(|s| s.code()),
        photos_text(photos),
        o.number,
    ])?;
    Ok(())
}

fn insert_event(tx: &Transaction<'_>, e: &OrderEvent) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO order_events (id, order_id, action, actor, note, at, photos,
             assignee, satisfaction, merged_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        e.id.0,
        e.order_id.0,
        e.action.code(),
        e.actor.0,
        e.note,
        ms(e.at),
        photos_text(&e.photos),
        e.assignee.map(|a| a.0),
        e.satisfaction.map(|s| s.code()),
        e.merged_reason,
    ])?;
    Ok(())
}

/// Pulled departments, orders and order events, as the server sent them.
pub(crate) fn write_pulled(
    tx: &Transaction<'_>,
    departments: &[Department],
    orders: &[Order],
    events: &[OrderEvent],
) -> Result<usize> {
    let mut st = tx.prepare_cached(
        "INSERT OR REPLACE INTO departments (id, name, phone) VALUES (?1, ?2, ?3)",
    )?;
    for d in departments {
        st.execute(params![d.id.0, d.name, d.phone])?;
    }
    for o in orders {
        insert_order(tx, o, &[])?;
    }
    for e in events {
        insert_event(tx, e)?;
    }
    Ok(departments.len() + orders.len() + events.len())
}

fn record_order_in(tx: &Transaction<'_>, session: &Session, n: NewOrder) -> Result<OrderId> {
    let title = validate::text("title", &n.title, limits::TITLE, true)?;
    let description = validate::text("description", &n.description, limits::TEXT, false)?;
    let requester = validate::text("requester", &n.requester, limits::NAME, false)?;
    check_photos(&n.photos)?;
    let now = Utc::now();
    let household = match n.household_id {
        None => None,
        Some(h) => Some(
            tx.query_row(
                "SELECT building_id, address, grid_id FROM households WHERE id = ?1",
                [h.0],
                |r| {
                    Ok((
                        BuildingId(r.get(0)?),
                        r.get::<_, String>(1)?,
                        GridId(r.get(2)?),
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| DeviceError::not_found("household", h))?,
        ),
    };
    if household.as_ref().is_some_and(|h| h.2 != n.grid_id) {
        return Err(DeviceError::not_found("household in that grid", n.grid_id));
    }
    let order = Order {
        id: OrderId::new_v7(),
        number: None,
        grid_id: n.grid_id,
        building_id: household.as_ref().map(|h| h.0),
        household_id: n.household_id,
        kind: n.kind,
        source: n.source,
        status: OrderStatus::Posted,
        title: title.clone(),
        description: description.clone(),
        requester: requester.clone(),
        address: household.map(|h| h.1).unwrap_or_default(),
        recorded_by: session.user.id,
        recorded_at: now,
        due_at: now + ORDER_TIME_LIMIT,
        assignee: None,
        taker: None,
        satisfaction: None,
    };
    insert_order(tx, &order, &n.photos)?;
    let payload = MutationPayload::OrderCreate(OrderCreateData {
        order_id: order.id.0,
        grid_id: n.grid_id.0,
        household_id: n.household_id.map(|h| h.0),
        kind: n.kind.code().into(),
        source: n.source.code().into(),
        title,
        description,
        requester,
        photos: photo_strings(&n.photos),
    });
    enqueue_checked(tx, payload, order.id.0, now)?;
    Ok(order.id)
}

fn act_on_order_in(
    tx: &Transaction<'_>,
    session: &Session,
    id: OrderId,
    step: OrderStep,
) -> Result<(OrderEventId, OrderStatus)> {
    let note = validate::text(
        "note",
        &step.note,
        limits::TEXT,
        step.action == OrderAction::Comment,
    )?;
    check_photos(&step.photos)?;
    if step.action == OrderAction::Confirm && step.satisfaction.is_none() {
        return Err(validate::ValidationError::Required {
            field: "satisfaction",
        }
        .into());
    }
    let mut order = load_order(tx, id)?;
    let me = session.user.id;
    let parties = OrderParties {
        actor: me,
        assignee: order.assignee,
        taker: order.taker,
    };
    let to = transition(order.status, step.action, &session.user.roles, parties)?;
    let now = Utc::now();
    let assignee = step
        .assignee
        .filter(|_| step.action == OrderAction::Dispatch);
    let satisfaction = step
        .satisfaction
        .filter(|_| step.action == OrderAction::Confirm);
    let event = OrderEvent {
        id: OrderEventId::new_v7(),
        order_id: id,
        action: step.action,
        actor: me,
        note: note.clone(),
        at: now,
        photos: step.photos.clone(),
        assignee,
        satisfaction,
        merged_reason: None,
    };
    insert_event(tx, &event)?;
    order.status = to;
    match step.action {
        OrderAction::Dispatch => order.assignee = assignee,
        OrderAction::Take => order.taker = Some(me),
        OrderAction::Release => {
            order.taker = None;
            order.assignee = None;
        }
        OrderAction::Confirm => order.satisfaction = satisfaction,
        _ => {}
    }
    tx.prepare_cached(
        "UPDATE orders SET status = ?2, assignee = ?3, taker = ?4, satisfaction = ?5
          WHERE id = ?1",
    )?
    .execute(params![
        id.0,
        order.status.code(),
        order.assignee.map(|a| a.0),
        order.taker.map(|t| t.0),
        order.satisfaction.map(|s| s.code()),
    ])?;
    let payload = MutationPayload::OrderEvent(OrderEventData {
        event_id: event.id.0,
        order_id: id.0,
        action: step.action.code().into(),
        note,
        photos: photo_strings(&step.photos),
        assignee_id: assignee.map(|a| a.0),
        satisfaction: satisfaction.map(|s| s.code().into()),
    });
    enqueue_checked(tx, payload, id.0, now)?;
    Ok((event.id, to))
}

impl Store {
    /// Record a resident's request (群众点单) in one of my grids, on a household when known.
    pub fn record_order(&mut self, n: NewOrder) -> Result<OrderId> {
        self.one_action(|tx, session| record_order_in(tx, session, n))
    }

    /// One step on an order (dispatch, take, release, done, confirm, cancel, comment). The state
    /// machine decides from the order's status, the user's roles and who they are to the order.
    pub fn act_on_order(
        &mut self,
        id: OrderId,
        step: OrderStep,
    ) -> Result<(OrderEventId, OrderStatus)> {
        self.one_action(|tx, session| act_on_order_in(tx, session, id, step))
    }

    /// Mark an order done and log the service that did it, linked to it, in ONE transaction: a
    /// refused service (hours out of range, too many photos) leaves the order as it was.
    pub fn complete_order(
        &mut self,
        id: OrderId,
        note: &str,
        photos: Vec<PhotoRef>,
        mut service: NewService,
    ) -> Result<(OrderEventId, ServiceRecordId)> {
        self.one_action(|tx, session| {
            let step = OrderStep {
                photos: photos.clone(),
                ..OrderStep::new(OrderAction::Done, note)
            };
            let (event, _) = act_on_order_in(tx, session, id, step)?;
            service.order_id = Some(id);
            let service = record_service_in(tx, session, service)?;
            Ok((event, service))
        })
    }

    pub fn orders(&self, f: &OrderFilter) -> Result<Vec<Order>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {ORDER_ROW} FROM orders
              WHERE (?1 IS NULL OR grid_id = ?1)
                AND (?2 IS NULL OR household_id = ?2)
                AND (?3 = 0 OR status NOT IN ('confirmed', 'cancelled'))
                AND (?4 IS NULL
                     OR (status = 'dispatched' AND (assignee IS NULL OR assignee = ?4))
                     OR taker = ?4)
              ORDER BY status IN ('confirmed', 'cancelled'), due_at, recorded_at"
        ))?;
        let rows = st.query_map(
            params![
                f.grid.map(|g| g.0),
                f.household.map(|h| h.0),
                f.open_only,
                f.for_user.map(|u| u.0)
            ],
            order_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn order(&self, id: OrderId) -> Result<OrderDetail> {
        let session = self.require_session()?;
        let order = self
            .conn
            .query_row(
                &format!("SELECT {ORDER_ROW} FROM orders WHERE id = ?1"),
                [id.0],
                order_row,
            )
            .optional()?
            .ok_or_else(|| DeviceError::not_found("order", id))?;
        let mut st = self.conn.prepare_cached(
            "SELECT id, action, actor, note, at, photos, assignee, satisfaction, merged_reason
               FROM order_events WHERE order_id = ?1 ORDER BY at, id",
        )?;
        let events = st
            .query_map([id.0], |r| {
                let photos: String = r.get(5)?;
                Ok(OrderEvent {
                    id: OrderEventId(r.get(0)?),
                    order_id: id,
                    action: OrderAction::from_code(&r.get::<_, String>(1)?)
                        .unwrap_or(OrderAction::Comment),
                    actor: UserId(r.get(2)?),
                    note: r.get(3)?,
                    at: from_ms(r.get(4)?),
                    photos: crate::columns::split_codes(&photos)
                        .filter_map(PhotoRef::parse)
                        .collect(),
                    assignee: r.get::<_, Option<uuid::Uuid>>(6)?.map(UserId),
                    satisfaction: r
                        .get::<_, Option<String>>(7)?
                        .and_then(|c| Satisfaction::from_code(&c)),
                    merged_reason: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let parties = OrderParties {
            actor: session.user.id,
            assignee: order.assignee,
            taker: order.taker,
        };
        let actions = allowed_actions(order.status, &session.user.roles, parties);
        Ok(OrderDetail {
            order,
            events,
            actions,
        })
    }

    /// Departments to escalate to, by name.
    pub fn departments(&self) -> Result<Vec<Department>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id, name, phone FROM departments ORDER BY name")?;
        let rows = st.query_map([], |r| {
            Ok(Department {
                id: DepartmentId(r.get(0)?),
                name: r.get(1)?,
                phone: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// What waits on the signed-in user, soonest due first (undated last): issues assigned to
    /// them, orders dispatched to them or taken by them; for leaders the issues to verify, for
    /// workers the done orders whose feedback is to record.
    pub fn my_tasks(&self, as_of: DateTime<Utc>) -> Result<Vec<Task>> {
        let session = self.require_session()?;
        let me = session.user.id.0;
        let grids: Vec<String> = session
            .assignments
            .iter()
            .filter_map(|a| a.grid_id)
            .map(|g| g.to_string())
            .collect();
        let grids = serde_json::to_string(&grids).unwrap_or_else(|_| "[]".into());
        let mut tasks = Vec::new();
        let issues = |sql: &str, args: &[&dyn rusqlite::ToSql]| -> Result<Vec<IssueRow>> {
            let mut st = self.conn.prepare_cached(sql)?;
            let rows = st.query_map(args, issue_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        for i in issues(
            &format!(
                "SELECT {ISSUE_ROW} FROM issues WHERE assignee = ?1
                   AND status IN ('accepted', 'assigned', 'in_progress', 'reopened')"
            ),
            &[&me],
        )? {
            tasks.push((
                TaskSubject::Issue(i.id),
                TaskStep::HandleIssue,
                i.title,
                i.due_at,
            ));
        }
        if session.has_role(Role::GridLeader) {
            for i in issues(
                &format!(
                    "SELECT {ISSUE_ROW} FROM issues
                      WHERE status IN ('resolved', 'resolved_on_spot')
                        AND lower(hex(grid_id)) IN
                            (SELECT replace(value, '-', '') FROM json_each(?1))"
                ),
                &[&grids],
            )? {
                tasks.push((
                    TaskSubject::Issue(i.id),
                    TaskStep::VerifyIssue,
                    i.title,
                    i.due_at,
                ));
            }
        }
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {ORDER_ROW} FROM orders
              WHERE (status = 'dispatched' AND assignee = ?1)
                 OR (status = 'taken' AND taker = ?1)
                 OR (?2 AND status = 'done'
                     AND lower(hex(grid_id)) IN
                         (SELECT replace(value, '-', '') FROM json_each(?3)))"
        ))?;
        let feedback = session.has_role(Role::GridWorker);
        for o in st.query_map(params![me, feedback, grids], order_row)? {
            let o = o?;
            let step = match o.status {
                OrderStatus::Dispatched => TaskStep::TakeOrder,
                OrderStatus::Taken => TaskStep::CarryOutOrder,
                _ => TaskStep::RecordFeedback,
            };
            tasks.push((TaskSubject::Order(o.id), step, o.title, Some(o.due_at)));
        }
        let mut tasks: Vec<Task> = tasks
            .into_iter()
            .map(|(subject, step, title, due_at)| Task {
                subject,
                step,
                title,
                due_at,
                overdue: due_at.is_some_and(|d| d < as_of),
            })
            .collect();
        tasks.sort_by_key(|t| (t.due_at.is_none(), t.due_at));
        Ok(tasks)
    }
}

/// What changed for the user since they last looked, to tell them after a sync ("3 件新任务").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct News {
    /// Tasks waiting on the user that were not there at the last look.
    pub new_tasks: usize,
    /// Titles of issues this user reported that have been closed since the last look.
    pub closed_reports: Vec<String>,
}

impl News {
    pub fn is_empty(&self) -> bool {
        self.new_tasks == 0 && self.closed_reports.is_empty()
    }
}

const TASKS_SEEN: &str = "news_tasks_seen";
const CLOSED_SEEN: &str = "news_closed_seen";

fn key_of(subject: TaskSubject) -> String {
    match subject {
        TaskSubject::Issue(id) => format!("i{id}"),
        TaskSubject::Order(id) => format!("o{id}"),
    }
}

impl Store {
    /// News since the last call, and remember what has now been seen. The first call after
    /// signing in only takes note: what is on the home screen is not news.
    pub fn news_since_last_look(&mut self, as_of: DateTime<Utc>) -> Result<News> {
        let session = self.require_session()?;
        let tasks: std::collections::BTreeSet<String> = self
            .my_tasks(as_of)?
            .into_iter()
            .map(|t| key_of(t.subject))
            .collect();
        let closed: Vec<(uuid::Uuid, String)> = {
            let mut st = self.conn.prepare_cached(
                "SELECT id, title FROM issues WHERE reported_by = ?1 AND status = 'closed'",
            )?;
            st.query_map([session.user.id.0], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let seen = |key: &str| -> Result<Option<std::collections::BTreeSet<String>>> {
            Ok(crate::store::state_get(&self.conn, key)?
                .and_then(|v| serde_json::from_str(&v).ok()))
        };
        let (tasks_seen, closed_seen) = (seen(TASKS_SEEN)?, seen(CLOSED_SEEN)?);
        let news = News {
            new_tasks: tasks_seen
                .as_ref()
                .map_or(0, |s| tasks.difference(s).count()),
            closed_reports: match &closed_seen {
                None => vec![],
                Some(s) => closed
                    .iter()
                    .filter(|(id, _)| !s.contains(&id.to_string()))
                    .map(|(_, title)| title.clone())
                    .collect(),
            },
        };
        let closed_ids: std::collections::BTreeSet<String> =
            closed.iter().map(|(id, _)| id.to_string()).collect();
        let tx = self.conn.transaction()?;
        let text = |set: &std::collections::BTreeSet<String>| {
            serde_json::to_string(set).unwrap_or_else(|_| "[]".into())
        };
        crate::store::state_set(&tx, TASKS_SEEN, &text(&tasks))?;
        crate::store::state_set(&tx, CLOSED_SEEN, &text(&closed_ids))?;
        tx.commit()?;
        Ok(news)
    }
}
