//! The frame of every resident page: who is signed in (the `gm_resident` cookie), the token
//! each form sends back, the headers these internet-facing pages carry, and the layout — large
//! type, one column, 360 px wide and up.
//!
//! Pages ([`super::door`], [`super::items`]) use it; it names no page.

use crate::app::AppState;
use crate::app::cookie;
use crate::auth;
use crate::error::ApiError;
use crate::store::Backend;
use crate::store::ResidentAccountRow;
use crate::store::residents;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use gridmate_words::{Lang, Msg};
use maud::{DOCTYPE, Markup, html};
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "gm_resident";
/// Before sign-in, a form is tied to the browser by this cookie (double submit): a page on
/// another site cannot read it to forge the field.
pub const FORM_COOKIE: &str = "gm_rform";
const LANG_COOKIE: &str = "gm_rlang";

/// Nothing but this server's own files, no frames, forms only to here.
const POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
    img-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every resident response carries the policy and is never cached by a shared cache.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("private, no-store"));
    r
}

/// A posted form's field, trimmed; empty when absent.
pub fn field<'a>(form: &'a [(String, String)], key: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .unwrap_or("")
}

/// The page's language: Chinese unless the resident switched to English (a cookie of theirs).
pub fn lang_of(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => Lang::En,
        _ => Lang::Zh,
    }
}

/// `GET /resident/lang/{zh|en}`: the switch, back to the resident's own page.
pub async fn set_lang(axum::extract::Path(lang): axum::extract::Path<String>) -> Response {
    let lang = if lang == "en" { "en" } else { "zh" };
    let mut r = Redirect::to("/resident/").into_response();
    set_cookie(&mut r, LANG_COOKIE, lang, 365 * 24 * 3600);
    r
}

/// The token a signed-in resident's forms carry: derived from the session, revealing nothing of
/// it.
fn csrf_of(token: &str) -> String {
    gridmate_model::hex::encode(&Sha256::digest(format!("gridmate-resident-csrf:{token}")))[..32]
        .to_string()
}

/// A signed-in resident.
pub struct Resident {
    pub account: ResidentAccountRow,
    pub token_hash: String,
    pub csrf: String,
    pub lang: Lang,
}

impl Resident {
    pub fn verified(&self) -> bool {
        self.account.household_id.is_some()
    }

    /// Is this the form token of the session?
    pub fn checks(&self, sent: Option<&str>) -> bool {
        sent == Some(self.csrf.as_str())
    }
}

/// Where a request without a resident's session goes: the door.
pub enum NotSignedIn {
    Door,
    Failed(ApiError),
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::Door => Redirect::to("/resident/").into_response(),
            NotSignedIn::Failed(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Resident {
    type Rejection = NotSignedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        signed_in(&parts.headers, state)
            .await?
            .ok_or(NotSignedIn::Door)
    }
}

/// The resident this request's cookie names, if any.
pub async fn signed_in(
    headers: &HeaderMap,
    state: &AppState,
) -> Result<Option<Resident>, NotSignedIn> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let token_hash = gridmate_model::hex::encode(&auth::token_hash(token));
    let now = chrono::Utc::now();
    let hash = token_hash.clone();
    let account = state
        .store
        .read(move |tx| residents::session(tx, &hash, now))
        .await
        .map_err(|e| NotSignedIn::Failed(e.into()))?;
    Ok(account.map(|account| Resident {
        account,
        token_hash,
        csrf: csrf_of(token),
        lang: lang_of(headers),
    }))
}

/// A cookie of the resident pages: HttpOnly, never sent by another site's request.
pub fn set_cookie(r: &mut Response, name: &str, value: &str, max_age_s: i64) {
    let c = format!("{name}={value}; Path=/resident; HttpOnly; SameSite=Lax; Max-Age={max_age_s}");
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A page: the title bar, the body, a line at the foot.
pub fn page(lang: Lang, status: StatusCode, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang=(if lang == Lang::En { "en" } else { "zh-CN" }) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (lang.t(Msg::ResidentPageName)) }
                link rel="stylesheet" href="/resident/style.css";
                script src="/resident/shrink.js" defer {}
            }
            body {
                header {
                    a href="/resident/" { (lang.t(Msg::ResidentPageName)) }
                    @if lang == Lang::Zh {
                        a.lang href="/resident/lang/en" lang="en" { (Lang::En.native_name()) }
                    } @else {
                        a.lang href="/resident/lang/zh" lang="zh-CN" { (Lang::Zh.native_name()) }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// A refusal in the resident's words, with the way back.
pub fn refusal(lang: Lang, status: StatusCode, text: &str) -> Response {
    page(
        lang,
        status,
        lang.t(Msg::ResidentSorry),
        html! {
            p.bad { (text) }
            p { a.button href="/resident/" { (lang.t(Msg::ResidentBackHome)) } }
        },
    )
}

/// An error of the layers below, as a resident page.
pub fn failed(lang: Lang, e: ApiError) -> Response {
    let status = e.status();
    let text = match &e {
        ApiError::Internal(_) => lang.t(Msg::ResidentSomethingWentWrong).to_string(),
        other => other.to_string(),
    };
    refusal(lang, status, &text)
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("resident.css"),
    )
        .into_response()
}

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("shrink.js"),
    )
        .into_response()
}
