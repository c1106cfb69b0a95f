//! 一键响应 and the departments: the office calls up chosen grids and roles (place, time,
//! message) and watches the answers and arrivals come in; it keeps the list of departments
//! issues are sent to. A call-up is one `callup.create` mutation per grid (and `callup.close`),
//! through the same rules as everything else; a department is office-managed data, written
//! through [`crate::store::admin`] and audited; so are the time limits (处置时限) per issue
//! category and severity, which set the due time of every issue reported after them.

use super::frame::{ConsoleForm, ConsoleUser, act, back_to, layout, notice, refused};
use super::page::encode;
use super::page::{when, word};
use crate::app::AppState;
use crate::app::Params;
use crate::app::commands::{Command, NewCallup, Outcome, derived_id};
use crate::error::ApiError;
use crate::store::office::{self, CallupRow};
use crate::store::{Backend, admin};
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{NaiveDateTime, TimeZone};
use gridmate_model::Role;
use gridmate_words::{Msg, Vocabulary};
use maud::html;
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/callups", get(callups).post(create_callup))
        .route("/console/callups/close", post(close_callup))
        .route(
            "/console/departments",
            get(departments).post(save_department),
        )
        .route(
            "/console/time-limits",
            get(time_limits).post(save_time_limits),
        )
}

/// The roles a call-up may call.
const CALLABLE: [Role; 4] = [
    Role::GridWorker,
    Role::GridLeader,
    Role::BuildingLeader,
    Role::PartyMember,
];

async fn callups(State(state): State<AppState>, user: ConsoleUser, q: Params) -> Response {
    let lang = user.lang;
    let p = user.principal.clone();
    let answer = state
        .store
        .read(move |tx| Ok((office::Names::load(tx, &p)?, office::callups(tx, &p)?)))
        .await;
    let (names, rows): (office::Names, Vec<CallupRow>) = match answer {
        Ok(a) => a,
        Err(e) => return refused(lang, e.into()),
    };
    let writes = !user.principal.reads_only();
    layout(&user, lang.t(Msg::OfficeCallUps), "callups").render(html! {
        h1 { (lang.t(Msg::OfficeCallUps)) }
        (notice(lang, &q))
        @if writes {
            section.card {
                h2 { (lang.t(Msg::OfficeCallPeopleUp)) }
                form.stack method="post" action="/console/callups" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name="mid" value=(Uuid::now_v7());
                    fieldset {
                        legend { (lang.t(Msg::OfficeGridsHeading)) }
                        @for (id, name) in &names.grids {
                            label.check { input type="checkbox" name="grid" value=(id); (name) }
                        }
                    }
                    fieldset {
                        legend { (lang.t(Msg::OfficeWhoNoneTicked)) }
                        @for r in CALLABLE {
                            label.check { input type="checkbox" name="role" value=(r.code()); (word(lang, Vocabulary::Role, r.code())) }
                        }
                    }
                    label { (lang.t(Msg::OfficeMeetingPoint)) input type="text" name="place" required maxlength="100"; }
                    label { (lang.t(Msg::OfficeMeetingTime)) input type="datetime-local" name="at" required; }
                    label { (lang.t(Msg::OfficeMessage)) textarea name="message" required maxlength="500" rows="3" {} }
                    label { (lang.t(Msg::OfficeRecallAfter))
                        input type="number" name="recall" min="1" max="1440" value="15" style="width:6em"; }
                    button.primary type="submit" { (lang.t(Msg::OfficeSend)) }
                }
            }
        }
        @for c in &rows {
            section.card {
                h2 {
                    (c.grid_name) " · " (c.callup.place) " · " (when(c.callup.at))
                    @if c.callup.closed_at.is_some() { " " span.badge.done { (lang.t(Msg::OfficeCallUpClosed)) } }
                    @else { " " span.badge.open { (lang.t(Msg::OfficeCallUpOpen)) } }
                }
                p { (c.callup.message) }
                @let count = |a: &str| c.answers.iter().filter(|x| x.answer == a).count();
                p.hint {
                    (word(lang, Vocabulary::CallupAnswer, "arrived")) " " (count("arrived")) " · "
                    (word(lang, Vocabulary::CallupAnswer, "coming")) " " (count("coming")) " · "
                    (word(lang, Vocabulary::CallupAnswer, "cannot")) " " (count("cannot")) " · "
                    (lang.t(Msg::OfficeNoAnswer)) " " (c.silent.len())
                }
                @if let Some(m) = c.callup.recall_after_minutes {
                    p.hint { (lang.t1(Msg::OfficeRecallsAfter, m)) }
                }
                @let text = |user: Uuid| {
                    let t = c.texts.iter().find(|t| t.user_id == user);
                    html! { @if let Some(t) = t {
                        span.badge { (lang.t(Msg::OfficeBySms)) " " (word(lang, Vocabulary::MessageState, &t.state)) }
                        @if let Some(w) = &t.words { " " span.hint { (w) } }
                        @if let Some(r) = &t.recall {
                            " " span.badge.open { (lang.t(Msg::OfficeRecalled)) " " (word(lang, Vocabulary::MessageState, r)) }
                        }
                    } }
                };
                table.list {
                    thead { tr { th { (lang.t(Msg::OfficeCalledPerson)) } th { (lang.t(Msg::OfficeCallAnswer)) } th { (lang.t(Msg::OfficeTime)) } th { (lang.t(Msg::OfficeFromMeetingPoint)) } th { (lang.t(Msg::OfficeReached)) } } }
                    tbody {
                    @for a in &c.answers {
                        tr { td { (a.name) } td { (word(lang, Vocabulary::CallupAnswer, &a.answer)) } td { (when(a.at)) }
                             td { @if let Some(d) = a.distance_m { (format!("{d:.0} m")) } } td { (text(a.user_id)) } }
                    }
                    @for p in &c.silent { tr { td { (p.name) } td.alarm { (lang.t(Msg::OfficeNoAnswer)) } td {} td {} td { (text(p.user_id)) } } }
                } }
                @if writes && c.callup.closed_at.is_none() {
                    form.inline method="post" action="/console/callups/close" {
                        input type="hidden" name="csrf" value=(user.csrf);
                        input type="hidden" name="mid" value=(Uuid::now_v7());
                        input type="hidden" name="callup" value=(c.callup.id);
                        button type="submit" { (lang.t(Msg::OfficeCloseCallUp)) }
                    }
                }
            }
        }
        @if rows.is_empty() { p.hint { (lang.t(Msg::OfficeNoCallUp)) } }
    })
}

/// `POST /console/callups`: one `callup.create` per ticked grid. The form's time is Beijing time.
async fn create_callup(
    State(state): State<AppState>,
    ConsoleForm { user, form: posted }: ConsoleForm,
) -> Response {
    let lang = user.lang;
    let grids: Vec<Uuid> = posted.all("grid").filter_map(|g| g.parse().ok()).collect();
    let roles: Vec<&str> = posted
        .all("role")
        .filter(|r| Role::from_code(r).is_some())
        .collect();
    let at = posted
        .get("at")
        .and_then(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").ok())
        .and_then(|t| super::page::beijing().from_local_datetime(&t).single());
    let (Some(mid), Some(at)) = (posted.get("mid").and_then(|m| m.parse::<Uuid>().ok()), at) else {
        return refused(
            lang,
            ApiError::BadRequest(lang.t(Msg::OfficeGiveTheTime).into()),
        );
    };
    if grids.is_empty() {
        return refused(
            lang,
            ApiError::BadRequest(lang.t(Msg::OfficeTickAtLeast).into()),
        );
    }
    let roles: Vec<Role> = roles.into_iter().filter_map(Role::from_code).collect();
    // Blank: call once only. The protocol refuses a number outside 1–1440 in the user's words.
    let recall_after_minutes = match posted.get("recall").map(str::trim).unwrap_or("") {
        "" => None,
        text => match text.parse::<u32>() {
            Ok(m) => Some(m),
            Err(_) => {
                return refused(
                    lang,
                    ApiError::BadRequest(lang.t(Msg::OfficeRecallAfter).into()),
                );
            }
        },
    };
    let mut refusals = Vec::new();
    for (i, grid) in grids.iter().enumerate() {
        // One mutation per grid, its id derived from the form's so a second click is a duplicate.
        let id = derived_id(mid, &[i as u8]);
        let callup = Command::Callup(NewCallup {
            grid: *grid,
            roles: roles.clone(),
            place: posted.get("place").unwrap_or("").to_string(),
            at: at.with_timezone(&chrono::Utc),
            message: posted.get("message").unwrap_or("").to_string(),
            recall_after_minutes,
        });
        match act(&state, &user, id, callup).await {
            Ok(Outcome::Done) => {}
            Ok(Outcome::KeptAsComment(m) | Outcome::Refused(m)) => refusals.push(m),
            Err(e) => return refused(lang, e),
        }
    }
    let to = match refusals.is_empty() {
        true => "/console/callups?ok=1".to_string(),
        false => format!("/console/callups?refused={}", encode(&refusals.join("; "))),
    };
    Redirect::to(&to).into_response()
}

async fn close_callup(
    State(state): State<AppState>,
    ConsoleForm { user, form: posted }: ConsoleForm,
) -> Response {
    let (Some(mid), Some(callup)) = (
        posted.get("mid").and_then(|m| m.parse::<Uuid>().ok()),
        posted.get("callup").and_then(|c| c.parse::<Uuid>().ok()),
    ) else {
        return refused(user.lang, ApiError::BadRequest("no such call-up".into()));
    };
    match act(&state, &user, mid, Command::CloseCallup(callup)).await {
        Ok(o) => back_to("/console/callups", o),
        Err(e) => refused(user.lang, e),
    }
}

async fn departments(State(state): State<AppState>, user: ConsoleUser, q: Params) -> Response {
    let lang = user.lang;
    let list = match state.store.read(office::departments).await {
        Ok(l) => l,
        Err(e) => return refused(lang, e.into()),
    };
    let admin = user.principal.has(Role::CommunityAdmin);
    layout(&user, lang.t(Msg::OfficeDepartments), "departments").render(html! {
        h1 { (lang.t(Msg::OfficeEscalationDepartments)) }
        (notice(lang, &q))
        p.hint { (lang.t(Msg::OfficeIssuesCanBeSent)) " "
            a href="/console/time-limits" { (lang.t(Msg::OfficeTimeLimits)) } }
        table.list {
            thead { tr { th { (lang.t(Msg::OfficeName)) } th { (lang.t(Msg::FieldPhone)) } @if admin { th {} } } }
            tbody { @for d in &list {
                tr {
                    @if admin {
                        td colspan="3" {
                            form.inline method="post" action="/console/departments" {
                                input type="hidden" name="csrf" value=(user.csrf);
                                input type="hidden" name="id" value=(d.id);
                                input type="text" name="name" value=(d.name) required maxlength="50";
                                " " input type="text" name="phone" value=[d.phone.as_deref()] maxlength="20";
                                " " button type="submit" { (lang.t(Msg::ActionSave)) }
                            }
                        }
                    } @else {
                        td { (d.name) } td { (d.phone.as_deref().unwrap_or("")) }
                    }
                }
            } }
        }
        @if admin {
            section.card {
                h2 { (lang.t(Msg::OfficeAddADepartment)) }
                form.stack method="post" action="/console/departments" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name="id" value=(Uuid::now_v7());
                    label { (lang.t(Msg::OfficeName)) input type="text" name="name" required maxlength="50"; }
                    label { (lang.t(Msg::FieldPhone)) input type="text" name="phone" maxlength="20"; }
                    button.primary type="submit" { (lang.t(Msg::OfficeAdd)) }
                }
            }
        }
    })
}

/// `POST /console/departments`: add or rename one (the community office), audited.
async fn save_department(
    State(state): State<AppState>,
    ConsoleForm { user, form: posted }: ConsoleForm,
) -> Response {
    let lang = user.lang;
    if !user.principal.has(Role::CommunityAdmin) {
        return refused(
            lang,
            ApiError::Forbidden(lang.t(Msg::OfficeOnlyTheCommunity).into()),
        );
    }
    let Some(id) = posted.get("id").and_then(|i| i.parse::<Uuid>().ok()) else {
        return refused(lang, ApiError::BadRequest("no department id".into()));
    };
    let (name, phone) = (
        posted.get("name").unwrap_or("").to_string(),
        posted.get("phone").map(str::to_string),
    );
    let actor = user.principal.user_id;
    let done = state
        .store
        .write(move |tx| {
            admin::put_department(tx, id, &name, phone.as_deref())?;
            admin::audit(tx, actor, "put_department", &id.to_string(), &name)
        })
        .await;
    match done {
        Ok(()) => Redirect::to("/console/departments?ok=1").into_response(),
        Err(e) => refused(lang, e.into()),
    }
}

/// `GET /console/time-limits`: hours per category and severity, the defaults beside them.
async fn time_limits(State(state): State<AppState>, user: ConsoleUser, q: Params) -> Response {
    let lang = user.lang;
    let limits = match state.store.read(crate::store::limits::load).await {
        Ok(l) => l,
        Err(e) => return refused(lang, e.into()),
    };
    let entries = crate::app::limits::entries(&limits);
    let admin = user.principal.has(Role::CommunityAdmin);
    layout(&user, lang.t(Msg::OfficeTimeLimits), "departments").render(html! {
        h1 { (lang.t(Msg::OfficeTimeLimitsHours)) }
        (notice(lang, &q))
        p.hint { (lang.t(Msg::OfficeNewReportsAreDue)) }
        p.hint { (lang.t(Msg::OfficeEscalationLadder)) }
        form method="post" action="/console/time-limits" {
            input type="hidden" name="csrf" value=(user.csrf);
            table.list {
                thead { tr { th { (lang.t(Msg::FieldCategory)) }
                    @for sev in gridmate_model::Severity::ALL { th { (word(lang, Vocabulary::Severity, sev.code())) } } } }
                tbody { @for cat in gridmate_model::IssueCategory::ALL {
                    tr {
                        td { (word(lang, Vocabulary::IssueCategory, cat.code())) }
                        @for e in entries.iter().filter(|e| e.category == cat.code()) {
                            @let key = format!("{}/{}", e.category, e.severity);
                            @let max = gridmate_model::issue::MAX_TIME_LIMIT_HOURS;
                            td {
                                (lang.t(Msg::OfficeLimitHours)) " "
                                @if admin {
                                    input type="number" name=(key) value=(e.hours)
                                        min="1" max=(max) required style="width:5em";
                                } @else { (e.hours) }
                                " (" (e.default_hours) ")"
                                br;
                                @for (rung, word, hours) in [("leader", Msg::OfficeLeaderAfter, e.leader_after_hours), ("office", Msg::OfficeOfficeAfter, e.office_after_hours)] {
                                    span.hint { (lang.t(word)) }
                                    @if admin {
                                        input type="number" name=(format!("{key}/{rung}")) value=(hours.unwrap_or_default())
                                            min="0" max=(max) required style="width:4em";
                                    } @else { (hours.unwrap_or_default()) }
                                    " "
                                }
                            }
                        }
                    }
                } }
            }
            @if admin { p { button.primary type="submit" { (lang.t(Msg::ActionSave)) } } }
        }
    })
}

async fn save_time_limits(
    State(state): State<AppState>,
    ConsoleForm { user, form: posted }: ConsoleForm,
) -> Response {
    let lang = user.lang;
    // `cat/sev` is the limit, `cat/sev/leader` and `cat/sev/office` its ladder's rungs.
    let mut entries: std::collections::BTreeMap<
        (String, String),
        crate::app::limits::TimeLimitEntry,
    > = std::collections::BTreeMap::new();
    for (key, value) in &posted.0 {
        let mut parts = key.split('/');
        let (Some(c), Some(s)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Ok(hours) = value.trim().parse::<u32>() else {
            return refused(
                lang,
                ApiError::BadRequest(format!("{key}: {}", lang.t(Msg::OfficeHoursAWhole))),
            );
        };
        let entry = entries
            .entry((c.to_string(), s.to_string()))
            .or_insert_with(|| crate::app::limits::TimeLimitEntry {
                category: c.to_string(),
                severity: s.to_string(),
                hours: 0,
                default_hours: 0,
                leader_after_hours: None,
                office_after_hours: None,
            });
        match parts.next() {
            None => entry.hours = hours,
            Some("leader") => entry.leader_after_hours = Some(hours),
            Some("office") => entry.office_after_hours = Some(hours),
            Some(_) => {}
        }
    }
    let entries = entries.into_values().collect();
    match crate::app::limits::set(&state, user.principal.clone(), entries).await {
        Ok(()) => Redirect::to("/console/time-limits?ok=1").into_response(),
        Err(e) => refused(lang, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_id_gives_one_callup_id_per_grid_and_the_same_again() {
        let mid = Uuid::now_v7();
        let a = Uuid::new_v5(&mid, &[0]);
        assert_eq!(a, Uuid::new_v5(&mid, &[0]));
        assert_ne!(a, Uuid::new_v5(&mid, &[1]));
    }
}
