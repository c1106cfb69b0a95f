//! Residents' requests (三单制), departments and "my tasks" on the phone: each write is the
//! record and its outbox entry in one transaction, and a refusal leaves nothing behind.

mod common;

use chrono::{Duration, Utc};
use common::{counts, demo, demo_store};
use gridmate_device::*;
use gridmate_model::*;

fn request(household: &Household) -> NewOrder {
    NewOrder {
        grid_id: household.grid_id,
        household_id: Some(household.id),
        kind: OrderKind::Errand,
        source: OrderSource::Visit,
        title: "代缴燃气费".into(),
        description: "老人不会用手机缴费".into(),
        requester: household.head_name.clone(),
        photos: vec![],
    }
}

fn service(grid: GridId, hours_tenths: u16) -> NewService {
    NewService {
        grid_id: grid,
        issue_id: None,
        order_id: None,
        title: "代缴燃气费".into(),
        at: Utc::now(),
        hours_tenths,
        people_served: 1,
        photos: vec![],
    }
}

#[test]
fn a_worker_records_a_request_on_a_household_and_it_queues_once() {
    let (dir, mut store) = demo_store(Role::GridWorker);
    let d = demo();
    let household = d
        .households
        .iter()
        .find(|h| h.grid_id == d.grids[0].id)
        .unwrap();
    let before = counts(dir.path());
    let id = store.record_order(request(household)).unwrap();
    let detail = store.order(id).unwrap();
    assert_eq!(detail.order.status, OrderStatus::Posted);
    assert_eq!(detail.order.address, household.address, "where to go");
    assert!(detail.order.due_at > Utc::now() + Duration::days(6));
    let queued = store.pending_mutations(100).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].kind, "order.create");
    assert_eq!(queued[0].data["order_id"], serde_json::json!(id.0));
    let grew: Vec<_> = before
        .iter()
        .zip(counts(dir.path()))
        .filter(|(a, b)| a.1 != b.1 && !["device_state", "sqlite_sequence"].contains(&b.0.as_str()))
        .map(|(a, b)| (a.0.clone(), b.1 - a.1))
        .collect();
    assert_eq!(grew, [("orders".to_string(), 1), ("outbox".to_string(), 1)]);
    // A worker may cancel a request but never dispatch it (the office's call).
    assert!(detail.actions.contains(&OrderAction::Cancel));
    assert!(!detail.actions.contains(&OrderAction::Dispatch));

    // Refused: no title, a household of another grid. Nothing changes.
    let before = counts(dir.path());
    let untitled = NewOrder {
        title: "  ".into(),
        ..request(household)
    };
    assert!(matches!(
        store.record_order(untitled),
        Err(DeviceError::Invalid(_))
    ));
    let elsewhere = d
        .households
        .iter()
        .find(|h| h.grid_id != d.grids[0].id)
        .unwrap();
    let mismatched = NewOrder {
        household_id: Some(elsewhere.id),
        ..request(household)
    };
    assert!(store.record_order(mismatched).is_err());
    assert_eq!(counts(dir.path()), before);
}

#[test]
fn a_member_takes_an_order_and_finishes_it_with_the_service_in_one_transaction() {
    let (dir, mut store) = demo_store(Role::PartyMember);
    let d = demo();
    let me = d.user(Role::PartyMember).user.id;
    let mine = store
        .orders(&OrderFilter {
            for_user: Some(me),
            open_only: true,
            ..Default::default()
        })
        .unwrap();
    // Dispatched to me or open to the grid, or taken by me: never someone else's.
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|o| match o.status {
        OrderStatus::Dispatched => o.assignee.is_none_or(|a| a == me),
        _ => o.taker == Some(me),
    }));
    let open = mine
        .iter()
        .find(|o| o.status == OrderStatus::Dispatched)
        .unwrap()
        .id;
    let (_, status) = store
        .act_on_order(open, OrderStep::new(OrderAction::Take, "我来办"))
        .unwrap();
    assert_eq!(status, OrderStatus::Taken);

    // A service out of range refuses the whole action: the order stays taken, nothing queued.
    let before = counts(dir.path());
    let refused = store.complete_order(open, "已办好", vec![], service(d.grids[0].id, 0));
    assert!(matches!(refused, Err(DeviceError::Invalid(_))));
    assert_eq!(counts(dir.path()), before);
    assert_eq!(store.order(open).unwrap().order.status, OrderStatus::Taken);

    let (_, service_id) = store
        .complete_order(open, "已办好", vec![], service(d.grids[0].id, 15))
        .unwrap();
    let detail = store.order(open).unwrap();
    assert_eq!(detail.order.status, OrderStatus::Done);
    let kinds: Vec<_> = store
        .pending_mutations(100)
        .unwrap()
        .into_iter()
        .map(|m| (m.kind, m.data))
        .collect();
    let (last_kind, last) = kinds.last().unwrap();
    assert_eq!(last_kind, "service.record");
    assert_eq!(last["order_id"], serde_json::json!(open.0));
    assert_eq!(last["service_id"], serde_json::json!(service_id.0));
    assert_eq!(kinds[kinds.len() - 2].0, "order.event");
    let year = store.service_summary(me, Utc::now()).unwrap();
    assert_eq!(year.recent[0].order_id, Some(open));
}

#[test]
fn nobody_takes_an_order_dispatched_to_someone_else() {
    let (dir, mut store) = demo_store(Role::GridWorker);
    let d = demo();
    let member = d.user(Role::PartyMember).user.id;
    let theirs = d
        .orders
        .iter()
        .find(|o| o.status == OrderStatus::Dispatched && o.assignee == Some(member))
        .unwrap();
    let before = counts(dir.path());
    let r = store.act_on_order(theirs.id, OrderStep::new(OrderAction::Take, "我来"));
    assert!(matches!(
        r,
        Err(DeviceError::OrderTransition(
            OrderTransitionError::NotYours { .. }
        ))
    ));
    // Feedback needs the resident's answer.
    let done = d
        .orders
        .iter()
        .find(|o| o.status == OrderStatus::Done)
        .unwrap();
    let r = store.act_on_order(done.id, OrderStep::new(OrderAction::Confirm, "回访"));
    assert!(matches!(r, Err(DeviceError::Invalid(_))));
    assert_eq!(counts(dir.path()), before);
    let (_, to) = store
        .act_on_order(
            done.id,
            OrderStep {
                satisfaction: Some(Satisfaction::BasicallySatisfied),
                ..OrderStep::new(OrderAction::Confirm, "回访：基本满意")
            },
        )
        .unwrap();
    assert_eq!(to, OrderStatus::Confirmed);
    assert_eq!(
        store.order(done.id).unwrap().order.satisfaction,
        Some(Satisfaction::BasicallySatisfied)
    );
}

#[test]
fn my_tasks_are_what_waits_on_me_soonest_due_first() {
    let d = demo();
    let (_dir, worker) = demo_store(Role::GridWorker);
    let now = d.issues.iter().map(|i| i.reported_at).max().unwrap();
    let tasks = worker.my_tasks(now).unwrap();
    let me = d.user(Role::GridWorker).user.id;
    let assigned = d
        .issues
        .iter()
        .filter(|i| {
            i.assignee == Some(me)
                && matches!(
                    i.status,
                    IssueStatus::Assigned | IssueStatus::InProgress | IssueStatus::Accepted
                )
        })
        .count();
    let feedback = d
        .orders
        .iter()
        .filter(|o| o.status == OrderStatus::Done)
        .count();
    assert_eq!(
        tasks
            .iter()
            .filter(|t| t.step == TaskStep::HandleIssue)
            .count(),
        assigned
    );
    assert_eq!(
        tasks
            .iter()
            .filter(|t| t.step == TaskStep::RecordFeedback)
            .count(),
        feedback
    );
    assert!(tasks.windows(2).all(|w| w[0].due_at <= w[1].due_at));
    assert!(
        tasks
            .iter()
            .all(|t| t.overdue == t.due_at.is_some_and(|d| d < now))
    );
    assert!(tasks.iter().any(|t| t.overdue), "the demo has overdue work");

    let (_dir, member) = demo_store(Role::PartyMember);
    let mine = member.my_tasks(now).unwrap();
    let pm = d.user(Role::PartyMember).user.id;
    let expect = d
        .orders
        .iter()
        .filter(|o| {
            (o.status == OrderStatus::Dispatched && o.assignee == Some(pm))
                || (o.status == OrderStatus::Taken && o.taker == Some(pm))
        })
        .count();
    assert_eq!(mine.len(), expect);
    assert!(
        mine.iter()
            .all(|t| matches!(t.subject, TaskSubject::Order(_)))
    );

    let (_dir, leader) = demo_store(Role::GridLeader);
    let verify = leader.my_tasks(now).unwrap();
    assert!(!verify.is_empty());
    assert!(verify.iter().all(|t| t.step == TaskStep::VerifyIssue));
}

#[test]
fn an_issue_escalates_to_a_department_from_the_synced_list() {
    let (dir, mut store) = demo_store(Role::GridWorker);
    let d = demo();
    let departments = store.departments().unwrap();
    assert_eq!(departments.len(), d.departments.len());
    let issue = d
        .issues
        .iter()
        .find(|i| i.grid_id == d.grids[0].id && i.status == IssueStatus::Accepted)
        .unwrap();
    let before = counts(dir.path());
    let unknown = store.escalate_issue(issue.id, DepartmentId::new_v7(), "转办", vec![]);
    assert!(matches!(unknown, Err(DeviceError::NotFound { .. })));
    assert_eq!(counts(dir.path()), before);
    let fire = departments.iter().find(|x| x.name == "消防救援站").unwrap();
    let (_, to) = store
        .escalate_issue(issue.id, fire.id, "需消防站处理", vec![])
        .unwrap();
    assert_eq!(to, IssueStatus::Escalated);
    let queued = store.pending_mutations(10).unwrap();
    assert_eq!(
        queued[0].data["department_id"],
        serde_json::json!(fire.id.0)
    );
    assert_eq!(queued[0].data["action"], "escalate");
}

#[test]
fn after_a_sync_the_user_hears_of_new_tasks_and_of_their_reports_closed() {
    let d = demo();
    let (_dir, mut store) = demo_store(Role::GridWorker);
    let now = Utc::now();
    assert!(
        store.news_since_last_look(now).unwrap().is_empty(),
        "the first look is what the home screen shows, not news"
    );
    let me = d.user(Role::GridWorker).user.id;
    // The office assigns two more issues to me, and closes one I reported.
    let mut changed: Vec<Issue> = d
        .issues
        .iter()
        .filter(|i| i.grid_id == d.grids[0].id && i.status == IssueStatus::Reported)
        .take(2)
        .cloned()
        .map(|mut i| {
            i.status = IssueStatus::Assigned;
            i.assignee = Some(me);
            i
        })
        .collect();
    let mut mine = d
        .issues
        .iter()
        .find(|i| i.reported_by == me && i.status == IssueStatus::Resolved)
        .unwrap()
        .clone();
    mine.status = IssueStatus::Closed;
    changed.push(mine.clone());
    store
        .load_scope(ScopeData {
            issues: &changed,
            grids: &[],
            buildings: &[],
            households: &[],
            residents: &[],
            visits: &[],
            issue_events: &[],
            departments: &[],
            orders: &[],
            order_events: &[],
            ..ScopeData::of_demo(d, true)
        })
        .unwrap();
    let news = store.news_since_last_look(now).unwrap();
    assert_eq!(news.new_tasks, 2);
    assert_eq!(news.closed_reports, [mine.title.clone()]);
    assert!(
        store.news_since_last_look(now).unwrap().is_empty(),
        "told once"
    );
}
