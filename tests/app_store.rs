//! The app's start-up path against a real store on disk: after the app is closed (or killed)
//! and opened again, the signed-in session, a visit recorded offline (still pending) and a
//! half-typed visit draft are all there, and the preferences the user chose are kept.

use gridmate::i18n::Lang;
use gridmate::screens::visit::VisitForm;
use gridmate::state::Startup;
use gridmate_demo::{DemoConfig, generate};
use gridmate_device::{ScopeData, Session, StoreThread};
use gridmate_model::Role;

#[test]
fn an_offline_visit_and_a_draft_survive_a_restart_of_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let demo = generate(&DemoConfig::lianhe());
    let worker = demo.user(Role::GridWorker).clone();
    let as_of = DemoConfig::lianhe().as_of;
    let (saved, drafted) = {
        let app = StoreThread::open(dir.path().to_path_buf()).unwrap();
        app.run_blocking(move |s| {
            s.load_scope(ScopeData::of_demo(&demo, true)).unwrap();
            s.sign_in(&Session {
                user: worker.user.clone(),
                assignments: worker.assignments.clone(),
            })
            .unwrap();
            s.set_preference("lang", Lang::En.code()).unwrap();
            let due = s.due_visits(None, as_of, 2).unwrap();
            let (first, second) = (due[0].household.id, due[1].household.id);
            let mut done = VisitForm::new();
            done.notes = "敲门无人应答，已电话联系其女儿".into();
            done.outcome = "nobody_home".into();
            done.save(s, first, None, gridmate::i18n::Lang::Zh).unwrap();
            let mut half = VisitForm::new();
            half.notes = "老人说最近血压".into();
            s.save_draft(
                &VisitForm::draft_key(second),
                &serde_json::to_string(&half).unwrap(),
            )
            .unwrap();
            (first, second)
        })
        .unwrap()
        // The app goes away here without any shutdown step, as when Android kills it.
    };
    let app = StoreThread::open(dir.path().to_path_buf()).unwrap();
    let startup = Startup::read(&app).unwrap();
    assert_eq!(startup.session.unwrap().user.name, "李敏");
    assert_eq!(startup.lang, Some(Lang::En));
    let (pending, detail, draft) = app
        .run_blocking(move |s| {
            (
                s.sync_status().unwrap().pending,
                s.household(saved).unwrap(),
                s.draft(&VisitForm::draft_key(drafted)).unwrap(),
            )
        })
        .unwrap();
    assert_eq!(pending, 1, "the visit is still waiting to be sent");
    assert_eq!(detail.visits[0].notes, "敲门无人应答，已电话联系其女儿");
    assert!(detail.visits[0].pending);
    let draft: VisitForm = serde_json::from_str(&draft.expect("the draft is kept")).unwrap();
    assert_eq!(draft.notes, "老人说最近血压");
}
