//! The app's start-up path against a real store on disk: what a worker recorded offline is still
//! there, pending, after the app is closed and opened again, and the demo is never loaded twice.

use gridmate::home::HomeData;
use gridmate_demo::DemoConfig;
use gridmate_device::{NewVisit, Store};
use gridmate_model::{VisitKind, VisitOutcome};

#[test]
fn an_offline_visit_survives_a_restart_of_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let as_of = DemoConfig::lianhe().as_of;
    let first = HomeData::open_demo(dir.path()).unwrap();
    let household = first.due[0].household.id;
    {
        let mut store = Store::open(dir.path()).unwrap();
        store
            .record_visit(NewVisit {
                household_id: household,
                started_at: as_of - chrono::Duration::minutes(30),
                ended_at: as_of - chrono::Duration::minutes(10),
                kind: VisitKind::CareVisit,
                outcome: VisitOutcome::NobodyHome,
                notes: "敲门无人应答，已电话联系其女儿".into(),
                people_served: 0,
                location: None,
                photos: vec![],
                raised_issues: vec![],
            })
            .unwrap();
    }
    let again = HomeData::open_demo(dir.path()).unwrap();
    assert_eq!(
        again.summary.sync.pending, 1,
        "the visit is still waiting to be sent"
    );
    assert_eq!(
        again.summary.households, first.summary.households,
        "the demo was not loaded twice"
    );
    assert!(again.due.iter().all(|d| d.household.id != household));
    let detail = Store::open(dir.path())
        .unwrap()
        .household(household)
        .unwrap();
    assert_eq!(detail.visits[0].notes, "敲门无人应答，已电话联系其女儿");
    assert!(detail.visits[0].pending);
}
