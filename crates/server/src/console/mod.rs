//! The office console at `/console/`: the community office's and the grid leaders' half of the
//! loop — the dispatch board, one issue or request with its timeline and actions, the roll
//! (households, who is not yet visited this month, one household whole and its correction), the
//! field's patrols and promises, statistics with charts, the ledgers, people and devices, and
//! the messages the server sent (消息记录).
//!
//! **Why server-rendered HTML.** An office PC on a closed network runs whatever browser it was
//! given, often years old, and nothing may load from outside the server. Pages rendered here
//! (maud: templates checked at compile time, every value escaped) work in any browser with no
//! build step, no framework to ship and nothing to fetch; every action is an HTML form that
//! works without JavaScript. The one stylesheet is compiled into the binary. The console holds
//! no rules of its own: its lists are [`crate::store::office`]'s, and every change it makes to a
//! record is a typed command of [`crate::app::commands`], a mutation pushed through
//! [`crate::apply`] exactly as a phone's, stamped by the server's one clock.
//!
//! **Sessions.** Signing in runs the same credential check and login limiter as the phones
//! ([`crate::app::people::check_credentials`]); the session token lives in a cookie that is `HttpOnly` (no script
//! reads it), `SameSite=Strict` (no other site's page sends it), scoped to `/console` and gone
//! after [`SESSION_HOURS`]. Every form carries a CSRF token derived from the session token, so
//! a forged form from elsewhere fails even where SameSite is not honoured. Signing out revokes
//! the session in the database.

mod basemap;
mod board;
mod callups;
mod field;
mod frame;
mod messages;
mod page;
mod posters;
mod reports;
mod roll;
mod uploads;

use crate::app::AppState;
use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route(
            "/console/",
            get(|| async { Redirect::to("/console/board") }),
        )
        .route("/console/login", get(frame::login_page).post(frame::login))
        .route("/console/logout", post(frame::logout))
        .route("/console/lang", post(frame::set_lang))
        .route("/console/console.css", get(frame::stylesheet))
        .route("/console/photos/{sha}", get(frame::photo))
        .merge(board::routes())
        .merge(callups::routes())
        .merge(messages::routes())
        .merge(reports::routes())
        .merge(basemap::routes())
        .merge(roll::routes())
        .merge(field::routes())
        .merge(posters::routes())
}
