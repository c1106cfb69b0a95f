//! The way in: a phone number, the six-digit code texted to it, then — once — the match to the
//! community's roll that makes the resident a verified resident of their room. The rules
//! (limits, tries, what a match needs) are `store::residents`'; this module asks and words.

use super::frame::{
    self, FORM_COOKIE, Resident, SESSION_COOKIE, field, lang_of, page, refusal, set_cookie,
};
use crate::app::{AppState, cookie};
use crate::auth;
use crate::error::ApiError;
use crate::store::Backend;
use crate::store::public_board::{self, Poster};
use crate::store::residents::{self, Refusal, RollClaim};
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use gridmate_words::{Lang, Msg};
use maud::html;
use rand_core::{OsRng, RngCore};
use std::net::SocketAddr;

type Fields = Form<Vec<(String, String)>>;

/// The longest a field of these forms may be before it is refused unread.
const FIELD_CHARS: usize = 64;

/// Is the form's token the browser's form cookie?
fn form_checks(headers: &HeaderMap, form: &[(String, String)]) -> bool {
    cookie(headers, FORM_COOKIE).is_some_and(|c| !c.is_empty() && c == field(form, "form"))
}

fn words(lang: Lang, r: &Refusal) -> (StatusCode, String) {
    match r {
        Refusal::BadPhone => (
            StatusCode::UNPROCESSABLE_ENTITY,
            lang.t(Msg::ResidentNotAMobileNumber).into(),
        ),
        Refusal::Wait(s) => (
            StatusCode::TOO_MANY_REQUESTS,
            lang.t1(Msg::ResidentTooManyTries, s),
        ),
        Refusal::WrongCode { tries_left } => (
            StatusCode::UNAUTHORIZED,
            lang.t1(Msg::ResidentWrongCode, tries_left),
        ),
        Refusal::NoCode => (
            StatusCode::UNAUTHORIZED,
            lang.t(Msg::ResidentCodeLapsed).into(),
        ),
        Refusal::Blocked => (
            StatusCode::FORBIDDEN,
            lang.t(Msg::ResidentNumberBlocked).into(),
        ),
        Refusal::NoMatch => (
            StatusCode::UNPROCESSABLE_ENTITY,
            lang.t(Msg::ResidentNoMatch).into(),
        ),
    }
}

/// The phone form; `error` above it when a try failed; `scanned`, the building whose poster
/// brought them here.
fn phone_form(
    lang: Lang,
    status: StatusCode,
    token: &str,
    error: Option<&str>,
    scanned: Option<&Poster>,
) -> Response {
    page(
        lang,
        status,
        lang.t(Msg::ResidentSignIn),
        html! {
            @if let Some(p) = scanned {
                p.notice { (p.community) " · " (p.estate) " " (lang.t1(Msg::ResidentBuildingNo, &p.number)) " · " (p.grid_name) " "
                    a href={ "/resident/board?grid=" (p.grid_id) } { (lang.t(Msg::ResidentPublicBoard)) } }
            }
            p { (lang.t(Msg::ResidentWhatThisPageIs)) }
            @if let Some(e) = error { p.bad role="alert" { (e) } }
            form method="post" action="/resident/code" {
                input type="hidden" name="form" value=(token);
                label { (lang.t(Msg::ResidentYourMobile))
                    input type="tel" name="phone" inputmode="numeric" autocomplete="tel"
                        maxlength="20" required;
                }
                button type="submit" { (lang.t(Msg::ResidentSendCode)) }
            }
            p { a href="/resident/board" { (lang.t(Msg::ResidentPublicBoard)) } }
        },
    )
}

fn code_form(
    lang: Lang,
    status: StatusCode,
    token: &str,
    phone: &str,
    error: Option<&str>,
    demo_code: Option<&str>,
) -> Response {
    page(
        lang,
        status,
        lang.t(Msg::ResidentEnterTheCode),
        html! {
            p { (lang.t1(Msg::ResidentCodeSentTo, gridmate_model::validate::mask_phone(phone))) }
            @if let Some(e) = error { p.bad role="alert" { (e) } }
            @if let Some(c) = demo_code { p.notice { (lang.t1(Msg::ResidentDemoCode, c)) } }
            form method="post" action="/resident/sign-in" {
                input type="hidden" name="form" value=(token);
                input type="hidden" name="phone" value=(phone);
                label { (lang.t(Msg::ResidentSixDigitCode))
                    input type="text" name="code" inputmode="numeric" autocomplete="one-time-code"
                        pattern="[0-9]{6}" maxlength="6" required;
                }
                button type="submit" { (lang.t(Msg::SignIn)) }
            }
            p { a href="/resident/" { (lang.t(Msg::ResidentUseAnotherNumber)) } }
        },
    )
}

/// A fresh form token, or the browser's.
fn form_token(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, FORM_COOKIE).filter(|c| c.len() == 32) {
        Some(c) => (c.to_string(), false),
        None => {
            let mut b = [0u8; 16];
            OsRng.fill_bytes(&mut b);
            (gridmate_model::hex::encode(&b), true)
        }
    }
}

/// `GET /resident/?b=BUILDING`: the resident's own page when signed in, else the door (with the
/// building whose poster was scanned, when the link names one).
pub async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    match frame::signed_in(&headers, &state).await {
        Ok(Some(r)) => super::items::mine(&state, r).await,
        Ok(None) => {
            let building = q
                .iter()
                .find(|(k, _)| k == "b")
                .and_then(|(_, v)| v.parse::<uuid::Uuid>().ok());
            let scanned = match building {
                Some(b) => state
                    .store
                    .read(move |tx| public_board::where_scanned(tx, b))
                    .await
                    .ok()
                    .flatten(),
                None => None,
            };
            let (token, new) = form_token(&headers);
            let lang = lang_of(&headers);
            let mut r = phone_form(lang, StatusCode::OK, &token, None, scanned.as_ref());
            if new {
                set_cookie(&mut r, FORM_COOKIE, &token, 3600);
            }
            r
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /resident/code`: text a code to the number.
pub async fn send_code(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Fields,
) -> Response {
    let lang = lang_of(&headers);
    let token = field(&form, "form").to_string();
    if !form_checks(&headers, &form) {
        return refusal(
            lang,
            StatusCode::FORBIDDEN,
            lang.t(Msg::ResidentFormExpired),
        );
    }
    let phone = field(&form, "phone");
    if phone.chars().count() > FIELD_CHARS {
        let (status, text) = words(lang, &Refusal::BadPhone);
        return phone_form(lang, status, &token, Some(&text), None);
    }
    let phone = gridmate_model::validate::phone(phone).unwrap_or_else(|_| phone.to_string());
    let code = format!("{:06}", OsRng.next_u32() % 1_000_000);
    let shown = code.clone();
    let (p, ip, now) = (phone.clone(), addr.ip().to_string(), chrono::Utc::now());
    match state
        .store
        .write(move |tx| residents::send_code(tx, &p, &ip, &code, now))
        .await
    {
        Ok(Ok(())) => {
            state.queued();
            let shown = state.demo_codes.then_some(shown.as_str());
            code_form(lang, StatusCode::OK, &token, &phone, None, shown)
        }
        Ok(Err(r)) => {
            let (status, text) = words(lang, &r);
            phone_form(lang, status, &token, Some(&text), None)
        }
        Err(e) => frame::failed(lang, e.into()),
    }
}

/// `POST /resident/sign-in`: the code checked, the session cookie set.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Fields,
) -> Response {
    let lang = lang_of(&headers);
    let token = field(&form, "form").to_string();
    if !form_checks(&headers, &form) {
        return refusal(
            lang,
            StatusCode::FORBIDDEN,
            lang.t(Msg::ResidentFormExpired),
        );
    }
    let (phone, code) = (field(&form, "phone").to_string(), field(&form, "code"));
    if phone.chars().count() > FIELD_CHARS || code.chars().count() > FIELD_CHARS {
        let (status, text) = words(lang, &Refusal::NoCode);
        return code_form(lang, status, &token, &phone, Some(&text), None);
    }
    let (session, hash) = auth::new_token();
    let hash = gridmate_model::hex::encode(&hash);
    let (p, c, now) = (phone.clone(), code.to_string(), chrono::Utc::now());
    match state
        .store
        .write(move |tx| residents::sign_in(tx, &p, &c, &hash, now))
        .await
    {
        Ok(Ok(account)) => {
            tracing::info!(resident = %account.id, "resident signed in");
            let to = if account.household_id.is_some() {
                "/resident/"
            } else {
                "/resident/verify"
            };
            let mut r = Redirect::to(to).into_response();
            set_cookie(
                &mut r,
                SESSION_COOKIE,
                &session,
                residents::SESSION_TTL_MS / 1000,
            );
            r
        }
        Ok(Err(r)) => {
            let (status, text) = words(lang, &r);
            code_form(lang, status, &token, &phone, Some(&text), None)
        }
        Err(e) => frame::failed(lang, e.into()),
    }
}

fn verify_form(r: &Resident, status: StatusCode, error: Option<&str>) -> Response {
    let lang = r.lang;
    page(
        lang,
        status,
        lang.t(Msg::ResidentConfirmYourHome),
        html! {
            p { (lang.t(Msg::ResidentWhyConfirm)) }
            @if let Some(e) = error { p.bad role="alert" { (e) } }
            form method="post" action="/resident/verify" {
                input type="hidden" name="csrf" value=(r.csrf);
                label { (lang.t(Msg::ResidentYourName))
                    input type="text" name="name" maxlength="32" autocomplete="name" required;
                }
                label { (lang.t(Msg::ResidentIdLastFour))
                    input type="text" name="id_last_four" maxlength="4" autocomplete="off";
                }
                p.hint { (lang.t(Msg::ResidentIdLastFourHint)) }
                button type="submit" { (lang.t(Msg::ResidentConfirm)) }
            }
            p { a href="/resident/" { (lang.t(Msg::ResidentLater)) } }
        },
    )
}

/// `GET /resident/verify`.
pub async fn verify_page(r: Resident) -> Response {
    if r.verified() {
        return Redirect::to("/resident/").into_response();
    }
    verify_form(&r, StatusCode::OK, None)
}

/// `POST /resident/verify`: matched to the roll, or told only that it did not match.
pub async fn verify(State(state): State<AppState>, r: Resident, Form(form): Fields) -> Response {
    let lang = r.lang;
    if !r.checks(Some(field(&form, "csrf"))) {
        return refusal(
            lang,
            StatusCode::FORBIDDEN,
            lang.t(Msg::ResidentFormExpired),
        );
    }
    let claim = RollClaim {
        name: field(&form, "name").chars().take(FIELD_CHARS).collect(),
        id_last_four: field(&form, "id_last_four")
            .chars()
            .take(FIELD_CHARS)
            .collect(),
    };
    let (account, now) = (r.account.id, chrono::Utc::now());
    match state
        .store
        .write(move |tx| residents::match_roll(tx, account, &claim, now))
        .await
    {
        Ok(Ok(_)) => Redirect::to("/resident/?verified=1").into_response(),
        Ok(Err(refused)) => {
            let (status, text) = words(lang, &refused);
            verify_form(&r, status, Some(&text))
        }
        Err(e) => frame::failed(lang, e.into()),
    }
}

/// `POST /resident/sign-out`.
pub async fn sign_out(State(state): State<AppState>, r: Resident, Form(form): Fields) -> Response {
    if !r.checks(Some(field(&form, "csrf"))) {
        return refusal(
            r.lang,
            StatusCode::FORBIDDEN,
            r.lang.t(Msg::ResidentFormExpired),
        );
    }
    let (account, hash, now) = (r.account.id, r.token_hash.clone(), chrono::Utc::now());
    if let Err(e) = state
        .store
        .write(move |tx| residents::sign_out(tx, account, &hash, now))
        .await
    {
        return frame::failed(r.lang, ApiError::from(e));
    }
    let mut resp = Redirect::to("/resident/").into_response();
    set_cookie(&mut resp, SESSION_COOKIE, "", 0);
    resp
}
