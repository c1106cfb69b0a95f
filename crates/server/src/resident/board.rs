//! `GET /resident/board`: 公示, readable by anyone who scanned a poster, signed in or not —
//! each grid's sign (its leader and workers with their work phones) and what the community
//! handled this month, with no name or words of any resident (`store::public_board`).

use super::frame::{self, lang_of, page};
use crate::app::AppState;
use crate::store::Backend;
use crate::store::public_board::{self, GridBoard};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gridmate_words::{Lang, Msg, Vocabulary};
use maud::{Markup, html};
use uuid::Uuid;

/// The most handled problems a grid's part lists (the count says the rest).
const LISTED: usize = 30;

fn grid_part(lang: Lang, g: &GridBoard) -> Markup {
    html! {
        section.grid id={ "grid-" (g.id) } {
            h2 { (g.name) }
            h3 { (lang.t(Msg::ResidentGridSign)) }
            ul.duty {
                @for p in &g.on_duty {
                    li {
                        span.role { (Vocabulary::Role.word(p.role.code(), lang)) }
                        " " strong { (p.name) } " "
                        a href={ "tel:" (p.phone) } { (p.phone) }
                    }
                }
            }
            h3 { (lang.t(Msg::ResidentHandledThisMonth)) }
            p.counts {
                (lang.t1(Msg::ResidentHandledCount, g.handled.len()))
                @if g.rated + g.sent_back > 0 {
                    " · " (lang.fill(Msg::ResidentRatings, &[&g.rated, &g.sent_back]))
                }
            }
            @if g.handled.is_empty() {
                p.hint { (lang.t(Msg::ResidentNothingHandledYet)) }
            } @else {
                ul.handled {
                    @for h in g.handled.iter().take(LISTED) {
                        li {
                            (Vocabulary::IssueCategory.word(&h.category, lang))
                            @if let Some(b) = &h.building { " · " (lang.t1(Msg::ResidentBuildingNo, b)) }
                            " · " (lang.t1(Msg::ResidentDaysTaken, h.days))
                            @if h.by_resident { " · " span.badge { (Vocabulary::IssueSource.word("resident", lang)) } }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /resident/board?grid=`.
pub async fn board(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let lang = lang_of(&headers);
    let only = q
        .iter()
        .find(|(k, _)| k == "grid")
        .and_then(|(_, v)| v.parse::<Uuid>().ok());
    let now = chrono::Utc::now();
    let boards = match state
        .store
        .read(move |tx| public_board::read(tx, only, now))
        .await
    {
        Ok(b) => b,
        Err(e) => return frame::failed(lang, e.into()),
    };
    if boards.is_empty() {
        return frame::refusal(lang, StatusCode::NOT_FOUND, lang.t(Msg::ResidentNoSuchGrid));
    }
    page(
        lang,
        StatusCode::OK,
        lang.t(Msg::ResidentPublicBoard),
        html! {
            @for g in &boards { (grid_part(lang, g)) }
            p { a href="/resident/" { (lang.t(Msg::ResidentBackHome)) } }
        },
    )
}
