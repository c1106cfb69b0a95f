//! 消息记录: the messages the server sent to the people of the office's grids — to whom (the
//! number masked), about what, whether each reached the provider and the phone, and the
//! provider's own words when it refused — read from the outbox (`store::outbox::log`).

use super::frame::{ConsoleUser, layout, refused};
use super::page::{when, word};
use crate::app::AppState;
use crate::app::Params;
use crate::store::outbox::{self, MessageLine};
use crate::store::{Backend, MessageState};
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use gridmate_words::{Msg, Vocabulary};
use maud::html;

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/messages", get(messages_page))
}

/// `GET /console/messages?state=`: the newest messages of the user's grids.
async fn messages_page(State(state): State<AppState>, user: ConsoleUser, q: Params) -> Response {
    let lang = user.lang;
    let which = match q.message_state() {
        Ok(s) => s,
        Err(e) => return refused(lang, e),
    };
    let p = user.principal.clone();
    let lines: Vec<MessageLine> = match state
        .store
        .read(move |tx| outbox::log(tx, &p, which, outbox::LOG_PAGE))
        .await
    {
        Ok(l) => l,
        Err(e) => return refused(lang, e.into()),
    };
    let by_log = state.sms_provider.get().map(String::as_str) == Some("log");
    layout(&user, lang.t(Msg::OfficeMessages), "messages").render(html! {
        h1 { (lang.t(Msg::OfficeMessages)) }
        p.hint { (lang.t(Msg::OfficeMessagesAbout)) }
        @if by_log { p.notice { (lang.t(Msg::OfficeMessagesByLog)) } }
        form.filters method="get" action="/console/messages" {
            select name="state" {
                option value="" { (lang.t(Msg::OfficeEveryStatus)) }
                @for s in MessageState::ALL {
                    option value=(s.code()) selected[which == Some(s)] {
                        (word(lang, Vocabulary::MessageState, s.code()))
                    }
                }
            }
            " " button type="submit" { (lang.t(Msg::OfficeFilter)) }
        }
        @if lines.is_empty() {
            p { (lang.t(Msg::OfficeMessagesNone)) }
        } @else {
            table.list {
                thead { tr {
                    th { (lang.t(Msg::OfficeMessageQueuedAt)) }
                    th { (lang.t(Msg::OfficeMessageTo)) }
                    th { (lang.t(Msg::OfficeMessageAbout)) }
                    th { (lang.t(Msg::OfficeStatus)) }
                    th { (lang.t(Msg::OfficeMessageAttempts)) }
                    th { (lang.t(Msg::OfficeMessageChannel)) }
                    th { (lang.t(Msg::OfficeMessageReply)) }
                } }
                tbody { @for l in &lines {
                    tr {
                        td { (when(l.created_at)) }
                        td { (l.recipient) " " span.muted { (l.phone) } }
                        td {
                            (word(lang, Vocabulary::Notice, &l.notice))
                            @if l.urgent { " " span.badge.overdue { (lang.t(Msg::OfficeMessageUrgent)) } }
                            " " span.muted { (l.grid) }
                        }
                        td {
                            span class=(match l.state { "sent" | "delivered" => "badge done", "failed" => "badge overdue", _ => "badge open" }) {
                                (word(lang, Vocabulary::MessageState, l.state))
                            }
                            @if let Some(t) = l.settled_at { " " span.muted { (when(t)) } }
                            @if let Some(t) = l.due_at { " " span.muted { (lang.fill(Msg::OfficeMessageDueAt, &[&when(t)])) } }
                        }
                        td { (l.attempts) }
                        td { (l.provider.as_deref().unwrap_or("")) }
                        td { (l.words.as_deref().unwrap_or("")) }
                    }
                } }
            }
        }
    })
}
