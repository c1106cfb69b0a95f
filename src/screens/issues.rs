//! The issue ledger: a filtered list (mine, my grid, status, category) and one issue's detail —
//! photos, the timeline of every step, and the actions the state machine allows this user's
//! roles from the issue's status. Steps the server merged or refused say so, with its reason.

use crate::app::{Route, Services, Ui, device_error, use_load};
use crate::i18n::{Labelled, Lang};
use crate::screens::visit::add_photo;
use crate::widgets::{
    ErrorCard, Loading, PhotoStrip, StatusChip, TitleBar, category_icon, china_date, china_time,
    thumb_urls,
};
use dioxus::prelude::*;
use gridmate_device::outbox::OutboxState;
use gridmate_device::sync::Trigger;
use gridmate_device::{Delivery, IssueDetail, IssueFilter, IssueRow};
use gridmate_model::issue::allowed_actions;
use gridmate_model::{IssueAction, IssueCategory, IssueId, IssueStatus, PhotoRef, Role, UserId};

/// Which slice of the ledger the list shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ListFilter {
    pub mine: bool,
    pub status: Option<IssueStatus>,
    pub category: Option<IssueCategory>,
}

/// Actions that need more than a note (a person to assign, the issue it duplicates) are done by
/// grid leaders on the office system; the phone offers the rest.
fn offered(status: IssueStatus, roles: &[Role]) -> Vec<IssueAction> {
    allowed_actions(status, roles)
        .into_iter()
        .filter(|a| !matches!(a, IssueAction::Assign | IssueAction::RejectDuplicate))
        .collect()
}

#[component]
pub fn IssueList(
    rows: Vec<IssueRow>,
    filter: ListFilter,
    lang: Lang,
    on_filter: EventHandler<ListFilter>,
    on_open: EventHandler<IssueId>,
) -> Element {
    rsx! {
        div { class: "filters",
            button { class: if !filter.mine { "chip on" } else { "chip" }, "data-filter": "grid",
                onclick: move |_| on_filter.call(ListFilter { mine: false, ..filter }), {lang.pick("本网格", "My grid")} }
            button { class: if filter.mine { "chip on" } else { "chip" }, "data-filter": "mine",
                onclick: move |_| on_filter.call(ListFilter { mine: true, ..filter }), {lang.pick("我上报的", "Mine")} }
            select { name: "status",
                onchange: move |e: FormEvent| on_filter.call(ListFilter { status: IssueStatus::from_code(&e.value()), ..filter }),
                option { value: "", {lang.pick("全部未销号", "All open")} }
                for s in IssueStatus::ALL.iter().copied() {
                    option { value: s.code(), selected: filter.status == Some(s), {s.label(lang)} }
                }
            }
            select { name: "category",
                onchange: move |e: FormEvent| on_filter.call(ListFilter { category: IssueCategory::from_code(&e.value()), ..filter }),
                option { value: "", {lang.pick("全部类别", "All kinds")} }
                for c in IssueCategory::ALL.iter().copied() {
                    option { value: c.code(), selected: filter.category == Some(c), {c.label(lang)} }
                }
            }
        }
        section { class: "card",
            h2 { {lang.pick("问题", "Issues")} span { class: "count", " {rows.len()}" } }
            if rows.is_empty() { p { class: "empty", {lang.pick("没有符合条件的问题", "No issues match")} } }
            ul {
                for i in rows.iter() {
                    li { class: "row issue-row", onclick: { let id = i.id; move |_| on_open.call(id) },
                        span { class: "cat-icon cat-{i.category.code()}", {category_icon(i.category)} }
                        span { class: "name", "{i.title}" }
                        span { class: "muted small", {china_date(i.reported_at)} " · " {i.severity.label(lang)} }
                        StatusChip { status: i.status, lang }
                    }
                }
            }
        }
    }
}

#[component]
pub fn IssuesScreen() -> Element {
    let ui = use_context::<Ui>();
    let lang = (ui.lang)();
    let mut filter = use_signal(|| ListFilter {
        mine: false,
        status: None,
        category: None,
    });
    let me: Option<UserId> = ui.session.read().as_ref().map(|s| s.user.id);
    let rows = use_resource(move || {
        let f = filter();
        let _ = (ui.refresh)();
        let services = consume_context::<Services>();
        async move {
            services
                .store
                .run(move |s| {
                    s.issues(&IssueFilter {
                        statuses: f.status.into_iter().collect(),
                        category: f.category,
                        reported_by: if f.mine { me } else { None },
                        limit: 200,
                        ..Default::default()
                    })
                })
                .await
                .map_err(|g| g.to_string())
                .and_then(|r| r.map_err(|e| device_error(lang, &e)))
        }
    });
    rsx! {
        TitleBar { title: lang.pick("问题台账", "Issue ledger").to_string(), lang, on_back: None }
        button { class: "primary wide", "data-action": "report",
            onclick: move |_| ui.go(Route::Report { building: None, household: None }),
            {lang.pick("上报问题", "Report a problem")} }
        match &*rows.read() {
            None => rsx! { Loading { lang } },
            Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
            Some(Ok(r)) => rsx! {
                IssueList { rows: r.clone(), filter: filter(), lang, on_filter: move |f| filter.set(f), on_open: move |id| ui.go(Route::Issue(id)) }
            },
        }
    }
}

#[component]
fn DeliveryNote(delivery: Option<Delivery>, merged_reason: Option<String>, lang: Lang) -> Element {
    rsx! {
        if let Some(d) = delivery {
            span { class: "tag state-{d.state.code()}",
                {match d.state {
                    OutboxState::Pending => lang.pick("待上传", "Not uploaded"),
                    OutboxState::Merged => lang.pick("已并为留言", "Kept as a comment"),
                    OutboxState::Failed => lang.pick("上传被拒", "Refused by server"),
                    OutboxState::Acked => "",
                }}
                if let Some(r) = d.reason { "：{r}" }
            }
        }
        if let Some(r) = merged_reason {
            span { class: "tag state-merged", {lang.pick("已并为留言", "Kept as a comment")} "：{r}" }
        }
    }
}

/// One issue, its timeline, and what this user may do next.
#[component]
pub fn IssueView(
    detail: IssueDetail,
    thumbs: Vec<String>,
    roles: Vec<Role>,
    me: Option<UserId>,
    note: String,
    note_photos: usize,
    error: Option<String>,
    lang: Lang,
    on_note: EventHandler<String>,
    on_photo: EventHandler<()>,
    on_action: EventHandler<IssueAction>,
) -> Element {
    let i = &detail.issue;
    let actions = offered(i.status, &roles);
    rsx! {
        div { class: "issue-head",
            span { class: "cat-icon cat-{i.category.code()}", {category_icon(i.category)} }
            div {
                p { class: "sub", {i.category.label(lang)} " · " {i.severity.label(lang)} " · " {detail.source.label(lang)} }
                StatusChip { status: i.status, lang }
                DeliveryNote { delivery: detail.delivery.clone(), merged_reason: None, lang }
            }
        }
        section { class: "card",
            if let Some(a) = &detail.household_address { p { class: "sub", {lang.pick("地点：", "Where: ")} "{a}" } }
            else if let Some(b) = &detail.building_number { p { class: "sub", {lang.pick("地点：", "Where: ")} "{b}" {lang.pick("栋", "")} } }
            p { class: "description", "{detail.description}" }
            PhotoStrip { thumbs }
            p { class: "muted small", {lang.pick("上报于 ", "Reported ")} {china_time(i.reported_at)} }
        }
        section { class: "card timeline",
            h2 { {lang.pick("处理经过", "Timeline")} }
            if detail.events.is_empty() { p { class: "empty", {lang.pick("尚无处理记录", "Nothing done yet")} } }
            ol {
                for e in detail.events.iter() {
                    li { class: "event",
                        span { class: "when", {china_time(e.event.at)} }
                        b { {e.event.action.label(lang)} }
                        span { class: "muted", " · " {if Some(e.event.actor) == me { lang.pick("我", "me") } else { lang.pick("同事", "colleague") }} }
                        if !e.event.note.is_empty() { p { "{e.event.note}" } }
                        if !e.event.photos.is_empty() { span { class: "muted small", {lang.pick("照片 ", "photos ")} "{e.event.photos.len()}" } }
                        DeliveryNote { delivery: e.delivery.clone(), merged_reason: e.event.merged_reason.clone(), lang }
                    }
                }
            }
        }
        section { class: "card act",
            h2 { {lang.pick("处理", "Act")} }
            textarea { name: "note", rows: "3", value: "{note}",
                placeholder: lang.pick("说明（留言必填）", "Note (required for a comment)"),
                oninput: move |e| on_note.call(e.value()) }
            div { class: "photo-row",
                button { class: "secondary", "data-action": "camera", onclick: move |_| on_photo.call(()), {lang.pick("拍照", "Take photo")} }
                span { class: "muted", " {note_photos} " {lang.pick("张", "photos")} }
            }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            div { class: "action-buttons",
                for a in actions {
                    button { class: if a == IssueAction::Comment { "secondary" } else { "primary" },
                        "data-issue-action": a.code(),
                        onclick: move |_| on_action.call(a),
                        {a.label(lang)} }
                }
            }
        }
    }
}

#[component]
pub fn IssueScreen(issue: IssueId) -> Element {
    let ui = use_context::<Ui>();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let mut note = use_signal(String::new);
    let mut photos = use_signal(Vec::<PhotoRef>::new);
    let mut error = use_signal(|| None::<String>);
    let data = use_load(move |s| {
        let d = s.issue(issue)?;
        let t = thumb_urls(s, &d.photos);
        Ok((d, t))
    });
    let session = ui.session.read().clone();
    let roles = session
        .as_ref()
        .map(|s| s.user.roles.clone())
        .unwrap_or_default();
    let me = session.as_ref().map(|s| s.user.id);
    let s1 = services.clone();
    let on_photo = move |_| {
        let services = s1.clone();
        spawn(async move {
            match add_photo(&services, None, lang).await {
                Some(Ok(sha)) => photos.write().push(sha),
                Some(Err(e)) => error.set(Some(e)),
                None => error.set(Some(lang.pick("没有拍到照片", "No photo taken").into())),
            }
        });
    };
    let on_action = move |a: IssueAction| {
        let text = note();
        let ph = photos();
        let services = services.clone();
        spawn(async move {
            let r = services
                .store
                .run(move |s| s.act_on_issue(issue, a, &text, ph))
                .await;
            match r {
                Ok(Ok(_)) => {
                    note.set(String::new());
                    photos.set(Vec::new());
                    error.set(None);
                    services.trigger(Trigger::LocalWrite);
                    ui.changed();
                    ui.say(lang.pick("已保存，联网后自动上传", "Saved; it uploads when online"));
                }
                Ok(Err(e)) => error.set(Some(device_error(lang, &e))),
                Err(g) => error.set(Some(g.to_string())),
            }
        });
    };
    match &*data.read() {
        None => rsx! { Loading { lang } },
        Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
        Some(Ok((d, t))) => rsx! {
            TitleBar { title: d.issue.title.clone(), lang, on_back: move |_| ui.back() }
            IssueView {
                detail: d.clone(), thumbs: t.clone(), roles: roles.clone(), me,
                note: note(), note_photos: photos().len(), error: error(), lang,
                on_note: move |t| note.set(t), on_photo, on_action,
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{demo_store, render, session};
    use crate::screens::report::ReportForm;

    fn view(detail: IssueDetail, role: Role, lang: Lang) -> String {
        render(move || {
            rsx! {
                IssueView {
                    detail: detail.clone(), thumbs: vec![], roles: vec![role], me: None,
                    note: String::new(), note_photos: 0, error: None, lang,
                    on_note: |_| {}, on_photo: |_| {}, on_action: |_| {},
                }
            }
        })
    }

    fn offered_in(html: &str) -> Vec<String> {
        html.split("data-issue-action=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_string())
            .collect()
    }

    #[test]
    fn each_role_is_offered_what_the_state_machine_allows() {
        let (_dir, mut store) = demo_store(Role::GridWorker);
        let mut f = ReportForm::new(None, None);
        f.category = Some(IssueCategory::BrokenFacility);
        f.description = "路灯不亮".into();
        let id = f.save(&mut store, None).unwrap();
        let d = store.issue(id).unwrap();
        assert_eq!(d.issue.status, IssueStatus::Reported);

        let worker = view(d.clone(), Role::GridWorker, Lang::Zh);
        assert!(worker.contains("路灯不亮") && worker.contains("待上传"));
        assert_eq!(
            offered_in(&worker),
            offered(IssueStatus::Reported, &[Role::GridWorker])
                .iter()
                .map(|a| a.code().to_string())
                .collect::<Vec<_>>()
        );
        assert!(offered_in(&worker).contains(&"accept".to_string()));
        let leader_b = view(d.clone(), Role::BuildingLeader, Lang::Zh);
        assert!(
            !offered_in(&leader_b).contains(&"accept".to_string()),
            "a building leader cannot accept"
        );
        assert!(offered_in(&leader_b).contains(&"comment".to_string()));
        let leader = view(d.clone(), Role::GridLeader, Lang::En);
        assert!(
            !offered_in(&leader).contains(&"assign".to_string()),
            "assign needs a person: not on the phone"
        );
        assert!(leader.contains("Not uploaded"));

        // Resolved: the grid leader may verify and close; the worker may not.
        store
            .act_on_issue(id, IssueAction::Accept, "", vec![])
            .unwrap();
        store
            .act_on_issue(id, IssueAction::Start, "", vec![])
            .unwrap();
        store
            .act_on_issue(id, IssueAction::Resolve, "已更换灯泡", vec![])
            .unwrap();
        let d = store.issue(id).unwrap();
        let leader = view(d.clone(), Role::GridLeader, Lang::Zh);
        assert!(offered_in(&leader).contains(&"close".to_string()));
        assert!(
            !offered_in(&view(d.clone(), Role::GridWorker, Lang::Zh))
                .contains(&"close".to_string())
        );
        // The timeline shows each step in order.
        let html = view(d, Role::GridWorker, Lang::Zh);
        let (a, b, c) = (
            html.find("受理").unwrap(),
            html.find("开始处理").unwrap(),
            html.find("已更换灯泡").unwrap(),
        );
        assert!(a < b && b < c);
        let _ = session(Role::GridLeader);
    }

    #[test]
    fn the_list_filters_and_counts() {
        let (_dir, store) = demo_store(Role::GridWorker);
        let rows = store
            .issues(&IssueFilter {
                limit: 200,
                ..Default::default()
            })
            .unwrap();
        assert!(!rows.is_empty());
        let shown = rows.clone();
        let html = render(move || {
            rsx! {
                IssueList { rows: shown.clone(), filter: ListFilter { mine: false, status: None, category: None }, lang: Lang::Zh, on_filter: |_| {}, on_open: |_| {} }
            }
        });
        assert_eq!(html.matches("issue-row").count(), rows.len());
        assert!(html.contains("本网格") && html.contains("我上报的"));
    }
}
