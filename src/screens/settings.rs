//! Sync & settings: everything waiting to go up with its state and the server's reason when it
//! was refused, "sync now", language, large type, sign out (warning when unsent items exist), and
//! wiping this device.

use crate::i18n::{ErrorWords, Lang, Msg};
use crate::state::{Services, Ui, use_load};
use crate::widgets::{TitleBar, china_time};
use dioxus::prelude::*;
use gridmate_device::outbox::{OutboxEntry, OutboxState};
use gridmate_device::sync::Trigger;
use gridmate_device::{Store, SyncStatus};

#[derive(Clone, Debug, PartialEq)]
pub struct SettingsData {
    pub status: SyncStatus,
    pub outbox: Vec<OutboxEntry>,
    pub user: String,
    pub server: Option<String>,
}

impl SettingsData {
    pub fn read(store: &Store) -> Result<SettingsData, gridmate_device::DeviceError> {
        Ok(SettingsData {
            status: store.sync_status()?,
            outbox: store.outbox(
                &[
                    OutboxState::Failed,
                    OutboxState::Pending,
                    OutboxState::Merged,
                ],
                100,
            )?,
            user: store.session()?.map(|s| s.user.name).unwrap_or_default(),
            server: store.server_address()?,
        })
    }
}

fn kind_label(kind: &str, lang: Lang) -> &'static str {
    match kind {
        "visit.record" => lang.t(Msg::Visit),
        "issue.report" => lang.t(Msg::IssueReport),
        "issue.event" => lang.t(Msg::IssueStep),
        "household.patch" => lang.t(Msg::HouseholdEdit),
        "resident.patch" => lang.t(Msg::ResidentEdit),
        "checkin.record" => lang.t(Msg::KindCheckIn),
        "service.record" => lang.t(Msg::KindService),
        _ => lang.t(Msg::Other),
    }
}

fn state_label(s: OutboxState, lang: Lang) -> &'static str {
    match s {
        OutboxState::Pending => lang.t(Msg::Waiting),
        OutboxState::Acked => lang.t(Msg::Uploaded),
        OutboxState::Merged => lang.t(Msg::Merged),
        OutboxState::Failed => lang.t(Msg::Refused),
    }
}

/// Which confirmation is open.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Confirm {
    SignOut,
    Wipe,
}

#[component]
pub fn SettingsView(
    data: SettingsData,
    lang: Lang,
    big_type: bool,
    confirm: Option<Confirm>,
    on_sync: EventHandler<()>,
    on_lang: EventHandler<Lang>,
    on_big_type: EventHandler<bool>,
    on_ask: EventHandler<Option<Confirm>>,
    on_confirmed: EventHandler<Confirm>,
) -> Element {
    let s = &data.status;
    let unsent = s.pending + s.failed;
    rsx! {
        section { class: "card",
            h2 { {lang.t(Msg::Sync)} }
            p { {lang.t1(Msg::SyncPending, s.pending)}
                if s.failed > 0 { " · " span { class: "warn", {lang.t1(Msg::SyncFailed, s.failed)} } }
                if s.merged > 0 { " · " {lang.t(Msg::MergedCount)} "{s.merged}" }
            }
            p { class: "muted",
                {match s.last_sync_at { Some(t) => lang.t1(Msg::SyncLast, china_time(t)), None => lang.t(Msg::SyncNever).to_string() }}
            }
            if let Some(server) = &data.server { p { class: "muted small", "{server}" } }
            button { class: "primary wide", "data-action": "sync-now", onclick: move |_| on_sync.call(()), {lang.t(Msg::SyncNow)} }
        }
        section { class: "card outbox",
            h2 { {lang.t(Msg::WaitingAndRefused)} span { class: "count", " {data.outbox.len()}" } }
            if data.outbox.is_empty() { p { class: "empty", {lang.t(Msg::EverythingIsUploaded)} } }
            ul {
                for e in data.outbox.iter() {
                    li { class: "row outbox-row state-{e.state.code()}",
                        span { class: "name", {kind_label(&e.kind, lang)} }
                        span { class: "muted small", {china_time(e.recorded_at)} }
                        span { class: "tag state-{e.state.code()}", {state_label(e.state, lang)} }
                        if e.attempts > 1 { span { class: "muted small", {lang.t(Msg::Tries)} "{e.attempts}" } }
                        if e.state == OutboxState::Failed || e.state == OutboxState::Merged {
                            span { class: "reason", title: e.error_message.clone().unwrap_or_default(), {lang.server_refusal(e.error_code.as_deref())} }
                        }
                    }
                }
            }
        }
        section { class: "card",
            h2 { {lang.t(Msg::Settings)} }
            div { class: "setting",
                span { {lang.t(Msg::Language)} }
                button { class: if lang == Lang::Zh { "seg on" } else { "seg" }, "data-lang": "zh", onclick: move |_| on_lang.call(Lang::Zh), "中文" }
                button { class: if lang == Lang::En { "seg on" } else { "seg" }, "data-lang": "en", onclick: move |_| on_lang.call(Lang::En), "English" }
            }
            label { class: "check",
                input { r#type: "checkbox", name: "big_type", checked: big_type, onchange: move |e: FormEvent| on_big_type.call(e.checked()) }
                {lang.t(Msg::LargeType)}
            }
        }
        section { class: "card danger",
            p { class: "muted", "{data.user}" }
            button { class: "secondary wide", "data-action": "sign-out", onclick: move |_| on_ask.call(Some(Confirm::SignOut)), {lang.t(Msg::SignOut)} }
            button { class: "danger wide", "data-action": "wipe", onclick: move |_| on_ask.call(Some(Confirm::Wipe)), {lang.t(Msg::WipeThisDevice)} }
        }
        if let Some(c) = confirm {
            div { class: "dialog", role: "alertdialog",
                p {
                    {match c {
                        Confirm::SignOut => lang.t(Msg::SigningOutRemovesResidentsDataFrom),
                        Confirm::Wipe => lang.t(Msg::ThisRemovesEverythingOnThisPhone),
                    }}
                }
                if unsent > 0 {
                    p { class: "warn", "data-warning": "unsent",
                        {match c {
                            Confirm::SignOut => lang.t1(Msg::SettingsUnsentKept, unsent),
                            Confirm::Wipe => lang.t1(Msg::SettingsUnsentLost, unsent),
                        }}
                    }
                }
                button { class: "danger wide", "data-action": "confirm", onclick: move |_| on_confirmed.call(c),
                    {match c { Confirm::SignOut => lang.t(Msg::ConfirmSignOut), Confirm::Wipe => lang.t(Msg::ConfirmWipe) }} }
                button { class: "secondary wide", onclick: move |_| on_ask.call(None), {lang.t(Msg::ActionCancel)} }
            }
        }
    }
}

#[component]
pub fn SettingsScreen() -> Element {
    let mut ui = use_context::<Ui>();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let mut confirm = use_signal(|| None::<Confirm>);
    let data = use_load(|s| SettingsData::read(s));
    let s1 = services.clone();
    let s2 = services.clone();
    let s3 = services.clone();
    let on_confirmed = move |c: Confirm| {
        let services = s3.clone();
        confirm.set(None);
        spawn(async move {
            services.stop_sync();
            let _ = services
                .store
                .run(move |s| match c {
                    Confirm::SignOut => s.sign_out(),
                    Confirm::Wipe => s.wipe_device(),
                })
                .await;
            if c == Confirm::Wipe {
                ui.server.set(None);
            }
            ui.session.set(None);
            ui.changed();
        });
    };
    rsx! {
        TitleBar { title: lang.t(Msg::SyncSettings).to_string(), lang, on_back: None }
        match &*data.read() {
            None => rsx! { crate::widgets::Loading { lang } },
            Some(Err(e)) => rsx! { crate::widgets::ErrorCard { message: e.clone() } },
            Some(Ok(d)) => rsx! {
                SettingsView {
                    data: d.clone(), lang, big_type: (ui.big_type)(), confirm: confirm(),
                    on_sync: move |_| { s1.trigger(Trigger::Now); ui.say(Msg::Syncing) },
                    on_lang: move |l: Lang| {
                        ui.lang.set(l);
                        let store = s2.store.clone();
                        spawn(async move { let _ = store.run(move |s| s.set_preference("lang", l.code())).await; });
                    },
                    on_big_type: move |on: bool| {
                        ui.big_type.set(on);
                        let store = services.store.clone();
                        spawn(async move { let _ = store.run(move |s| s.set_preference("big_type", if on { "1" } else { "0" })).await; });
                    },
                    on_ask: move |c| confirm.set(c),
                    on_confirmed,
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{demo_store, render};
    use gridmate_model::Role;

    fn view(data: SettingsData, lang: Lang, confirm: Option<Confirm>) -> String {
        render(move || {
            rsx! {
                SettingsView { data: data.clone(), lang, big_type: false, confirm,
                    on_sync: |_| {}, on_lang: |_| {}, on_big_type: |_| {}, on_ask: |_| {}, on_confirmed: |_| {} }
            }
        })
    }

    #[test]
    fn the_outbox_is_listed_and_signing_out_warns_about_unsent_items() {
        let (_dir, mut store) = demo_store(Role::GridWorker);
        let empty = view(
            SettingsData::read(&store).unwrap(),
            Lang::Zh,
            Some(Confirm::SignOut),
        );
        assert!(empty.contains("全部已上传"));
        assert!(
            !empty.contains("data-warning"),
            "nothing unsent, no warning"
        );

        crate::screens::fixtures::report(&mut store, gridmate_model::IssueCategory::Noise, "噪音");
        let data = SettingsData::read(&store).unwrap();
        assert_eq!(data.outbox.len(), 1);
        let html = view(data.clone(), Lang::Zh, Some(Confirm::SignOut));
        assert!(html.contains("上报问题") && html.contains("待上传"));
        assert!(html.contains("data-warning=\"unsent\"") && html.contains("1 条未上传"));
        let wipe = view(data, Lang::En, Some(Confirm::Wipe));
        assert!(wipe.contains("1 unsent") && wipe.contains("lost"));
    }
}
