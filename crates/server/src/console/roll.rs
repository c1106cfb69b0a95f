//! The roll (居民户): each grid's month so far — visited, not yet, the vulnerable not yet — and
//! the households of the office's grids, found by address or by anyone's name (as written, in
//! pinyin or by initials); one household whole with its people, visits and issues, and its
//! correction (head of household, tags, visit cadence) pushed as a `household.patch` through the
//! one write path, as a phone's is.

use super::frame::{ConsoleForm, ConsoleUser, act, back_to, layout, notice, refused};
use super::page::{badge, grid_select, pager, when, word};
use crate::app::AppState;
use crate::app::Params;
use crate::app::commands::Command;
use crate::error::ApiError;
use crate::store::Backend;
use crate::store::office::{self, HouseholdRow, Page};
use crate::store::roll::{self, HouseholdDetail, MonthCoverage};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::Utc;
use gridmate_model::HouseholdTag;
use gridmate_words::{Lang, Msg, Vocabulary};
use maud::{Markup, html};
use std::collections::BTreeMap;
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/roll", get(roll))
        .route("/console/roll/{id}", get(household).post(correct))
}

fn tags(lang: Lang, codes: &[String]) -> Markup {
    html! {
        @for t in codes {
            span.tag { (word(lang, Vocabulary::HouseholdTag, t)) }
        }
    }
}

fn coverage_table(lang: Lang, months: &[MonthCoverage]) -> Markup {
    html! {
        table.list {
            thead { tr {
                th { (lang.t(Msg::OfficeGrid)) } th { (lang.t(Msg::OfficeHouseholdCount)) }
                th { (lang.t(Msg::OfficeDueThisMonth)) }
                th { (lang.t(Msg::OfficeVisitedThisMonth)) }
                th { (lang.t(Msg::OfficeNotYetThisMonth)) }
                th { (lang.t(Msg::OfficeOfThemVulnerable)) }
            } }
            tbody { @for m in months {
                tr {
                    td { (m.grid_name) }
                    td { (m.households) }
                    td { (m.due) }
                    td { (m.visited) " (" ((m.visited * 100).checked_div(m.due).unwrap_or(100)) "%)" }
                    td { a href=(format!("/console/roll?grid={}&unvisited_this_month=true", m.grid_id)) { (m.not_visited) } }
                    td class=[(m.vulnerable_not_visited > 0).then_some("warn")] {
                        a href=(format!("/console/roll?grid={}&unvisited_this_month=true&vulnerable=true", m.grid_id)) { (m.vulnerable_not_visited) }
                    }
                }
            } }
        }
    }
}

/// `GET /console/roll`: this month's coverage per grid, then the households that match.
async fn roll(State(state): State<AppState>, user: ConsoleUser, q: Params) -> Response {
    let lang = user.lang;
    let (filter, mut paging) = match (q.household_filter(), q.paging()) {
        (Ok(f), Ok(p)) => (f, p),
        (Err(e), _) | (_, Err(e)) => return refused(lang, e),
    };
    paging.limit = paging.limit.min(100);
    let p = user.principal.clone();
    let f = filter.clone();
    let answer = state
        .store
        .read(move |tx| {
            let now = Utc::now();
            Ok((
                office::Names::load(tx, &p)?,
                roll::month_coverage(tx, &p, None, now)?,
                office::households(tx, &p, &f, paging, now)?,
            ))
        })
        .await;
    let (names, months, page): (office::Names, Vec<MonthCoverage>, Page<HouseholdRow>) =
        match answer {
            Ok(a) => a,
            Err(e) => return refused(lang, e.into()),
        };
    layout(&user, lang.t(Msg::OfficeHouseholds), "roll").render(html! {
        h1 { (lang.t(Msg::OfficeHouseholds)) }
        p { a href="/console/posters" target="_blank" { (lang.t(Msg::OfficeBuildingPosters)) } }
        section.card {
            h2 { (lang.t(Msg::OfficeThisMonthsVisits)) }
            p.muted { (lang.t(Msg::OfficeDueThisMonthVisited)) }
            (coverage_table(lang, &months))
        }
        form.filters method="get" action="/console/roll" {
            (grid_select(lang, &names, filter.grid))
            label.check { input type="checkbox" name="unvisited_this_month" value="true" checked[filter.unvisited_this_month]; (lang.t(Msg::OfficeNotYetThisMonth)) }
            label.check { input type="checkbox" name="vulnerable" value="true" checked[filter.vulnerable]; (lang.t(Msg::OfficeVulnerable)) }
            label.check { input type="checkbox" name="visit_overdue" value="true" checked[filter.visit_overdue]; (lang.t(Msg::OfficeVisitOverdue)) }
            input type="search" name="q" value=[filter.q.as_deref()] placeholder=(lang.t(Msg::OfficeAddressNameOrPinyin));
            button type="submit" { (lang.t(Msg::OfficeFind)) }
        }
        table.list {
            thead { tr {
                th { (lang.t(Msg::OfficeAddress)) } th { (lang.t(Msg::OfficeHead)) }
                th { (lang.t(Msg::OfficeGrid)) } th { (lang.t(Msg::TagsField)) }
                th { (lang.t(Msg::OfficeLastVisit)) } th { (lang.t(Msg::OfficeVisits)) }
            } }
            tbody {
                @for row in &page.items {
                    @let h = &row.household;
                    tr class=[row.visit_overdue.then_some("overdue")] {
                        td { a href=(format!("/console/roll/{}", h.id)) { (h.address) } }
                        td { (h.head_name) }
                        td { (row.grid_name) }
                        td { (tags(lang, &h.tags)) }
                        td { (h.last_visit_at.map(when).unwrap_or_else(|| lang.t(Msg::OfficeNever).into())) }
                        td { @if row.visit_overdue { span.badge.overdue { (lang.t(Msg::OfficeOverdue)) } } @else { span.badge.done { (lang.t(Msg::OfficeOnTime)) } } }
                    }
                }
                @if page.items.is_empty() {
                    tr { td colspan="6" .empty { (lang.t(Msg::OfficeNoHouseholdMatches)) } }
                }
            }
        }
        (pager(lang, &q, "/console/roll", page.total, page.offset, paging.limit))
    })
}

/// `GET /console/roll/{id}`: one household whole, and (for those who may write) its correction.
async fn household(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    user: ConsoleUser,
    q: Params,
) -> Response {
    let lang = user.lang;
    let p = user.principal.clone();
    let answer = state
        .store
        .read(move |tx| roll::household(tx, &p, id, Utc::now()))
        .await;
    let d: HouseholdDetail = match answer {
        Ok(Some(d)) => d,
        Ok(None) => {
            return not_yours(lang);
        }
        Err(e) => return refused(lang, e.into()),
    };
    let h = &d.household.household;
    let writes = !user.principal.reads_only();
    layout(&user, &h.address, "roll").render(html! {
        p.crumbs { a href="/console/roll" { (lang.t(Msg::OfficeHouseholds)) } " › " (h.address) }
        (notice(lang, &q))
        h1 { (h.address) " " (tags(lang, &h.tags)) }
        section.tiles {
            div.tile { div.label { (lang.t(Msg::OfficeHead)) } div.value { (h.head_name) } }
            div.tile { div.label { (lang.t(Msg::OfficeGrid)) } div.value { (d.household.grid_name) } }
            div.tile { div.label { (lang.t(Msg::OfficeVisitEvery)) } div.value { (h.visit_cadence_days) (lang.t(Msg::OfficeDays)) } }
            div.tile class=[d.household.visit_overdue.then_some("warn")] {
                div.label { (lang.t(Msg::OfficeNextVisitDue)) }
                div.value { (d.next_visit_due.map(when).unwrap_or_else(|| lang.t(Msg::OfficeNowNeverVisited).into())) }
            }
        }
        section.card {
            h2 { (lang.t(Msg::OfficeResidents)) " " span.count { (d.residents.len()) } }
            table.list {
                thead { tr {
                    th { (lang.t(Msg::FieldName)) } th { (lang.t(Msg::OfficeRelation)) }
                    th { (lang.t(Msg::OfficeBorn)) } th { (lang.t(Msg::OfficeContactPhone)) }
                    th { (lang.t(Msg::OfficeIDNumber)) } th { (lang.t(Msg::TagsField)) }
                } }
                tbody { @for r in &d.residents {
                    tr class=[r.moved_out.then_some("gone")] {
                        td { (r.name) @if r.moved_out { " " span.badge.done { (lang.t(Msg::OfficeMovedOut)) } } }
                        td { (r.relation) }
                        td { (r.birth_year.map(|y| y.to_string()).unwrap_or_default()) }
                        td { (r.phone_masked.as_deref().unwrap_or("")) }
                        td { (r.id_number_masked.as_deref().unwrap_or("")) }
                        td { (tags(lang, &r.tags)) }
                    }
                } }
            }
        }
        @if writes { (correction_form(&user, &d)) }
        section.card {
            h2 { (lang.t(Msg::Visits)) " " span.count { (d.visits.len()) } }
            table.list {
                thead { tr {
                    th { (lang.t(Msg::OfficeTime)) } th { (lang.t(Msg::OfficeBy)) }
                    th { (lang.t(Msg::OfficeKind)) } th { (lang.t(Msg::OfficeOutcome)) } th { (lang.t(Msg::OfficeVisitNotes)) }
                } }
                tbody {
                    @for v in d.visits.iter().take(50) {
                        tr {
                            td { (when(v.visit.started_at)) }
                            td { (v.visitor_name.as_deref().unwrap_or("—")) }
                            td { (word(lang, Vocabulary::VisitKind, &v.visit.kind)) }
                            td { (word(lang, Vocabulary::VisitOutcome, &v.visit.outcome)) }
                            td { (v.visit.notes) }
                        }
                    }
                    @if d.visits.is_empty() { tr { td colspan="5" .empty { (lang.t(Msg::OfficeNotVisitedYet)) } } }
                }
            }
        }
        section.card {
            h2 { (lang.t(Msg::IssuesTitle)) " " span.count { (d.issues.len()) } }
            ul { @for i in &d.issues {
                li {
                    span.number { (i.number.as_deref().unwrap_or("—")) } " "
                    a href=(format!("/console/issues/{}", i.id)) { (i.title) } " · " (when(i.reported_at)) " "
                    (badge(lang, Vocabulary::IssueStatus, &i.status, false))
                }
            } }
            @if d.issues.is_empty() { p.empty { (lang.t(Msg::OfficeNoIssueWasReported)) } }
        }
    })
}

/// A household id outside the user's grids, or none at all: said the same either way.
fn not_yours(lang: Lang) -> Response {
    refused(
        lang,
        ApiError::NotFound(lang.t(Msg::OfficeNoSuchHousehold).into()),
    )
}

fn correction_form(user: &ConsoleUser, d: &HouseholdDetail) -> Markup {
    let lang = user.lang;
    let h = &d.household.household;
    html! {
        section.card {
            h2 { (lang.t(Msg::OfficeCorrectTheHousehold)) }
            form.stack method="post" action=(format!("/console/roll/{}", h.id)) {
                input type="hidden" name="csrf" value=(user.csrf);
                input type="hidden" name="mid" value=(Uuid::now_v7());
                label { (lang.t(Msg::FieldHeadName)) input type="text" name="head_name" value=(h.head_name) required maxlength="30"; }
                label { (lang.t(Msg::CadenceField)) input type="number" name="visit_cadence_days" value=(h.visit_cadence_days) min="1" max="365" required; }
                fieldset {
                    legend { (lang.t(Msg::TagsField)) }
                    @for t in HouseholdTag::ALL {
                        label.check { input type="checkbox" name="tag" value=(t.code()) checked[h.tags.iter().any(|c| c == t.code())]; (word(lang, Vocabulary::HouseholdTag, t.code())) }
                    }
                }
                button.primary type="submit" { (lang.t(Msg::OfficeSaveTheCorrection)) }
            }
        }
    }
}

/// `POST /console/roll/{id}`: the fields that changed, as one `household.patch` mutation whose
/// id the form carries (a resubmitted form changes nothing).
async fn correct(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ConsoleForm { user, form: posted }: ConsoleForm,
) -> Response {
    let lang = user.lang;
    let mid = match posted.form_id(lang) {
        Ok(mid) => mid,
        Err(e) => return refused(lang, e),
    };
    let p = user.principal.clone();
    let current = match state
        .store
        .read(move |tx| roll::household_record(tx, &p, id))
        .await
    {
        Ok(Some(h)) => h,
        Ok(None) => {
            return not_yours(lang);
        }
        Err(e) => return refused(lang, e.into()),
    };
    let head = posted.get("head_name").unwrap_or("").trim().to_string();
    let cadence = match posted
        .get("visit_cadence_days")
        .unwrap_or("")
        .trim()
        .parse::<u16>()
    {
        Ok(c) if (1..=365).contains(&c) => c,
        _ => {
            return refused(
                lang,
                ApiError::BadRequest(lang.t(Msg::OfficeVisitEveryRange).into()),
            );
        }
    };
    let mut chosen: Vec<String> = posted
        .all("tag")
        .filter_map(HouseholdTag::from_code)
        .map(|t| t.code().to_string())
        .collect();
    chosen.sort();
    chosen.dedup();
    let mut had = current.tags.clone();
    had.sort();
    let mut fields = BTreeMap::new();
    if head != current.head_name {
        fields.insert("head_name".to_string(), serde_json::json!(head));
    }
    if cadence != current.visit_cadence_days {
        fields.insert("visit_cadence_days".to_string(), serde_json::json!(cadence));
    }
    if chosen != had {
        fields.insert("tags".to_string(), serde_json::json!(chosen));
    }
    let back = format!("/console/roll/{id}");
    if fields.is_empty() {
        // Nothing differs (a form sent again once it was saved): it stands as saved.
        return Redirect::to(&format!("{back}?ok=1")).into_response();
    }
    let correction = Command::CorrectHousehold {
        household: id,
        fields,
    };
    match act(&state, &user, mid, correction).await {
        Ok(o) => back_to(&back, o),
        Err(e) => refused(lang, e),
    }
}
