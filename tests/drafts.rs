//! Every form keeps what was typed through a kill. A child process types into the four forms
//! (visit, report, issue action, service) through the draft hook the screens use — `use_draft`
//! and `Draft::edit` on the real store thread — says how far it got, and is SIGKILLed while
//! typing. The real screens, opened on the same files in a fresh app, show the text: the last
//! one announced or a later one, never a torn or an older one.

use dioxus::prelude::*;
use gridmate::draft::use_draft;
use gridmate::platform::DesktopPlatform;
use gridmate::screens::issues::{ActionForm, IssueScreen};
use gridmate::screens::report::{ReportForm, ReportScreen};
use gridmate::screens::service::{ServiceForm, ServiceScreen};
use gridmate::screens::visit::{VisitForm, VisitScreen};
use gridmate::state::{Services, Startup, Ui};
use gridmate::widgets::edit;
use gridmate_demo::{DemoConfig, generate};
use gridmate_device::{ScopeData, Session, StoreThread};
use gridmate_model::{HouseholdId, IssueId, Role};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHILD: &str = "GRIDMATE_DRAFT_CHILD";

fn typed(form: &str, n: u32) -> String {
    format!("{form}第{n}次输入：楼道堆放杂物")
}

#[derive(Clone, Copy, PartialEq)]
struct Places {
    household: HouseholdId,
    issue: IssueId,
}

#[component]
fn Typist(places: Places) -> Element {
    let services = use_context::<Services>();
    let visit = use_draft(VisitForm::draft_key(places.household), VisitForm::new);
    let report = use_draft(ReportForm::draft_key(None, None), ReportForm::default);
    let action = use_draft(ActionForm::draft_key(places.issue), ActionForm::default);
    let service = use_draft(ServiceForm::DRAFT_KEY.to_string(), ServiceForm::default);
    use_future(move || {
        let store = services.store.clone();
        async move {
            while !((visit.ready)() && (report.ready)() && (action.ready)() && (service.ready)()) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            for n in 1.. {
                let (v, r, a, s) = (
                    typed("走访", n),
                    typed("上报", n),
                    typed("处理", n),
                    typed("服务", n),
                );
                visit.edit(edit(move |f: &mut VisitForm| f.notes = v.clone()));
                report.edit(edit(move |f: &mut ReportForm| f.description = r.clone()));
                action.edit(edit(move |f: &mut ActionForm| f.note = a.clone()));
                service.edit(edit(move |f: &mut ServiceForm| f.title = s.clone()));
                // Jobs run in order on the store thread: once this one has, the drafts above are
                // on disk.
                tokio::task::yield_now().await;
                let _ = store.run(|_| ()).await;
                println!("typed {n}");
            }
        }
    });
    rsx! {}
}

fn services(dir: &std::path::Path) -> (Services, Startup) {
    let store = StoreThread::open(dir.to_path_buf()).unwrap();
    let startup = Startup::read(&store).unwrap();
    let platform = Arc::new(DesktopPlatform::new(None, None));
    (Services::new(store, platform), startup)
}

/// The child: type until killed.
fn child(dir: &str) {
    let places = Places {
        household: std::env::var("GRIDMATE_DRAFT_HOUSEHOLD")
            .unwrap()
            .parse()
            .unwrap(),
        issue: std::env::var("GRIDMATE_DRAFT_ISSUE")
            .unwrap()
            .parse()
            .unwrap(),
    };
    let (services, startup) = services(std::path::Path::new(dir));
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let mut dom = VirtualDom::new_with_props(Typist, TypistProps { places })
                .with_root_context(services)
                .with_root_context(startup);
            dom.rebuild_in_place();
            loop {
                dom.wait_for_work().await;
                dom.render_immediate(&mut dioxus_core::NoOpMutations);
            }
        });
}

/// One real screen inside the app's contexts, as the router would show it.
#[component]
fn OneScreen(which: &'static str, places: Places) -> Element {
    let startup = use_context::<Startup>();
    use_context_provider(|| Ui::new(&startup));
    match which {
        "走访" => rsx! { VisitScreen { household: places.household } },
        "上报" => rsx! { ReportScreen { building: None, household: None } },
        "处理" => rsx! { IssueScreen { issue: places.issue } },
        _ => rsx! { ServiceScreen {} },
    }
}

/// What the screen shows once its draft is loaded.
fn render_screen(dir: &std::path::Path, which: &'static str, places: Places) -> String {
    let (services, startup) = services(dir);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let mut dom = VirtualDom::new_with_props(OneScreen, OneScreenProps { which, places })
                .with_root_context(services)
                .with_root_context(startup);
            dom.rebuild_in_place();
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let _ = tokio::time::timeout(Duration::from_millis(20), dom.wait_for_work()).await;
                dom.render_immediate(&mut dioxus_core::NoOpMutations);
                let html = dioxus_ssr::render(&dom);
                if html.contains("楼道堆放杂物") || Instant::now() > deadline {
                    return html;
                }
            }
        })
}

#[test]
fn every_form_comes_back_after_the_app_is_killed_mid_typing() {
    if let Ok(dir) = std::env::var(CHILD) {
        child(&dir);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let demo = generate(&DemoConfig::lianhe());
    let worker = demo.user(Role::GridWorker).clone();
    let as_of = DemoConfig::lianhe().as_of;
    let places = {
        let store = StoreThread::open(dir.path().to_path_buf()).unwrap();
        store
            .run_blocking(move |s| {
                s.load_scope(ScopeData::of_demo(&demo, true)).unwrap();
                s.sign_in(&Session {
                    user: worker.user.clone(),
                    assignments: worker.assignments.clone(),
                })
                .unwrap();
                Places {
                    household: s.due_visits(None, as_of, 1).unwrap()[0].household.id,
                    issue: s.issues(&Default::default()).unwrap()[0].id,
                }
            })
            .unwrap()
    };
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "every_form_comes_back_after_the_app_is_killed_mid_typing",
                "--nocapture",
            ])
            .env(CHILD, dir.path())
            .env("GRIDMATE_DRAFT_HOUSEHOLD", places.household.to_string())
            .env("GRIDMATE_DRAFT_ISSUE", places.issue.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill after a different number of keystrokes each round.
        let stop_after = 5 + round * 17;
        let mut announced = 0;
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            if let Some(n) = line.unwrap().strip_prefix("typed ") {
                announced = n.parse().unwrap();
                if announced >= stop_after {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL: no destructor, no flush, no goodbye
        child.wait().unwrap();
        assert!(announced >= stop_after, "the child stopped typing early");

        for which in ["走访", "上报", "处理", "服务"] {
            let html = render_screen(dir.path(), which, places);
            let shown = (announced..announced + 3).find(|n| html.contains(&typed(which, *n)));
            assert!(
                shown.is_some(),
                "round {round}: the {which} screen does not show keystroke {announced} or later:\n{html}"
            );
        }
    }
}
