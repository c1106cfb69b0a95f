//! The issues screens' component and store tests.
use super::*;
use crate::screens::fixtures::{demo_store, render, session};

fn view(detail: IssueDetail, role: Role, lang: Lang) -> String {
    view_with(detail, role, lang, vec![])
}

fn view_with(detail: IssueDetail, role: Role, lang: Lang, departments: Vec<Department>) -> String {
    render(move || {
        rsx! {
            IssueView {
                detail: detail.clone(), thumbs: vec![], roles: vec![role], me: None,
                departments: departments.clone(),
                form: ActionForm::default(), error: None, lang,
                on_note: |_| {}, on_photo: |_| {}, on_department: |_| {}, on_action: |_| {},
            }
        }
    })
}

#[test]
fn escalating_offers_the_synced_departments_to_those_who_may() {
    let (_dir, mut store) = demo_store(Role::GridWorker);
    let id = crate::screens::fixtures::report(&mut store, IssueCategory::FireSafety, "堆放杂物");
    let d = store.issue(id).unwrap();
    let departments = store.departments().unwrap();
    let worker = view_with(d.clone(), Role::GridWorker, Lang::Zh, departments.clone());
    assert!(worker.contains("上报给") && worker.contains("消防救援站"));
    assert_eq!(
        worker.matches("data-department=").count(),
        departments.len()
    );
    let member = view_with(d, Role::PartyMember, Lang::Zh, departments);
    assert!(
        !member.contains("data-department="),
        "party members do not escalate"
    );
}

fn offered_in(html: &str) -> Vec<String> {
    html.split("data-issue-action=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

#[test]
fn each_role_is_offered_what_the_state_machine_allows() {
    let (_dir, mut store) = demo_store(Role::GridWorker);
    let id =
        crate::screens::fixtures::report(&mut store, IssueCategory::BrokenFacility, "路灯不亮");
    let d = store.issue(id).unwrap();
    assert_eq!(d.issue.status, IssueStatus::Reported);

    let worker = view(d.clone(), Role::GridWorker, Lang::Zh);
    assert!(worker.contains("路灯不亮") && worker.contains("待上传"));
    assert_eq!(
        offered_in(&worker),
        offered(IssueStatus::Reported, &[Role::GridWorker])
            .iter()
            .map(|a| a.code().to_string())
            .collect::<Vec<_>>()
    );
    assert!(offered_in(&worker).contains(&"accept".to_string()));
    let leader_b = view(d.clone(), Role::BuildingLeader, Lang::Zh);
    assert!(
        !offered_in(&leader_b).contains(&"accept".to_string()),
        "a building leader cannot accept"
    );
    assert!(offered_in(&leader_b).contains(&"comment".to_string()));
    let leader = view(d.clone(), Role::GridLeader, Lang::En);
    assert!(
        !offered_in(&leader).contains(&"assign".to_string()),
        "assign needs a person: not on the phone"
    );
    assert!(leader.contains("Not uploaded"));

    // Resolved: the grid leader may verify and close; the worker may not.
    store
        .act_on_issue(id, IssueAction::Accept, "", vec![])
        .unwrap();
    store
        .act_on_issue(id, IssueAction::Start, "", vec![])
        .unwrap();
    store
        .act_on_issue(id, IssueAction::Resolve, "已更换灯泡", vec![])
        .unwrap();
    let d = store.issue(id).unwrap();
    let leader = view(d.clone(), Role::GridLeader, Lang::Zh);
    assert!(offered_in(&leader).contains(&"close".to_string()));
    assert!(
        !offered_in(&view(d.clone(), Role::GridWorker, Lang::Zh)).contains(&"close".to_string())
    );
    // The timeline shows each step in order.
    let html = view(d, Role::GridWorker, Lang::Zh);
    let (a, b, c) = (
        html.find("受理").unwrap(),
        html.find("开始处理").unwrap(),
        html.find("已更换灯泡").unwrap(),
    );
    assert!(a < b && b < c);
    let _ = session(Role::GridLeader);
}

#[test]
fn the_list_filters_and_counts() {
    let (_dir, store) = demo_store(Role::GridWorker);
    let rows = store
        .issues(&IssueFilter {
            limit: 200,
            ..Default::default()
        })
        .unwrap();
    assert!(!rows.is_empty());
    let shown = rows.clone();
    let html = render(move || {
        rsx! {
            IssueList { rows: shown.clone(), filter: ListFilter { mine: false, status: None, category: None }, lang: Lang::Zh, on_filter: |_| {}, on_open: |_| {} }
        }
    });
    assert_eq!(html.matches("issue-row").count(), rows.len());
    assert!(html.contains("本网格") && html.contains("我上报的"));
}
