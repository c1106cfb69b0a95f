//! The frame every console page stands in: who is signed in (the session cookie, its CSRF
//! token, the language), the forms they post, the sign-in and sign-out pages, the layout and the
//! refusal page, and an action's outcome carried back to the page it came from.
//!
//! Pages ([`super::board`], [`super::roll`], …) use it; it names no page.

use super::page::{self, Layout};
use crate::app::AppState;
use crate::app::commands::{self, Command, Outcome};
use crate::app::people::check_credentials;
use crate::app::{Params, cookie};
use crate::auth;
use crate::error::ApiError;
use crate::store::{Principal, ServerStore, SessionLookup, sessions::Start};
use axum::extract::{ConnectInfo, Form, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gridmate_words::{Lang, Msg};
use maud::{Markup, html};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use uuid::Uuid;

/// An office session lasts a working day.
pub const SESSION_HOURS: i64 = 10;
const SESSION_COOKIE: &str = "gm_session";
const LANG_COOKIE: &str = "gm_lang";

/// A signed-in office user, as the console sees them.
pub struct ConsoleUser {
    pub principal: Principal,
    /// Derived from the session token: what every form must send back.
    pub csrf: String,
    pub lang: Lang,
}

pub fn lang_of(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => Lang::En,
        _ => Lang::Zh,
    }
}

fn csrf_of(token: &str) -> String {
    gridmate_model::hex::encode(&Sha256::digest(format!("gridmate-console-csrf:{token}")))[..32]
        .to_string()
}

/// Where a request without a usable session goes.
pub enum NotSignedIn {
    Login,
    Forbidden(Lang),
    Failed(ApiError),
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::Login => Redirect::to("/console/login").into_response(),
            NotSignedIn::Forbidden(lang) => page::message(
                lang,
                StatusCode::FORBIDDEN,
                lang.t(Msg::OfficeTheConsoleIsForGrid),
            ),
            NotSignedIn::Failed(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = NotSignedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = lang_of(&parts.headers);
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(NotSignedIn::Login)?;
        match state
            .store
            .session(auth::token_hash(token))
            .await
            .map_err(|e| NotSignedIn::Failed(e.into()))?
        {
            SessionLookup::Valid(p) if p.works_in_office() => Ok(ConsoleUser {
                csrf: csrf_of(token),
                principal: p,
                lang,
            }),
            SessionLookup::Valid(_) => Err(NotSignedIn::Forbidden(lang)),
            _ => Err(NotSignedIn::Login),
        }
    }
}

/// A form whose CSRF token is missing or not the session's: refused, nothing done.
pub struct Forged(Lang);

impl Forged {
    pub fn of(lang: Lang) -> Forged {
        Forged(lang)
    }
}

impl IntoResponse for Forged {
    fn into_response(self) -> Response {
        page::message(
            self.0,
            StatusCode::FORBIDDEN,
            self.0.t(Msg::OfficeFormExpired),
        )
    }
}

/// A signed-in office user's posted form, its CSRF token already checked against their
/// session's: what every console action takes.
pub struct ConsoleForm {
    pub user: ConsoleUser,
    pub form: Posted,
}

impl FromRequest<AppState> for ConsoleForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let user = ConsoleUser::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let form =
            Form::<Vec<(String, String)>>::from_request(Request::from_parts(parts, body), state)
                .await
                .map_err(IntoResponse::into_response)?;
        let form = Posted::check(&user, form).map_err(IntoResponse::into_response)?;
        Ok(ConsoleForm { user, form })
    }
}

/// A posted form: its fields in order (a field may repeat, as checkboxes do), after its CSRF
/// token was checked against the session's.
pub struct Posted(pub Vec<(String, String)>);

impl Posted {
    pub fn check(
        user: &ConsoleUser,
        Form(fields): Form<Vec<(String, String)>>,
    ) -> Result<Posted, Forged> {
        let sent = fields
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str());
        if sent != Some(user.csrf.as_str()) {
            return Err(Forged(user.lang));
        }
        Ok(Posted(fields))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.trim())
    }

    /// The id the form was rendered with (`mid`), which its mutation's ids come from so that a
    /// form sent twice applies once; a form without one is refused in the user's language.
    pub fn form_id(&self, lang: Lang) -> Result<uuid::Uuid, ApiError> {
        self.get("mid")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| ApiError::BadRequest(lang.t(Msg::OfficeTheFormHasNoId).into()))
    }
}

pub(super) async fn login_page(headers: HeaderMap) -> Response {
    page::login(lang_of(&headers), None, "")
}

pub(super) async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let lang = lang_of(&headers);
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (phone, password) = (field("phone"), field("password"));
    if phone.len() > 32 || password.len() > 256 {
        return page::login(lang, Some(lang.t(Msg::OfficePhoneOrPassword)), &phone);
    }
    let user = match check_credentials(&state, &phone, &password, addr.ip()).await {
        Ok(u) => u,
        Err(ApiError::RateLimited { retry_after_s }) => {
            let msg = lang.t1(Msg::OfficeTooManySignIns, retry_after_s);
            return page::login_status(lang, StatusCode::TOO_MANY_REQUESTS, &msg, &phone);
        }
        Err(ApiError::Unauthorized { .. }) => {
            return page::login_status(
                lang,
                StatusCode::UNAUTHORIZED,
                lang.t(Msg::OfficeWrongPhoneNumber),
                &phone,
            );
        }
        Err(e) => return e.into_response(),
    };
    let (token, hash) = auth::new_token();
    if let Err(e) = state
        .store
        .start_session(Start {
            user_id: user.id,
            token_hash: hash,
            device_id: "console".into(),
            device_name: page::device_name(&headers),
            ttl: chrono::Duration::hours(SESSION_HOURS),
        })
        .await
    {
        return ApiError::from(e).into_response();
    }
    tracing::info!(user = %user.id, "console login");
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}",
        SESSION_HOURS * 3600
    );
    let mut response = Redirect::to("/console/board").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: ConsoleUser,
    form: Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = Posted::check(&user, form) {
        return r.into_response();
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = state.store.revoke_session(auth::token_hash(token)).await
    {
        return ApiError::from(e).into_response();
    }
    let mut response = Redirect::to("/console/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "gm_session=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

/// The language switch: a cookie the pages read (no session needed; the login page has it too).
pub(super) async fn set_lang(
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let lang = if form.iter().any(|(k, v)| k == "lang" && v == "en") {
        "en"
    } else {
        "zh"
    };
    // Back where the switch was pressed, if that was a console page.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("/console/").map(|i| r[i..].to_string()))
        .filter(|p| !p.contains("//") && !p.contains('\\'))
        .unwrap_or_else(|| "/console/board".into());
    let mut response = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={lang}; Path=/console; SameSite=Strict; Max-Age=31536000"
    )) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

pub(super) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        include_str!("console.css"),
    )
        .into_response()
}

/// A photo of a record in the user's scope, for the console's pages and the ledgers' links.
pub(super) async fn photo(
    State(state): State<AppState>,
    user: ConsoleUser,
    axum::extract::Path(sha): axum::extract::Path<String>,
) -> Response {
    crate::app::photos::serve(&state, user.principal, &sha)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// The layout every signed-in page shares.
pub fn layout<'a>(user: &'a ConsoleUser, title: &'a str, active: &'static str) -> Layout<'a> {
    Layout {
        lang: user.lang,
        title,
        active,
        user: Some((user.principal.name.as_str(), user.csrf.as_str())),
    }
}

/// The error page for a refused console request.
pub fn refused(lang: Lang, e: ApiError) -> Response {
    let (status, text) = match &e {
        ApiError::Unprocessable { message, .. } | ApiError::BadRequest(message) => {
            (StatusCode::UNPROCESSABLE_ENTITY, message.clone())
        }
        ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m.clone()),
        ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
        _ => return e.into_response(),
    };
    page::message(lang, status, &text)
}

/// Run one office command as the signed-in user, named by the form's mutation id.
pub async fn act(
    state: &AppState,
    user: &ConsoleUser,
    mutation: Uuid,
    command: Command,
) -> Result<Outcome, ApiError> {
    commands::run(state, user.principal.clone(), user.lang, mutation, command).await
}

/// Back to the page `to`, with the outcome in its query (the page prints it, escaped, with
/// [`notice`]).
pub fn back_to(to: &str, outcome: Outcome) -> Response {
    let q = match outcome {
        Outcome::Done => "ok=1".to_string(),
        Outcome::KeptAsComment(m) => format!("merged={}", page::encode(&m)),
        Outcome::Refused(m) => format!("refused={}", page::encode(&m)),
    };
    let join = if to.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{to}{join}{q}")).into_response()
}

/// The outcome of the last action, from the query.
pub fn notice(lang: Lang, q: &Params) -> Markup {
    html! {
        @if q.text("ok").is_some() {
            p.notice.good role="status" { (lang.t(Msg::OfficeSavedThePhones)) }
        }
        @if let Some(m) = q.text("merged") {
            p.notice.warn role="status" { (lang.t(Msg::OfficeTheStatusHad)) (m) }
        }
        @if let Some(m) = q.text("refused") {
            p.notice.bad role="alert" { (lang.t(Msg::OfficeNotSaved)) (m) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("xgm_session=bad; gm_session=good; gm_lang=en"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("good"));
        assert_eq!(lang_of(&h), Lang::En);
        assert_eq!(lang_of(&HeaderMap::new()), Lang::Zh);
    }

    #[test]
    fn the_csrf_token_depends_on_the_session_and_reveals_nothing_of_it() {
        let a = csrf_of("token-a");
        assert_eq!(a, csrf_of("token-a"));
        assert_ne!(a, csrf_of("token-b"));
        assert!(!a.contains("token"));
        assert_eq!(a.len(), 32);
    }
}
