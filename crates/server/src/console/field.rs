//! 巡查与承诺: what the field did that is not on the board — the workers' patrols of a period
//! (each person's count, time and distance; each patrol's track drawn over its grid with what it
//! found) and the party members' public promises of the year with their progress.

use super::frame::{ConsoleUser, layout, refused};
use super::page::{Projection, badge, grid_drawing, period_form, tr, when, word};
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
use gridmate_model::words::{Lang, Vocabulary};
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
    layout(&user, tr(lang, "巡查与承诺", "Patrols and promises"), "field").render(html! {
        h1 { (tr(lang, "巡查与承诺", "Patrols and promises")) }
        (period_form(lang, &q, "/console/field", &names))
        section.tiles {
            div.tile { div.label { (tr(lang, "巡查次数", "Patrols")) } div.value { (patrols.rows.len()) } }
            div.tile { div.label { (tr(lang, "巡查里程（公里）", "Distance (km)")) } div.value { (km(patrols.rows.iter().map(|r| r.distance_m).sum())) } }
            div.tile { div.label { (tr(lang, "巡查发现问题", "Issues found")) } div.value { (patrols.rows.iter().map(|r| r.issues).sum::<usize>()) } }
            div.tile { div.label { (year) (tr(lang, " 年承诺 已践诺 / 全部", " promises kept / all")) } div.value { (kept) " / " (promises.len()) } }
        }
        section.card {
            h2 { (tr(lang, "巡查（按人）", "Patrols by person")) }
            table.list {
                thead { tr {
                    th { (tr(lang, "巡查人", "Who")) } th { (tr(lang, "次数", "Patrols")) }
                    th { (tr(lang, "时长（小时）", "Hours")) } th { (tr(lang, "里程（公里）", "km")) }
                    th { (tr(lang, "发现问题", "Issues found")) }
                } }
                tbody {
                    @for t in &patrols.people {
                        tr { td { (t.person_name) } td { (t.patrols) } td { (hours(t.minutes)) } td { (km(t.distance_m)) } td { (t.issues) } }
                    }
                    @if patrols.people.is_empty() { tr { td colspan="5" .empty { (tr(lang, "这段时间没有巡查。", "No patrol in this period.")) } } }
                }
            }
        }
        section.card {
            h2 { (tr(lang, "巡查记录", "Patrols")) }
            table.list {
                thead { tr {
                    th { (tr(lang, "开始", "Started")) } th { (tr(lang, "网格", "Grid")) } th { (tr(lang, "巡查人", "Who")) }
                    th { (tr(lang, "时长（分钟）", "Minutes")) } th { (tr(lang, "里程（公里）", "km")) }
                    th { (tr(lang, "发现问题", "Issues")) } th { (tr(lang, "记录", "Notes")) }
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
            h2 { (year) (tr(lang, " 年党员承诺", " party members' promises")) }
            table.list {
                thead { tr {
                    th { (tr(lang, "网格", "Grid")) } th { (tr(lang, "党员", "Member")) } th { (tr(lang, "承诺事项", "Promise")) }
                    th { (tr(lang, "状态", "Status")) } th { (tr(lang, "进展", "Steps")) } th { (tr(lang, "最近进展", "Last step")) }
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
                    @if promises.is_empty() { tr { td colspan="6" .empty { (tr(lang, "这一年还没有承诺。", "No promise this year.")) } } }
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
                ApiError::NotFound(
                    tr(
                        lang,
                        "你的网格中没有这次巡查。",
                        "No such patrol in your grids.",
                    )
                    .into(),
                ),
            );
        }
        Err(e) => return refused(lang, e.into()),
    };
    let r = &d.patrol;
    let title = format!("{} {}", r.person_name, when(r.started_at));
    layout(&user, &title, "field").render(html! {
        p.crumbs { a href="/console/field" { (tr(lang, "巡查与承诺", "Patrols and promises")) } " › " (title) }
        h1 { (tr(lang, "巡查", "Patrol")) " · " (r.person_name) }
        section.tiles {
            div.tile { div.label { (tr(lang, "网格", "Grid")) } div.value { (r.grid_name) } }
            div.tile { div.label { (tr(lang, "时间", "When")) } div.value { (when(r.started_at)) " – " (when(r.ended_at)) } }
            div.tile { div.label { (tr(lang, "里程（公里）", "Distance (km)")) } div.value { (km(r.distance_m)) } }
            div.tile { div.label { (tr(lang, "发现问题", "Issues found")) } div.value { (d.issues.len()) } }
        }
        (track_svg(lang, &d))
        @if !r.notes.is_empty() { section.card { h2 { (tr(lang, "巡查记录", "Notes")) } p { (r.notes) } } }
        section.card {
            h2 { (tr(lang, "途中发现的问题", "Issues found on the way")) }
            ul { @for i in &d.issues {
                li { span.number { (i.number.as_deref().unwrap_or("—")) } " " a href=(format!("/console/issues/{}", i.id)) { (i.title) } " " (badge(lang, Vocabulary::IssueStatus, &i.status, false)) }
            } }
            @if d.issues.is_empty() { p.empty { (tr(lang, "这次巡查没有上报问题。", "No issue was reported on this patrol.")) } }
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
            figcaption { (tr(lang, "蓝线：巡查轨迹；绿点：出发；红点：结束", "Blue: the track; green: start; red: end")) }
        }
    }
}
