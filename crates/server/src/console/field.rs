//! 巡查与承诺: what the field did that is not on the board — the workers' patrols of a period
//! (each person's count, time and distance; each patrol's track drawn over its grid with what it
//! found) and the party members' public promises of the year with their progress.

use super::frame::{ConsoleUser, layout, refused};
use super::page::{Projection, badge, grid_drawing, period_form, when, word};
use crate::app::AppState;
use crate::app::Params;
use crate::error::ApiError;
use crate::store::Backend;
use crate::store::field::{self, CommitmentRow, PatrolDetail, Patrols};
use crate::store::office;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use gridmate_words::{Lang, Msg, Vocabulary};
use maud::{Markup, html};
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/field", get(field_page))
        .route("/console/patrols/{id}", get(patrol_page))
}

fn km(m: f64) -> String {
    format!("{:.1}", m / 1000.0)
}

fn hours(minutes: i64) -> String {
    format!("{:.1}", minutes as f64 / 60.0)
}

/// `GET /console/field?grid=&from=&to=&year=`: the period's patrols (30 days to today unless
/// said) and the year's promises.
async fn field_page(State(state): State<AppState>, user: ConsoleUser, q: Params) -> Response {
    let lang = user.lang;
    let (grid, period, year) = match (q.uuid("grid"), q.period(), q.year()) {
        (Ok(g), Ok(p), Ok(y)) => (g, p, y),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return refused(lang, e),
    };
    let p = user.principal.clone();
    let answer = state
        .store
        .read(move |tx| {
            Ok((
                office::Names::load(tx, &p)?,
                field::patrols(tx, &p, grid, period)?,
                field::commitments(tx, &p, grid, year)?,
            ))
        })
        .await;
    let (names, patrols, promises): (office::Names, Patrols, Vec<CommitmentRow>) = match answer {
        Ok(a) => a,
        Err(e) => return refused(lang, e.into()),
    };
    let kept = promises
        .iter()
        .filter(|c| c.commitment.status == "fulfilled")
        .count();
    layout(&user, lang.t(Msg::OfficePatrolsAndPromises), "field").render(html! {
        h1 { (lang.t(Msg::OfficePatrolsAndPromises)) }
        (period_form(lang, &q, "/console/field", &names))
        section.tiles {
            div.tile { div.label { (lang.t(Msg::OfficePatrolCount)) } div.value { (patrols.rows.len()) } }
            div.tile { div.label { (lang.t(Msg::OfficePatrolDistance)) } div.value { (km(patrols.rows.iter().map(|r| r.distance_m).sum())) } }
            div.tile { div.label { (lang.t(Msg::OfficePatrolIssuesFound)) } div.value { (patrols.rows.iter().map(|r| r.issues).sum::<usize>()) } }
            div.tile { div.label { (year) (lang.t(Msg::OfficePromisesKeptAll)) } div.value { (kept) " / " (promises.len()) } }
        }
        section.card {
            h2 { (lang.t(Msg::OfficePatrolsByPerson)) }
            table.list {
                thead { tr {
                    th { (lang.t(Msg::OfficeWho)) } th { (lang.t(Msg::OfficeTimes)) }
                    th { (lang.t(Msg::HoursField)) } th { (lang.t(Msg::OfficeKm)) }
                    th { (lang.t(Msg::OfficeIssuesFoundColumn)) }
                } }
                tbody {
                    @for t in &patrols.people {
                        tr { td { (t.person_name) } td { (t.patrols) } td { (hours(t.minutes)) } td { (km(t.distance_m)) } td { (t.issues) } }
                    }
                    @if patrols.people.is_empty() { tr { td colspan="5" .empty { (lang.t(Msg::OfficeNoPatrolInThisPeriod)) } } }
                }
            }
        }
        section.card {
            h2 { (lang.t(Msg::OfficePatrolList)) }
            table.list {
                thead { tr {
                    th { (lang.t(Msg::OfficeStarted)) } th { (lang.t(Msg::OfficeGrid)) } th { (lang.t(Msg::OfficeWho)) }
                    th { (lang.t(Msg::OfficeMinutes)) } th { (lang.t(Msg::OfficeKm)) }
                    th { (lang.t(Msg::OfficeIssues)) } th { (lang.t(Msg::OfficeRecordNotes)) }
                } }
                tbody { @for r in patrols.rows.iter().take(200) {
                    tr {
                        td { a href=(format!("/console/patrols/{}", r.id)) { (when(r.started_at)) } }
                        td { (r.grid_name) } td { (r.person_name) } td { (r.minutes) } td { (km(r.distance_m)) }
                        td { (r.issues) } td { (r.notes) }
                    }
                } }
            }
        }
        section.card {
            h2 { (year) (lang.t(Msg::OfficePartyMembersPromises)) }
            table.list {
                thead { tr {
                    th { (lang.t(Msg::OfficeGrid)) } th { (lang.t(Msg::OfficeMember)) } th { (lang.t(Msg::OfficePromise)) }
                    th { (lang.t(Msg::OfficeStatus)) } th { (lang.t(Msg::OfficePromiseSteps)) } th { (lang.t(Msg::OfficeLastStep)) }
                } }
                tbody {
                    @for c in &promises {
                        tr {
                            td { (c.grid_name) } td { (c.commitment.user_name) }
                            td { (c.commitment.title) @if !c.commitment.description.is_empty() { br; span.muted { (c.commitment.description) } } }
                            td { (commitment_badge(lang, &c.commitment.status)) }
                            td { (c.commitment.progress) }
                            td { (c.last_step_at.map(when).unwrap_or_else(|| "—".into())) }
                        }
                    }
                    @if promises.is_empty() { tr { td colspan="6" .empty { (lang.t(Msg::OfficeNoPromiseThisYear)) } } }
                }
            }
        }
    })
}

fn commitment_badge(lang: Lang, status: &str) -> Markup {
    let class = match status {
        "fulfilled" => "badge done",
        "dropped" => "badge overdue",
        _ => "badge open",
    };
    html! { span class=(class) { (word(lang, Vocabulary::CommitmentStatus, status)) } }
}

/// `GET /console/patrols/{id}`: the track over the grid, where it started and ended, and the
/// issues found on the way.
async fn patrol_page(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    user: ConsoleUser,
) -> Response {
    let lang = user.lang;
    let p = user.principal.clone();
    let d: PatrolDetail = match state.store.read(move |tx| field::patrol(tx, &p, id)).await {
        Ok(Some(d)) => d,
        Ok(None) => {
            return refused(
                lang,
                ApiError::NotFound(lang.t(Msg::OfficeNoSuchPatrol).into()),
            );
        }
        Err(e) => return refused(lang, e.into()),
    };
    let r = &d.patrol;
    let title = format!("{} {}", r.person_name, when(r.started_at));
    layout(&user, &title, "field").render(html! {
        p.crumbs { a href="/console/field" { (lang.t(Msg::OfficePatrolsAndPromises)) } " › " (title) }
        h1 { (lang.t(Msg::OfficePatrol)) " · " (r.person_name) }
        section.tiles {
            div.tile { div.label { (lang.t(Msg::OfficeGrid)) } div.value { (r.grid_name) } }
            div.tile { div.label { (lang.t(Msg::OfficeTime)) } div.value { (when(r.started_at)) " – " (when(r.ended_at)) } }
            div.tile { div.label { (lang.t(Msg::OfficeDistance)) } div.value { (km(r.distance_m)) } }
            div.tile { div.label { (lang.t(Msg::OfficeIssuesFoundColumn)) } div.value { (d.issues.len()) } }
        }
        (track_svg(lang, &d))
        @if !r.notes.is_empty() { section.card { h2 { (lang.t(Msg::OfficePatrolNotes)) } p { (r.notes) } } }
        section.card {
            h2 { (lang.t(Msg::OfficeIssuesFoundOnTheWay)) }
            ul { @for i in &d.issues {
                li { span.number { (i.number.as_deref().unwrap_or("—")) } " " a href=(format!("/console/issues/{}", i.id)) { (i.title) } " " (badge(lang, Vocabulary::IssueStatus, &i.status, false)) }
            } }
            @if d.issues.is_empty() { p.empty { (lang.t(Msg::OfficeNoIssueWas)) } }
        }
    })
}

/// The track as a line over its grid, its start green and its end red; fitted to the grid and
/// the track together, as a walk may stray past the boundary.
fn track_svg(lang: Lang, d: &PatrolDetail) -> Markup {
    let (w, h): (f64, f64) = (560.0, 560.0);
    let points = d
        .place
        .outline
        .iter()
        .flatten()
        .chain(d.track.iter())
        .map(|c| (c[0], c[1]));
    let Some(p) = Projection::fit(points, w, h) else {
        return html! {};
    };
    html! {
        figure.place {
            svg.chart.map xmlns="http://www.w3.org/2000/svg" width=(w) height=(h) role="img" {
                (grid_drawing(&p, &d.place))
                @if d.track.len() > 1 { polyline.track points=(p.points(&d.track)) {} }
                @if let Some(s) = d.track.first() { circle.start cx=(format!("{:.1}", p.x(s[0]))) cy=(format!("{:.1}", p.y(s[1]))) r="6" {} }
                @if let Some(e) = d.track.last() { circle.here cx=(format!("{:.1}", p.x(e[0]))) cy=(format!("{:.1}", p.y(e[1]))) r="6" {} }
            }
            figcaption { (lang.t(Msg::OfficeBlueTheTrack)) }
        }
    }
}
