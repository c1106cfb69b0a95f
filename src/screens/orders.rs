//! Residents' requests (三单制) on the phone: record one on a household (群众点单), an order's
//! detail with its timeline and the steps this user may take (接单, 办结 with the service logged in
//! the same action, 回访 with the resident's feedback), and the list a party member takes from.

use crate::draft::use_draft;
use crate::i18n::{Labelled, Lang, Msg};
use crate::state::{Destination, Services, Ui, use_load, use_nav};
use crate::widgets::{
    CaseNumberLine, Edit, ErrorCard, Loading, OrderChip, TitleBar, china_time, edit,
};
use chrono::{DateTime, Utc};
use dioxus::prelude::*;
use gridmate_device::{NewOrder, NewService, OrderDetail, OrderStep, Store};
use gridmate_model::validate::ValidationError;
use gridmate_model::{
    HouseholdId, Order, OrderAction, OrderId, OrderKind, OrderSource, Satisfaction, UserId,
};
use serde::{Deserialize, Serialize};

/// What the user is adding to an order: a note, and for "done" the hours of service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderForm {
    pub note: String,
    pub hours: String,
}

impl Default for OrderForm {
    fn default() -> Self {
        OrderForm {
            note: String::new(),
            hours: "1".into(),
        }
    }
}

impl OrderForm {
    pub fn draft_key(order: OrderId) -> String {
        format!("order:{order}")
    }

    /// Hours in tenths, as typed; out of range is the store's to refuse.
    fn hours_tenths(&self) -> Result<u16, ValidationError> {
        let hours: f64 = self
            .hours
            .trim()
            .parse()
            .map_err(|_| ValidationError::OutOfRange {
                field: "hours",
                value: f64::NAN,
            })?;
        Ok((hours * 10.0).round().clamp(0.0, 1000.0) as u16)
    }

    /// Take the step: `done` logs the service with it in one store call; `confirm` carries the
    /// resident's feedback.
    pub fn act(
        &self,
        store: &mut Store,
        order: &Order,
        action: OrderAction,
        satisfaction: Option<Satisfaction>,
    ) -> Result<(), gridmate_device::DeviceError> {
        if action == OrderAction::Done {
            let service = NewService {
                grid_id: order.grid_id,
                issue_id: None,
                order_id: Some(order.id),
                title: order.title.clone(),
                at: Utc::now(),
                hours_tenths: self.hours_tenths()?,
                people_served: 1,
                photos: vec![],
            };
            store.complete_order(order.id, &self.note, vec![], service)?;
            return Ok(());
        }
        let step = OrderStep {
            satisfaction,
            ..OrderStep::new(action, &self.note)
        };
        store.act_on_order(order.id, step).map(|_| ())
    }
}

/// One order, its steps, and what this user may do next.
#[component]
pub fn OrderView(
    detail: OrderDetail,
    me: Option<UserId>,
    form: OrderForm,
    error: Option<String>,
    now: DateTime<Utc>,
    lang: Lang,
    on_edit: EventHandler<Edit<OrderForm>>,
    on_action: EventHandler<(OrderAction, Option<Satisfaction>)>,
) -> Element {
    let o = &detail.order;
    let steps: Vec<OrderAction> = detail
        .actions
        .iter()
        .copied()
        .filter(|a| *a != OrderAction::Confirm)
        .collect();
    let feedback = detail.actions.contains(&OrderAction::Confirm);
    let done = detail.actions.contains(&OrderAction::Done);
    rsx! {
        div { class: "order-head",
            span { class: "tag plain", {o.kind.label(lang)} }
            OrderChip { status: o.status, due_at: o.due_at, now, lang }
            CaseNumberLine { number: o.number.clone(), lang }
            p { class: "muted small", {lang.t(Msg::DueBy)} " {china_time(o.due_at)}" }
        }
        section { class: "card",
            if !o.requester.is_empty() { p { class: "sub", {lang.t(Msg::Requester)} "：{o.requester}" } }
            if !o.address.is_empty() { p { class: "sub", {lang.t(Msg::Where)} "{o.address}" } }
            if !o.description.is_empty() { p { class: "description", "{o.description}" } }
            if let Some(s) = o.satisfaction { p { {lang.t(Msg::ResidentFeedback)} "：" b { {s.label(lang)} } } }
        }
        section { class: "card timeline",
            h2 { {lang.t(Msg::Timeline)} }
            if detail.events.is_empty() { p { class: "empty", {lang.t(Msg::NothingDoneYet)} } }
            ol {
                for e in detail.events.iter() {
                    li { class: "event",
                        span { class: "when", {china_time(e.at)} }
                        b { {e.action.label(lang)} }
                        span { class: "muted", " · " {if Some(e.actor) == me { lang.t(Msg::Me) } else { lang.t(Msg::Colleague) }} }
                        if !e.note.is_empty() { p { "{e.note}" } }
                        if let Some(r) = &e.merged_reason { p { class: "muted small", "{r}" } }
                    }
                }
            }
        }
        section { class: "card act",
            h2 { {lang.t(Msg::Act)} }
            textarea { name: "note", rows: "3", initial_value: "{form.note}",
                placeholder: lang.t(Msg::NoteRequiredForAComment),
                oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut OrderForm| f.note = v.clone())) } }
            if done {
                div { class: "form",
                    label { {lang.t(Msg::ServiceHours)}
                        input { name: "hours", r#type: "number", step: "0.5", min: "0.5", max: "24", inputmode: "decimal", value: "{form.hours}",
                            oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut OrderForm| f.hours = v.clone())) } }
                    }
                }
            }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            if feedback {
                p { class: "sub", {lang.t(Msg::ResidentFeedback)} }
                div { class: "action-buttons",
                    for s in Satisfaction::ALL {
                        button { class: "primary", "data-satisfaction": s.code(),
                            onclick: move |_| on_action.call((OrderAction::Confirm, Some(s))),
                            {s.label(lang)} }
                    }
                }
            }
            div { class: "action-buttons",
                for a in steps {
                    button { class: if a == OrderAction::Comment { "secondary" } else { "primary" },
                        "data-order-action": a.code(),
                        onclick: move |_| on_action.call((a, None)),
                        {a.label(lang)} }
                }
            }
        }
    }
}

#[component]
pub fn OrderScreen(order: OrderId) -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let draft = use_draft(OrderForm::draft_key(order), OrderForm::default);
    let error = use_signal(|| None::<String>);
    let mut generation = use_signal(|| 0u32);
    let data = use_load(move |s| s.order(order));
    let me = ui.session.read().as_ref().map(|s| s.user.id);
    let on_action = move |(a, satisfaction): (OrderAction, Option<Satisfaction>)| {
        let Some(Ok(detail)) = &*data.peek() else {
            return;
        };
        let current = detail.order.clone();
        let services = services.clone();
        draft.submit(
            error,
            move |s, f: OrderForm| f.act(s, &current, a, satisfaction),
            move |()| {
                draft.reset(OrderForm::default());
                generation += 1;
                ui.saved(&services, Msg::SavedItUploadsWhenOnline, None);
            },
        );
    };
    match &*data.read() {
        None => rsx! { Loading { lang } },
        Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
        Some(Ok(d)) => rsx! {
            TitleBar { title: d.order.title.clone(), lang, on_back: move |_| nav.back() }
            if (draft.ready)() {
                OrderView {
                    key: "{generation}",
                    detail: d.clone(), me, form: draft.form.cloned(), error: error(), now: Utc::now(), lang,
                    on_edit: move |e| draft.edit(e),
                    on_action,
                }
            }
        },
    }
}

/// A resident's request as typed so far; also the draft's JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestForm {
    pub kind: Option<String>,
    pub title: String,
    pub description: String,
    pub requester: String,
}

impl RequestForm {
    pub fn draft_key(household: HouseholdId) -> String {
        format!("request:{household}")
    }

    pub fn save(
        &self,
        store: &mut Store,
        household: HouseholdId,
    ) -> Result<OrderId, gridmate_device::DeviceError> {
        let detail = store.household(household)?;
        let kind = self
            .kind
            .as_deref()
            .and_then(OrderKind::from_code)
            .unwrap_or(OrderKind::Other);
        let requester = if self.requester.trim().is_empty() {
            detail.household.head_name.clone()
        } else {
            self.requester.clone()
        };
        store.record_order(NewOrder {
            grid_id: detail.household.grid_id,
            household_id: Some(household),
            kind,
            source: OrderSource::Visit,
            title: self.title.clone(),
            description: self.description.clone(),
            requester,
            photos: vec![],
        })
    }
}

#[component]
pub fn RequestView(
    form: RequestForm,
    head_name: String,
    error: Option<String>,
    lang: Lang,
    on_edit: EventHandler<Edit<RequestForm>>,
    on_save: EventHandler<()>,
) -> Element {
    let chosen = form.kind.clone();
    rsx! {
        div { class: "form",
            p { class: "sub", {lang.t(Msg::RequestKind)} }
            div { class: "chips",
                for k in OrderKind::ALL {
                    button { r#type: "button", "data-kind": k.code(),
                        class: if chosen.as_deref() == Some(k.code()) { "chip on" } else { "chip" },
                        onclick: move |_| on_edit.call(edit(move |f: &mut RequestForm| f.kind = Some(k.code().to_string()))),
                        {k.label(lang)} }
                }
            }
            label { {lang.t(Msg::WhatTheyAskFor)}
                input { name: "title", initial_value: "{form.title}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut RequestForm| f.title = v.clone())) } }
            }
            label { {lang.t(Msg::RequestDetails)}
                textarea { name: "description", rows: "3", initial_value: "{form.description}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut RequestForm| f.description = v.clone())) } }
            }
            label { {lang.t(Msg::Requester)}
                input { name: "requester", initial_value: "{form.requester}", placeholder: "{head_name}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut RequestForm| f.requester = v.clone())) } }
            }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            button { class: "primary", r#type: "button", "data-action": "save-request",
                onclick: move |_| on_save.call(()), {lang.t(Msg::ActionSave)} }
        }
    }
}

#[component]
pub fn RequestScreen(household: HouseholdId) -> Element {
    let ui = use_context::<Ui>();
    let nav = use_nav();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let draft = use_draft(RequestForm::draft_key(household), RequestForm::default);
    let error = use_signal(|| None::<String>);
    let head = use_load(move |s| s.household(household).map(|d| d.household.head_name));
    let on_save = move |_| {
        let services = services.clone();
        draft.submit(
            error,
            move |s, f| f.save(s, household),
            move |id| {
                ui.saved(
                    &services,
                    Msg::RequestRecorded,
                    Some(Destination::Order(id)),
                );
                nav.back();
            },
        );
    };
    let head_name = match &*head.read() {
        Some(Ok(n)) => n.clone(),
        _ => String::new(),
    };
    rsx! {
        TitleBar { title: lang.t(Msg::RecordRequest).to_string(), lang, on_back: move |_| nav.back() }
        if (draft.ready)() {
            RequestView { form: draft.form.cloned(), head_name, error: error(), lang,
                on_edit: move |e| draft.edit(e), on_save }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{demo, demo_store, render};
    use gridmate_model::{OrderStatus, Role};

    #[test]
    fn a_member_sees_take_on_an_open_order_and_a_worker_records_feedback_on_a_done_one() {
        let (_dir, store) = demo_store(Role::PartyMember);
        let d = demo();
        let open = d
            .orders
            .iter()
            .find(|o| o.status == OrderStatus::Dispatched && o.assignee.is_none())
            .unwrap();
        let detail = store.order(open.id).unwrap();
        let now = Utc::now();
        let html = render(move || {
            rsx! {
                OrderView { detail: detail.clone(), me: None, form: OrderForm::default(), error: None, now, lang: Lang::Zh,
                    on_edit: |_| {}, on_action: |_| {} }
            }
        });
        assert!(html.contains("data-order-action=\"take\""), "{html}");
        assert!(!html.contains("data-satisfaction"));
        assert!(html.contains("待接单"));

        let (_dir, store) = demo_store(Role::GridWorker);
        let done = d
            .orders
            .iter()
            .find(|o| o.status == OrderStatus::Done)
            .unwrap();
        let detail = store.order(done.id).unwrap();
        let html = render(move || {
            rsx! {
                OrderView { detail: detail.clone(), me: None, form: OrderForm::default(), error: None, now, lang: Lang::En,
                    on_edit: |_| {}, on_action: |_| {} }
            }
        });
        for s in Satisfaction::ALL {
            assert!(html.contains(&format!("data-satisfaction=\"{}\"", s.code())));
        }
        assert!(html.contains("Mostly satisfied") && html.contains("Done, awaiting feedback"));
        assert!(
            !html.contains("data-order-action=\"take\""),
            "taken by the member"
        );
    }

    #[test]
    fn done_logs_the_service_in_the_same_action_and_bad_hours_change_nothing() {
        let (_dir, mut store) = demo_store(Role::PartyMember);
        let d = demo();
        let me = d.user(Role::PartyMember).user.id;
        let held = d
            .orders
            .iter()
            .find(|o| o.status == OrderStatus::Taken && o.taker == Some(me))
            .unwrap();
        let before = store.sync_status().unwrap().pending;
        let bad = OrderForm {
            note: "已办好".into(),
            hours: "三".into(),
        };
        assert!(bad.act(&mut store, held, OrderAction::Done, None).is_err());
        assert_eq!(store.sync_status().unwrap().pending, before);
        let good = OrderForm {
            note: "已办好".into(),
            hours: "1.5".into(),
        };
        good.act(&mut store, held, OrderAction::Done, None).unwrap();
        assert_eq!(store.sync_status().unwrap().pending, before + 2);
        assert_eq!(
            store.order(held.id).unwrap().order.status,
            OrderStatus::Done
        );
        let year = store.service_summary(me, Utc::now()).unwrap();
        assert_eq!(year.recent[0].order_id, Some(held.id));
        assert_eq!(year.recent[0].hours_tenths, 15);
    }

    #[test]
    fn a_request_is_recorded_on_the_household_with_its_head_as_the_requester() {
        let (_dir, mut store) = demo_store(Role::GridWorker);
        let d = demo();
        let h = d
            .households
            .iter()
            .find(|h| h.grid_id == d.grids[0].id)
            .unwrap();
        let form = RequestForm {
            kind: Some("wish".into()),
            title: "想要一台收音机".into(),
            ..Default::default()
        };
        let id = form.save(&mut store, h.id).unwrap();
        let o = store.order(id).unwrap().order;
        assert_eq!(
            (o.kind, o.requester.as_str()),
            (OrderKind::Wish, h.head_name.as_str())
        );
        let html = render(move || {
            rsx! {
                RequestView { form: RequestForm::default(), head_name: "张三".to_string(), error: None, lang: Lang::Zh,
                    on_edit: |_| {}, on_save: |_| {} }
            }
        });
        assert!(html.contains("微心愿") && html.contains("代办") && html.contains("张三"));
    }
}
