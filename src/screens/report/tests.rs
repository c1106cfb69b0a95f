//! The report screens' component and store tests.
use super::*;
use crate::screens::fixtures::{demo, demo_store, render};
use gridmate_model::Role;

#[test]
fn every_category_has_an_icon_and_a_name_in_both_languages() {
    for lang in [Lang::Zh, Lang::En] {
        let html = render(
            move || rsx! { CategoryPicker { chosen: Some(IssueCategory::Noise), lang, on_pick: |_| {} } },
        );
        for c in IssueCategory::ALL {
            assert!(html.contains(category_icon(c)));
            assert!(html.contains(c.label(lang)), "{c:?}");
        }
        assert_eq!(html.matches("category on").count(), 1);
    }
}

#[test]
fn a_duplicate_nearby_is_offered_and_joining_adds_a_comment_not_an_issue() {
    let (_dir, mut store) = demo_store(Role::GridWorker);
    let d = demo();
    let b = d
        .buildings
        .iter()
        .find(|b| b.grid_id == d.grids[0].id)
        .unwrap()
        .id;
    let first = ReportForm {
        category: "fire_safety".into(),
        description: "楼道电动车充电".into(),
        ..Default::default()
    };
    let existing = store
        .report_problem(first.to_report(Some(b), None, None, Lang::Zh).unwrap())
        .unwrap();

    let nearby = store
        .same_problem_nearby(Some(b), None, IssueCategory::FireSafety, None)
        .unwrap();
    assert!(
        nearby
            .iter()
            .any(|n| n.issue.id == existing && n.same_building)
    );
    let shown = nearby.clone();
    let html = render(move || {
        rsx! {
            SameProblemOffer { nearby: shown.clone(), lang: Lang::Zh, on_join: |_| {}, on_dismiss: |_| {} }
        }
    });
    assert!(
        html.contains("附近已有同类问题") && html.contains("并入此件") && html.contains("同一楼栋")
    );

    let issues_before = store.issues(&Default::default()).unwrap().len();
    let second = ReportForm {
        category: "fire_safety".into(),
        description: "又看到有人充电".into(),
        ..Default::default()
    };
    store
        .join_issue(existing, &second.join_note(Lang::Zh), vec![])
        .unwrap();
    assert_eq!(
        store.issues(&Default::default()).unwrap().len(),
        issues_before
    );
    let detail = store.issue(existing).unwrap();
    assert_eq!(detail.events.last().unwrap().event.note, "又看到有人充电");
}

#[test]
fn handled_on_the_spot_is_reported_and_resolved_together() {
    let (_dir, mut store) = demo_store(Role::BuildingLeader);
    let f = ReportForm {
        category: "sanitation".into(),
        on_spot: true,
        ..Default::default()
    };
    let id = store
        .report_problem(f.to_report(None, None, None, Lang::Zh).unwrap())
        .unwrap();
    let detail = store.issue(id).unwrap();
    assert_eq!(
        detail.issue.status,
        gridmate_model::IssueStatus::ResolvedOnSpot
    );
    assert_eq!(detail.source, gridmate_model::IssueSource::BuildingLeader);
    assert!(
        detail.building_number.is_some(),
        "a building leader's report lands in their building"
    );
    assert_eq!(detail.issue.title, "环境卫生");
}

#[test]
fn no_category_no_report() {
    let (_dir, store) = demo_store(Role::GridWorker);
    let before = store.sync_status().unwrap().pending;
    assert!(
        ReportForm::default()
            .to_report(None, None, None, Lang::Zh)
            .is_err()
    );
    assert_eq!(store.sync_status().unwrap().pending, before);
    let html = render(|| {
        rsx! {
            ReportFormView {
                form: ReportForm::default(), thumbs: vec![], after_thumbs: vec![], nearby: vec![],
                fix: None, error: None, lang: Lang::Zh,
                on_edit: |_| {}, on_photo: |_| {}, on_join: |_| {}, on_dismiss: |_| {}, on_save: |_| {},
            }
        }
    });
    assert!(
        html.contains("disabled"),
        "save is disabled until a category is chosen"
    );
    assert!(!html.contains("拍处置后照片"));
}
