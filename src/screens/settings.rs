//! Sync & settings: everything waiting to go up with its state and the server's reason when it
//! was refused, "sync now", language, large type, sign out (warning when unsent items exist), and
//! wiping this device.

use crate::app::{Services, Ui, use_load};
use crate::i18n::Lang;
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
        "visit.record" => lang.pick("走访", "Visit"),
        "issue.report" => lang.pick("上报问题", "Issue report"),
        "issue.event" => lang.pick("问题处理", "Issue step"),
        "household.patch" => lang.pick("修改住户", "Household edit"),
        "resident.patch" => lang.pick("修改居民", "Resident edit"),
        "checkin.record" => lang.pick("签到", "Check-in"),
        "service.record" => lang.pick("志愿服务", "Service"),
        _ => lang.pick("其他", "Other"),
    }
}

fn state_label(s: OutboxState, lang: Lang) -> &'static str {
    match s {
        OutboxState::Pending => lang.pick("待上传", "Waiting"),
        OutboxState::Acked => lang.pick("已上传", "Uploaded"),
        OutboxState::Merged => lang.pick("已合并", "Merged"),
        OutboxState::Failed => lang.pick("被拒绝", "Refused"),
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
            h2 { {lang.pick("同步", "Sync")} }
            p { {lang.t1("sync.pending", s.pending)}
                if s.failed > 0 { " · " span { class: "warn", {lang.t1("sync.failed", s.failed)} } }
                if s.merged > 0 { " · " {lang.pick("已合并 ", "merged ")} "{s.merged}" }
            }
            p { class: "muted",
                {match s.last_sync_at { Some(t) => lang.t1("sync.last", china_time(t)), None => lang.t("sync.never").to_string() }}
            }
            if let Some(server) = &data.server { p { class: "muted small", "{server}" } }
            button { class: "primary wide", "data-action": "sync-now", onclick: move |_| on_sync.call(()), {lang.pick("立即同步", "Sync now")} }
        }
        section { class: "card outbox",
            h2 { {lang.pick("待上传与失败记录", "Waiting and refused")} span { class: "count", " {data.outbox.len()}" } }
            if data.outbox.is_empty() { p { class: "empty", {lang.pick("全部已上传", "Everything is uploaded")} } }
            ul {
                for e in data.outbox.iter() {
                    li { class: "row outbox-row state-{e.state.code()}",
                        span { class: "name", {kind_label(&e.kind, lang)} }
                        span { class: "muted small", {china_time(e.recorded_at)} }
                        span { class: "tag state-{e.state.code()}", {state_label(e.state, lang)} }
                        if e.attempts > 1 { span { class: "muted small", {lang.pick("已尝试 ", "tries ")} "{e.attempts}" } }
                        if let Some(m) = &e.error_message { span { class: "reason", "{m}" } }
                    }
                }
            }
        }
        section { class: "card",
            h2 { {lang.pick("设置", "Settings")} }
            div { class: "setting",
                span { {lang.pick("语言", "Language")} }
                button { class: if lang == Lang::Zh { "seg on" } else { "seg" }, "data-lang": "zh", onclick: move |_| on_lang.call(Lang::Zh), "中文" }
                button { class: if lang == Lang::En { "seg on" } else { "seg" }, "data-lang": "en", onclick: move |_| on_lang.call(Lang::En), "English" }
            }
            label { class: "check",
                input { r#type: "checkbox", name: "big_type", checked: big_type, onchange: move |e: FormEvent| on_big_type.call(e.checked()) }
                {lang.pick("大字体", "Large type")}
            }
        }
        section { class: "card danger",
            p { class: "muted", "{data.user}" }
            button { class: "secondary wide", "data-action": "sign-out", onclick: move |_| on_ask.call(Some(Confirm::SignOut)), {lang.pick("退出登录", "Sign out")} }
            button { class: "danger wide", "data-action": "wipe", onclick: move |_| on_ask.call(Some(Confirm::Wipe)), {lang.pick("清除本机数据", "Wipe this device")} }
        }
        if let Some(c) = confirm {
            div { class: "dialog", role: "alertdialog",
                p {
                    {match c {
                        Confirm::SignOut => lang.pick("退出后本机的居民信息将被清除。", "Signing out removes residents' data from this phone."),
                        Confirm::Wipe => lang.pick("将清除本机全部数据，包括未上传的记录，且无法恢复。", "This removes everything on this phone, unsent records included. It cannot be undone."),
                    }}
                }
                if unsent > 0 {
                    p { class: "warn", "data-warning": "unsent",
                        {match c {
                            Confirm::SignOut => lang.t1("settings.unsent.kept", unsent),
                            Confirm::Wipe => lang.t1("settings.unsent.lost", unsent),
                        }}
                    }
                }
                button { class: "danger wide", "data-action": "confirm", onclick: move |_| on_confirmed.call(c),
                    {match c { Confirm::SignOut => lang.pick("确认退出", "Sign out"), Confirm::Wipe => lang.pick("确认清除", "Wipe") }} }
                button { class: "secondary wide", onclick: move |_| on_ask.call(None), {lang.t("action.cancel")} }
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
        TitleBar { title: lang.pick("同步与设置", "Sync & settings").to_string(), lang, on_back: None }
        match &*data.read() {
            None => rsx! { crate::widgets::Loading { lang } },
            Some(Err(e)) => rsx! { crate::widgets::ErrorCard { message: e.clone() } },
            Some(Ok(d)) => rsx! {
                SettingsView {
                    data: d.clone(), lang, big_type: (ui.big_type)(), confirm: confirm(),
                    on_sync: move |_| { s1.trigger(Trigger::Now); ui.say(lang.pick("正在同步…", "Syncing…")) },
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
    use crate::screens::report::ReportForm;
    use gridmate_model::{IssueCategory, Role};

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

        let mut f = ReportForm::new(None, None);
        f.category = Some(IssueCategory::Noise);
        f.save(&mut store, None).unwrap();
        let data = SettingsData::read(&store).unwrap();
        assert_eq!(data.outbox.len(), 1);
        let html = view(data.clone(), Lang::Zh, Some(Confirm::SignOut));
        assert!(html.contains("上报问题") && html.contains("待上传"));
        assert!(html.contains("data-warning=\"unsent\"") && html.contains("1 条未上传"));
        let wipe = view(data, Lang::En, Some(Confirm::Wipe));
        assert!(wipe.contains("1 unsent") && wipe.contains("lost"));
    }
}
