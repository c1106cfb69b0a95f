//! The bars around every signed-in screen: the sync bar on top (online or not, what waits to
//! go up, when it last went, what went wrong), the title bar with its back button, and the tab
//! bar, whose tabs depend on the user's roles.

use crate::i18n::{ErrorWords, Lang, Msg};
use crate::state::Destination;
use crate::widgets::format::china_time;
use dioxus::prelude::*;
use gridmate_device::SyncStatus;
use gridmate_device::sync::{Phase, WorkerStatus};
use gridmate_model::Role;

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
        Some(t) => lang.t1(Msg::SyncLast, china_time(t)),
        None => lang.t(Msg::SyncNever).to_string(),
    };
    let error = state
        .worker
        .last_error
        .or(s.last_error)
        .map(|p| lang.sync_problem(p));
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
                    if state.worker.running { {lang.t(Msg::SyncSyncing)} }
                    else if state.online { {lang.t(Msg::SyncOnline)} }
                    else { {lang.t(Msg::SyncOffline)} }
                }
                span { " · " {lang.t1(Msg::SyncPending, s.pending)} }
                if s.failed > 0 {
                    span { class: "warn", " · " {lang.t1(Msg::SyncFailed, s.failed)} }
                }
                span { class: "last", " · {last}" }
            }
            if let Some(p) = progress {
                div { class: "progress",
                    span {
                        {match p.phase {
                            Phase::Push => lang.t(Msg::UploadingRecords),
                            Phase::Photos => lang.t(Msg::UploadingPhotos),
                            Phase::Pull => lang.t(Msg::DownloadingGridData),
                            Phase::Repair => lang.t(Msg::CheckingData),
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
                    button { class: "retry", onclick: move |_| on_retry.call(()), {lang.t(Msg::SyncRetry)} }
                }
            }
        }
    }
}

/// The tabs a role needs: a party member has no household ledger, a worker no check-in.
pub fn tabs_for(roles: &[Role]) -> Vec<Destination> {
    let mut tabs = vec![Destination::Home];
    if roles.iter().any(|r| {
        matches!(
            r,
            Role::GridWorker | Role::GridLeader | Role::BuildingLeader | Role::CommunityAdmin
        )
    }) {
        tabs.push(Destination::Households);
    }
    tabs.push(Destination::Issues);
    if roles.contains(&Role::PartyMember) {
        tabs.push(Destination::Party);
    }
    tabs.push(Destination::Sync);
    tabs
}

fn tab_label(r: &Destination, lang: Lang) -> (&'static str, &'static str) {
    match r {
        Destination::Home => ("⌂", lang.t(Msg::TabHome)),
        Destination::Households => ("户", lang.t(Msg::Households)),
        Destination::Issues => ("!", lang.t(Msg::IssuesTitle)),
        Destination::Party => ("★", lang.t(Msg::TabParty)),
        _ => ("⇅", lang.t(Msg::Sync)),
    }
}

#[component]
pub fn TabBar(
    current: Destination,
    roles: Vec<Role>,
    lang: Lang,
    on_tab: EventHandler<Destination>,
) -> Element {
    rsx! {
        nav { class: "tabs",
            for r in tabs_for(&roles) {
                button {
                    class: if r == current { "tab on" } else { "tab" },
                    "data-tab": "{tab_label(&r, Lang::En).1}",
                    onclick: move |_| on_tab.call(r),
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
                button { class: "back", "aria-label": lang.t(Msg::ActionBack), onclick: move |_| back.call(()), "‹" }
            }
            h1 { "{title}" }
        }
    }
}
