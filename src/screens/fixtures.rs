//! Fixture data for the screen tests: the demo community in a real store, and SSR rendering.

use dioxus::prelude::*;
use gridmate_demo::{DemoCommunity, DemoConfig, generate};
use gridmate_device::{ScopeData, Session, Store};
use gridmate_model::Role;
use std::rc::Rc;
use std::sync::OnceLock;

pub fn demo() -> &'static DemoCommunity {
    static DEMO: OnceLock<DemoCommunity> = OnceLock::new();
    DEMO.get_or_init(|| generate(&DemoConfig::lianhe()).with_callup_under_way(as_of()))
}

pub fn as_of() -> chrono::DateTime<chrono::Utc> {
    DemoConfig::lianhe().as_of
}

pub fn session(role: Role) -> Session {
    let u = demo().user(role);
    Session {
        user: u.user.clone(),
        assignments: u.assignments.clone(),
    }
}

/// A store in a temp folder holding the demo community, signed in as `role`.
pub fn demo_store(role: Role) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.load_scope(ScopeData::of_demo(demo(), true)).unwrap();
    store.sign_in(&session(role)).unwrap();
    (dir, store)
}

/// A real JPEG of `w`×`h`, as a camera would hand over.
pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x ^ y) % 256) as u8])
    });
    let mut raw = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut raw, 85)
        .encode_image(&img)
        .unwrap();
    raw
}

#[derive(Clone)]
struct View(Rc<dyn Fn() -> Element>);

fn root(v: View) -> Element {
    (v.0)()
}

/// Render what `view` draws to HTML, as a user's browser would receive it.
pub fn render(view: impl Fn() -> Element + 'static) -> String {
    let mut dom = VirtualDom::new_with_props(root, View(Rc::new(view)));
    dom.rebuild_in_place();
    dioxus_ssr::render(&dom)
}

/// Report a problem as the signed-in user would, with no place chosen.
pub fn report(
    store: &mut Store,
    category: gridmate_model::IssueCategory,
    description: &str,
) -> gridmate_model::IssueId {
    store
        .report_problem(gridmate_device::NewReport {
            building: None,
            household: None,
            category,
            severity: gridmate_model::Severity::Medium,
            title: description.into(),
            description: description.into(),
            photos: vec![],
            fix: None,
            on_spot: None,
        })
        .unwrap()
}
