//! Residents' requests (三单制) as lists show them: the status chip with overdue marked, and one
//! row with an optional take button.

use crate::i18n::{Labelled, Lang, Msg};
use chrono::{DateTime, Utc};
use dioxus::prelude::*;
use gridmate_model::{Order, OrderId, OrderStatus};

/// An order's status as a chip, overdue marked.
#[component]
pub fn OrderChip(
    status: OrderStatus,
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
    lang: Lang,
) -> Element {
    let overdue = status.is_open() && due_at < now;
    rsx! {
        span { class: "chip order-{status.code()}", {status.label(lang)} }
        if overdue { span { class: "tag overdue", {lang.t(Msg::Overdue)} } }
    }
}

/// One line of an order list; `on_take` shows a take button when given.
#[component]
pub fn OrderRow(
    order: Order,
    now: DateTime<Utc>,
    lang: Lang,
    on_open: EventHandler<OrderId>,
    on_take: Option<EventHandler<OrderId>>,
) -> Element {
    let id = order.id;
    rsx! {
        li { class: "row order", "data-status": order.status.code(), onclick: move |_| on_open.call(id),
            span { class: "tag plain", {order.kind.label(lang)} }
            span { class: "name", "{order.title}" }
            if !order.address.is_empty() { span { class: "muted small", "{order.address}" } }
            OrderChip { status: order.status, due_at: order.due_at, now, lang }
            if let Some(take) = on_take {
                button { class: "secondary", "data-action": "take-order",
                    onclick: move |e| { e.stop_propagation(); take.call(id) },
                    {lang.t(Msg::TakeIt)} }
            }
        }
    }
}
