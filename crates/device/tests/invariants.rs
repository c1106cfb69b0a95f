//! Property tests of the store's invariants over random sequences of user actions, valid and
//! not: every accepted action adds exactly one outbox mutation, every refused one adds nothing,
//! HLC stamps only grow, and whatever a resident is called, search finds them.

mod common;

use chrono::{Duration, Utc};
use gridmate_device::{NewIssue, NewVisit, ScopeData, search_keys};
use gridmate_model::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Action {
    Visit {
        household: usize,
        notes: String,
        minutes: i64,
    },
    Report {
        title: String,
    },
    Act {
        issue: usize,
        action: usize,
    },
    CheckIn {
        dlat: f64,
        accuracy: f64,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (0usize..50, "\\PC{0,40}", -30i64..60).prop_map(|(household, notes, minutes)| {
            Action::Visit {
                household,
                notes,
                minutes,
            }
        }),
        "\\PC{0,70}".prop_map(|title| Action::Report { title }),
        (0usize..20, 0usize..IssueAction::ALL.len())
            .prop_map(|(issue, action)| Action::Act { issue, action }),
        (-0.02f64..0.02, -5.0f64..200.0)
            .prop_map(|(dlat, accuracy)| Action::CheckIn { dlat, accuracy }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn accepted_actions_enqueue_exactly_one_mutation_refused_ones_none(
        actions in proptest::collection::vec(action(), 1..40),
        // Every role that signs in on a phone (a resident uses the resident page, never the app).
        role in 0usize..Role::ALL.len() - 1,
    ) {
        let role = Role::ALL.into_iter().filter(|r| *r != Role::Resident).nth(role).unwrap();
        let (_dir, mut store) = common::demo_store(role);
        let d = common::demo();
        let grid = &d.grids[0];
        let open: Vec<IssueId> = d.issues.iter().filter(|i| i.grid_id == grid.id).take(20).map(|i| i.id).collect();
        let mut accepted = 0usize;
        for a in actions {
            let before = store.outbox(&[], 10_000).unwrap().len();
            let ok = match a {
                Action::Visit { household, notes, minutes } => {
                    let now = Utc::now();
                    store.record_visit(NewVisit {
                        household_id: d.households[household].id,
                        started_at: now - Duration::minutes(30),
                        ended_at: now - Duration::minutes(30) + Duration::minutes(minutes),
                        kind: VisitKind::Routine,
                        outcome: VisitOutcome::Met,
                        notes,
                        people_served: 1,
                        location: None,
                        photos: vec![],
                        raised_issues: vec![],
                    }).is_ok()
                }
                Action::Report { title } => store.report_issue(NewIssue {
                    grid_id: grid.id,
                    building_id: None,
                    household_id: None,
                    category: IssueCategory::Noise,
                    severity: Severity::Low,
                    source: IssueSource::Patrol,
                    title,
                    description: String::new(),
                    location: None,
                    photos: vec![],
                }).is_ok(),
                Action::Act { issue, action } => store
                    .act_on_issue(open[issue % open.len()], IssueAction::ALL[action], "现场核实", vec![])
                    .is_ok(),
                Action::CheckIn { dlat, accuracy } => {
                    let b = &d.buildings[0];
                    let fix = GpsFix { lat: b.lat + dlat, lon: b.lon, accuracy_m: accuracy, mock_location: false };
                    store.check_in(grid.id, fix, Utc::now()).is_ok()
                }
            };
            let after = store.outbox(&[], 10_000).unwrap().len();
            prop_assert_eq!(after - before, usize::from(ok));
            accepted += usize::from(ok);
        }
        let pending = store.pending_mutations(10_000).unwrap();
        prop_assert_eq!(pending.len(), accepted);
        let stamps: Vec<Hlc> = pending.iter().map(|m| m.hlc().unwrap()).collect();
        prop_assert!(stamps.windows(2).all(|w| w[0] < w[1]));
        for m in &pending {
            prop_assert!(m.payload().is_ok(), "every queued mutation passes the server's validation");
        }
    }

    #[test]
    fn any_resident_is_found_by_name_initials_and_pinyin(name in "[\\u{4e00}-\\u{9fa5}]{2,4}") {
        let (_dir, mut store) = common::demo_store(Role::GridWorker);
        let d = common::demo();
        let r = Resident {
            id: ResidentId::new_v7(),
            household_id: d.households[7].id,
            name: name.clone(),
            relation: "子女".into(),
            birth_year: None,
            phone: None,
            id_number: None,
            tags: vec![],
            moved_out: false,
        };
        store.load_scope(ScopeData {
            grids: &[], buildings: &[], households: &[], visits: &[], issues: &[],
            residents: std::slice::from_ref(&r),
            ..ScopeData::of_demo(d, false)
        }).unwrap();
        let (pinyin, initials) = search_keys::name_keys(&name);
        for q in [name.as_str(), pinyin.as_str(), initials.as_str()] {
            if q.is_empty() { continue; }
            let hits = store.search(q, 100_000).unwrap();
            prop_assert!(hits.iter().any(|h| h.resident_id == Some(r.id)), "{} not found by {:?}", name, q);
        }
    }
}
