//! Pieces several screens share: the sync bar, the tab bar, the title bar, photo strips,
//! loading and error states, and how times and distances are written.

use crate::app::Route;
use crate::i18n::{Labelled, Lang};
use chrono::{DateTime, FixedOffset, Utc};
use dioxus::prelude::*;
use gridmate_device::SyncStatus;
use gridmate_device::sync::{Phase, WorkerStatus};
use gridmate_model::{GeoVerdict, IssueCategory, IssueStatus, Role};

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// "11-20 14:05", China time.
pub fn china_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&cst()).format("%m-%d %H:%M").to_string()
}

/// "2026-11-20", China time.
pub fn china_date(t: DateTime<Utc>) -> String {
    t.with_timezone(&cst()).format("%Y-%m-%d").to_string()
}

pub fn metres(m: f64) -> String {
    if m.abs() >= 1000.0 {
        format!("{:.1} km", m / 1000.0)
    } else {
        format!("{:.0} m", m)
    }
}

pub fn verdict_label(v: GeoVerdict, lang: Lang) -> &'static str {
    match v {
        GeoVerdict::Inside => lang.pick("在网格内", "Inside the grid"),
        GeoVerdict::Outside => lang.pick("不在网格内", "Outside the grid"),
        GeoVerdict::Uncertain => lang.pick("定位精度不足，无法判断", "Too imprecise to tell"),
    }
}

/// A one-character icon per category: readable in sunlight, no icon font, no image to load.
pub fn category_icon(c: IssueCategory) -> &'static str {
    match c {
        IssueCategory::FireSafety => "火",
        IssueCategory::Sanitation => "洁",
        IssueCategory::BrokenFacility => "修",
        IssueCategory::Dispute => "调",
        IssueCategory::Noise => "噪",
        IssueCategory::IllegalConstruction => "违",
        IssueCategory::ResidentNeed => "需",
        IssueCategory::Pollution => "污",
        IssueCategory::Other => "他",
    }
}

#[component]
pub fn StatusChip(status: IssueStatus, lang: Lang) -> Element {
    rsx! { span { class: "chip status-{status.code()}", {status.label(lang)} } }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncBarState {
    pub status: SyncStatus,
    pub online: bool,
    pub worker: WorkerStatus,
}

/// Always on top: offline/online, what is waiting to go up, when it last went, what went wrong.
#[component]
pub fn SyncBar(state: SyncBarState, lang: Lang, on_retry: EventHandler<()>) -> Element {
    let s = &state.status;
    let last = match s.last_sync_at {
        Some(t) => lang.t1("sync.last", china_time(t)),
        None => lang.t("sync.never").to_string(),
    };
    let error = state.worker.last_error.clone().or(s.last_error.clone());
    let class = if s.failed > 0 || error.is_some() {
        "sync-bar failed"
    } else {
        "sync-bar"
    };
    let progress = state.worker.progress;
    rsx! {
        div { class, role: "status",
            div { class: "line",
                span { class: if state.online { "dot online" } else { "dot offline" } }
                span { class: "net",
                    if state.worker.running { {lang.t("sync.syncing")} }
                    else if state.online { {lang.t("sync.online")} }
                    else { {lang.t("sync.offline")} }
                }
                span { " · " {lang.t1("sync.pending", s.pending)} }
                if s.failed > 0 {
                    span { class: "warn", " · " {lang.t1("sync.failed", s.failed)} }
                }
                span { class: "last", " · {last}" }
            }
            if let Some(p) = progress {
                div { class: "progress",
                    span {
                        {match p.phase {
                            Phase::Push => lang.pick("上传记录", "Uploading records"),
                            Phase::Photos => lang.pick("上传照片", "Uploading photos"),
                            Phase::Pull => lang.pick("下载网格数据", "Downloading grid data"),
                            Phase::Repair => lang.pick("校对数据", "Checking data"),
                        }}
                        " {p.done}"
                        if let Some(t) = p.total { " / {t}" }
                    }
                    if let Some(t) = p.total.filter(|t| *t > 0) {
                        div { class: "bar", div { class: "fill", style: "width: {(p.done * 100 / t).min(100)}%" } }
                    }
                }
            }
            if let Some(e) = error {
                div { class: "line error",
                    span { "{e}" }
                    button { class: "retry", onclick: move |_| on_retry.call(()), {lang.t("sync.retry")} }
                }
            }
        }
    }
}

/// The tabs a role needs: a party member has no household ledger, a worker no check-in.
pub fn tabs_for(roles: &[Role]) -> Vec<Route> {
    let mut tabs = vec![Route::Home];
    if roles.iter().any(|r| {
        matches!(
            r,
            Role::GridWorker | Role::GridLeader | Role::BuildingLeader | Role::CommunityAdmin
        )
    }) {
        tabs.push(Route::Households);
    }
    tabs.push(Route::Issues);
    if roles.contains(&Role::PartyMember) {
        tabs.push(Route::Party);
    }
    tabs.push(Route::Sync);
    tabs
}

fn tab_label(r: &Route, lang: Lang) -> (&'static str, &'static str) {
    match r {
        Route::Home => ("⌂", lang.pick("首页", "Home")),
        Route::Households => ("户", lang.pick("住户", "Households")),
        Route::Issues => ("!", lang.pick("问题", "Issues")),
        Route::Party => ("★", lang.pick("党员", "Service")),
        _ => ("⇅", lang.pick("同步", "Sync")),
    }
}

#[component]
pub fn TabBar(
    current: Route,
    roles: Vec<Role>,
    lang: Lang,
    on_tab: EventHandler<Route>,
) -> Element {
    rsx! {
        nav { class: "tabs",
            for r in tabs_for(&roles) {
                button {
                    class: if r == current { "tab on" } else { "tab" },
                    "data-tab": "{tab_label(&r, Lang::En).1}",
                    onclick: { let r = r.clone(); move |_| on_tab.call(r.clone()) },
                    span { class: "icon", {tab_label(&r, lang).0} }
                    span { {tab_label(&r, lang).1} }
                }
            }
        }
    }
}

/// A screen's title with a back button.
#[component]
pub fn TitleBar(title: String, lang: Lang, on_back: Option<EventHandler<()>>) -> Element {
    rsx! {
        header { class: "title-bar",
            if let Some(back) = on_back {
                button { class: "back", "aria-label": lang.t("action.back"), onclick: move |_| back.call(()), "‹" }
            }
            h1 { "{title}" }
        }
    }
}

/// Thumbnails, as `data:` URLs so they show with no file server and no network.
#[component]
pub fn PhotoStrip(thumbs: Vec<String>) -> Element {
    rsx! {
        if !thumbs.is_empty() {
            div { class: "photos",
                for t in thumbs.iter() {
                    img { src: "{t}", alt: "" }
                }
            }
        }
    }
}

#[component]
pub fn Loading(lang: Lang) -> Element {
    rsx! { p { class: "loading", {lang.t("loading")} } }
}

#[component]
pub fn ErrorCard(message: String) -> Element {
    rsx! { p { class: "error-card", role: "alert", "{message}" } }
}

/// Thumbnails of `photos` as `data:` URLs; photos this device does not hold are skipped (the
/// server has them; the list says how many). Runs on the store thread.
pub fn thumb_urls(
    store: &gridmate_device::Store,
    photos: &[gridmate_model::PhotoRef],
) -> Vec<String> {
    use base64::Engine;
    photos
        .iter()
        .filter_map(|p| store.photo(p).ok().flatten())
        .filter_map(|p| std::fs::read(&p.thumb_path).ok())
        .map(|bytes| {
            format!(
                "data:image/jpeg;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )
        })
        .collect()
}

/// One change to a form, applied to the form's current state by its screen. Views send edits,
/// not whole forms: a whole form built from the props of the last render would overwrite a
/// keystroke made in another field since (fast typing, autofill, a slow liveview round trip).
pub type Edit<F> = std::rc::Rc<dyn Fn(&mut F)>;

pub fn edit<F>(f: impl Fn(&mut F) + 'static) -> Edit<F> {
    std::rc::Rc::new(f)
}
