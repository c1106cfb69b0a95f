//! The base map import (底图) in the console: a GeoJSON file uploaded, planned as a dry run and
//! drawn grid by grid exactly as the phones will draw it (cut to the grid, simplified), with
//! what was dropped or cut and how many footprints found a building of the roll; then imported
//! on confirmation. The rules are [`crate::import::base_map`]'s, reached through the same call
//! as the API's import, so the console decides nothing of its own.

use super::frame::{ConsoleForm, ConsoleUser, layout, refused};
use super::page::{Projection, grid_drawing};
use super::uploads;
use crate::app::AppState;
use crate::error::ApiError;
use crate::import::ImportProblem;
use crate::import::base_map::{GridPlan, MAX_FILE_BYTES, Plan};
use crate::store::Backend;
use crate::store::office::PlaceMap;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use gridmate_protocol::records::BaseMapRecord;
use gridmate_words::Msg;
use maud::{Markup, html};
use uuid::Uuid;

/// Grids drawn on one plan page; a street's import of hundreds of grids is summed up in the
/// table, and a page of hundreds of drawings helps no one check anything.
const DRAWN_GRIDS: usize = 12;

/// Below this share of footprints holding a building of the roll, the file is probably offset
/// (GCJ-02 coordinates presented as WGS-84 land 300–500 m away in Chinese cities).
const FEW_MATCHED: f64 = 0.5;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/console/import/base-map",
            post(upload).layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 64 * 1024)),
        )
        .route("/console/import/base-map/commit", post(commit))
}

/// The import page's card for a base map.
pub fn upload_card(user: &ConsoleUser) -> Markup {
    let lang = user.lang;
    html! {
        section.card {
            h2 { (lang.t(Msg::OfficeImportABase)) }
            p.hint { (lang.t(Msg::OfficeBuildingFootprintsRoads)) }
            form.stack method="post" action="/console/import/base-map" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(user.csrf);
                label { (lang.t(Msg::OfficeBaseMapFile)) input type="file" name="file" accept=".geojson,.json" required; }
                button.primary type="submit" { (lang.t(Msg::OfficeDryRun)) }
            }
        }
    }
}

/// `POST /console/import/base-map`: keep the upload, plan it, draw the plan.
async fn upload(State(state): State<AppState>, user: ConsoleUser, form: Multipart) -> Response {
    let bytes = match uploads::posted_file(&user, form).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let sha = match uploads::keep(&state, user.lang, &bytes).await {
        Ok(sha) => sha,
        Err(r) => return r,
    };
    let planned =
        crate::app::imports::base_map_file(&state, user.principal.clone(), bytes, false).await;
    let drawn = match &planned {
        Ok(Ok(plan)) => previews(&state, plan).await,
        _ => Ok(Vec::new()),
    };
    match planned.and_then(|p| drawn.map(|d| (p, d))) {
        Ok((planned, drawn)) => plan_page(&user, &planned, &drawn, Some(&sha)),
        Err(e) => refused(user.lang, e),
    }
}

/// The first grids of a dry run drawn with their planned maps, in one read.
async fn previews(state: &AppState, plan: &Plan) -> Result<Vec<(String, PlaceMap)>, ApiError> {
    let planned: Vec<(Uuid, String, BaseMapRecord)> = plan
        .grids
        .iter()
        .take(DRAWN_GRIDS)
        .filter_map(|g| Some((g.grid_id, g.grid_name.clone(), g.planned.clone()?)))
        .collect();
    Ok(state
        .store
        .read(move |tx| {
            planned
                .into_iter()
                .map(|(grid, name, map)| Ok((name, PlaceMap::with_base_map(tx, grid, &map)?)))
                .collect()
        })
        .await?)
}

/// `POST /console/import/base-map/commit`: import the kept upload, planned again in the write.
async fn commit(State(state): State<AppState>, posted: ConsoleForm) -> Response {
    let (path, bytes) = match uploads::kept(&state, &posted).await {
        Ok(kept) => kept,
        Err(r) => return r,
    };
    let user = posted.user;
    match crate::app::imports::base_map_file(&state, user.principal.clone(), bytes, true).await {
        Ok(planned) => {
            if planned.as_ref().is_ok_and(|p| p.committed) {
                let _ = tokio::fs::remove_file(&path).await;
            }
            plan_page(&user, &planned, &[], None)
        }
        Err(e) => refused(user.lang, e),
    }
}

fn plan_page(
    user: &ConsoleUser,
    planned: &Result<Plan, Vec<ImportProblem>>,
    drawn: &[(String, PlaceMap)],
    sha: Option<&str>,
) -> Response {
    let lang = user.lang;
    let status = match planned {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    layout(user, lang.t(Msg::OfficeImportABaseMap), "import").render_status(status, html! {
        h1 { (lang.t(Msg::OfficeImportABaseMap)) }
        @match planned {
            Err(problems) => {
                p.notice.bad role="alert" { (lang.t(Msg::OfficeTheFileHasProblems)) (problems.len()) }
                section.card {
                    h2 { (lang.t(Msg::OfficeProblemsByFeature)) }
                    table.list {
                        thead { tr { th { (lang.t(Msg::OfficeFeature)) } th { (lang.t(Msg::OfficeWhere)) } th { (lang.t(Msg::OfficeProblem)) } } }
                        tbody { @for p in problems.iter().take(500) {
                            tr { td { @if p.line > 0 { "#" (p.line) } } td { (p.field_in(lang)) } td { (p.message.in_lang(lang)) } }
                        } }
                    }
                }
            }
            Ok(plan) => { (plan_body(user, plan, drawn, sha)) }
        }
        p { a href="/console/import" { (lang.t(Msg::OfficeImportAnotherFile)) } }
    })
}

fn plan_body(
    user: &ConsoleUser,
    plan: &Plan,
    drawn: &[(String, PlaceMap)],
    sha: Option<&str>,
) -> Markup {
    let lang = user.lang;
    let offset = |g: &GridPlan| {
        g.footprints >= 5 && (g.footprints_matched as f64) < FEW_MATCHED * g.footprints as f64
    };
    html! {
        @if plan.committed {
            p.notice.good role="status" { (lang.t(Msg::OfficeImportedTheGrids)) }
        } @else if plan.grids.is_empty() {
            p.notice.bad role="alert" { (lang.t(Msg::OfficeNoFeatureOfTheFile)) }
        } @else {
            p.notice.warn role="status" { (lang.t(Msg::OfficeTheDryRun)) }
        }
        section.tiles {
            div.tile { div.label { (lang.t(Msg::OfficeFeaturesRead)) } div.value { (plan.features_read) } }
            div.tile { div.label { (lang.t(Msg::OfficeOutsideTheGrids)) } div.value { (plan.outside) } }
            div.tile { div.label { (lang.t(Msg::OfficeCutAtAGrid)) } div.value { (plan.clipped) } }
            div.tile { div.label { (lang.t(Msg::OfficeGridsTouched)) } div.value { (plan.grids.len()) } }
        }
        @if !plan.grids.is_empty() {
            section.card {
                table.list {
                    thead { tr {
                        th { (lang.t(Msg::OfficeGrid)) } th { (lang.t(Msg::OfficeFeatures)) }
                        th { (lang.t(Msg::OfficeFootprintsMatchingTheRoll)) }
                        th { (lang.t(Msg::OfficeVertices)) } th { (lang.t(Msg::OfficeSyncedSize)) }
                    } }
                    tbody { @for g in &plan.grids {
                        tr {
                            td { (g.grid_name) }
                            td { (g.features) }
                            td {
                                (g.footprints_matched) " / " (g.footprints)
                                @if offset(g) { " " span.badge.overdue { (lang.t(Msg::OfficeMostUnmatched)) } }
                            }
                            td { (g.vertices) }
                            td { (format!("{:.1} KB", g.bytes as f64 / 1024.0)) }
                        }
                    } }
                }
                @if plan.grids.iter().any(offset) {
                    p.hint { (lang.t(Msg::OfficeMostFootprintsHold)) }
                }
            }
            div.previews {
                @for (name, place) in drawn { (preview(name, place)) }
            }
            @if plan.grids.len() > DRAWN_GRIDS {
                p.hint { (lang.t(Msg::OfficeOnlyTheFirst)) }
            }
        }
        @if let Some(sha) = sha.filter(|_| !plan.committed && !plan.grids.is_empty()) {
            form method="post" action="/console/import/base-map/commit" {
                input type="hidden" name="csrf" value=(user.csrf);
                input type="hidden" name="sha" value=(sha);
                button.primary type="submit" { (lang.t(Msg::OfficeConfirmImport)) }
            }
        }
    }
}

/// One grid drawn with the planned map.
fn preview(name: &str, place: &PlaceMap) -> Markup {
    let (w, h): (f64, f64) = (300.0, 300.0);
    let points = place
        .outline
        .iter()
        .chain(&place.footprints)
        .chain(&place.roads)
        .flatten()
        .map(|c| (c[0], c[1]));
    let Some(p) = Projection::fit(points, w, h) else {
        return html! {};
    };
    html! {
        figure.place {
            svg.chart.map xmlns="http://www.w3.org/2000/svg" width=(w) height=(h) role="img" aria-label=(name) {
                (grid_drawing(&p, place))
            }
            figcaption { (name) }
        }
    }
}
