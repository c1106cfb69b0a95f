//! The residents' door (居民端) at `/resident/`: a mobile web page a resident opens by scanning
//! their building's QR code, in WeChat's browser or any other — no app to install. They sign in
//! with their phone and a texted code, are matched once to the community's roll, report a
//! problem with photos, follow each step of it in plain words, and rate how it ended.
//!
//! A third face beside `api` and `console`, over `app` like them and importing neither. These
//! pages face the internet: server-rendered (maud, every value escaped), nothing loaded from
//! elsewhere (a content security policy says so), cookies HttpOnly and SameSite, every form
//! carrying a token, and the only script the photo shrink, without which a large photo is
//! refused politely. What a resident may do and see is decided below, in `store::residents`,
//! `store::scope` (their own reports and nothing else) and the write path's rules.
//!
//! Never: a roll's record, a phone or ID number of anyone but the resident themselves, a
//! staff route's data.

mod board;
mod door;
mod frame;
mod items;

use crate::app::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// The largest report form: three photos of at most 1600 px, with room to spare.
const ASK_BODY_LIMIT: usize = 8 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/resident/", get(door::home))
        .route("/resident/code", post(door::send_code))
        .route("/resident/sign-in", post(door::sign_in))
        .route("/resident/sign-out", post(door::sign_out))
        .route(
            "/resident/verify",
            get(door::verify_page).post(door::verify),
        )
        .route(
            "/resident/ask",
            get(items::ask_page)
                .post(items::ask)
                .layer(DefaultBodyLimit::max(ASK_BODY_LIMIT)),
        )
        .route("/resident/items/{id}", get(items::item))
        .route("/resident/items/{id}/rate", post(items::rate))
        .route("/resident/photos/{sha}", get(items::photo))
        .route("/resident/board", get(board::board))
        .route("/resident/lang/{lang}", get(frame::set_lang))
        .route("/resident/style.css", get(frame::stylesheet))
        .route("/resident/shrink.js", get(frame::script))
        .layer(axum::middleware::from_fn(frame::headers))
}
