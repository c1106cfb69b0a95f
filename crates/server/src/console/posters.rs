//! `GET /console/posters?grid=`: one A4 poster per building, to print and put up by the door —
//! the building, its grid and who serves it with their work phone, and a QR code that opens the
//! resident page (`/resident/?b=BUILDING`). Print-ready HTML: the browser's print (or "save as
//! PDF") gives one page per building; the QR code is SVG, sharp at any size.

use super::frame::ConsoleUser;
use super::page;
use crate::app::AppState;
use crate::store::Backend;
use crate::store::public_board::{self, Poster};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gridmate_words::{Lang, Msg, Vocabulary};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use qrcode::QrCode;
use qrcode::render::svg;
use uuid::Uuid;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/console/posters", get(posters))
}

/// The address residents' phones reach the server at: the configured public URL, else the one
/// this page was asked on.
fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The QR code of `url` as inline SVG (the encoder's own markup: numbers and fixed words only).
fn qr_svg(url: &str) -> Option<Markup> {
    let code = QrCode::new(url.as_bytes()).ok()?;
    let svg = code
        .render::<svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    let at = svg.find("<svg")?;
    Some(PreEscaped(svg[at..].to_string()))
}

fn poster(lang: Lang, p: &Poster, url: &str) -> Markup {
    html! {
        section.poster {
            p.community { (p.community) " · " (p.grid_name) }
            h1 { (p.estate) " " (lang.t1(Msg::ResidentBuildingNo, &p.number)) }
            p.call { (lang.t(Msg::OfficePosterCall)) }
            div.qr { @if let Some(svg) = qr_svg(url) { (svg) } }
            p.url { (url) }
            ul.duty {
                @for d in &p.on_duty {
                    li { (Vocabulary::Role.word(d.role.code(), lang)) " " strong { (d.name) } " " (d.phone) }
                }
            }
            p.fine { (lang.t(Msg::OfficePosterFinePrint)) }
        }
    }
}

async fn posters(
    State(state): State<AppState>,
    user: ConsoleUser,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let lang = user.lang;
    let mut grids = user.principal.grids.clone();
    if let Some(g) = q
        .iter()
        .find(|(k, _)| k == "grid")
        .and_then(|(_, v)| v.parse::<Uuid>().ok())
    {
        if !grids.contains(&g) {
            return page::message(lang, StatusCode::NOT_FOUND, lang.t(Msg::OfficeNotYourGrid));
        }
        grids = vec![g];
    }
    let list = match state
        .store
        .read(move |tx| public_board::posters(tx, &grids))
        .await
    {
        Ok(l) => l,
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let base = public_base(&state, &headers);
    let markup = html! {
        (DOCTYPE)
        html lang=(if lang == Lang::En { "en" } else { "zh-CN" }) {
            head {
                meta charset="utf-8";
                title { (lang.t(Msg::OfficeBuildingPosters)) }
                link rel="stylesheet" href="/console/console.css";
            }
            body.posters {
                p.noprint { (lang.t1(Msg::OfficePostersHowToPrint, list.len())) }
                @for p in &list {
                    (poster(lang, p, &format!("{base}/resident/?b={}", p.building)))
                }
            }
        }
    };
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}
