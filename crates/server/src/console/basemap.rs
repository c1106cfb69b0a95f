//! The base map import (底图) in the console: a GeoJSON file uploaded, planned as a dry run and
//! drawn grid by grid exactly as the phones will draw it (cut to the grid, simplified), with
//! what was dropped or cut and how many footprints found a building of the roll; then imported
//! on confirmation. The rules are [`crate::import::base_map`]'s, reached through the same call
//! as the API's import, so the console decides nothing of its own.

use super::frame::{ConsoleForm, ConsoleUser, layout, refused};
use super::page::{Projection, grid_drawing, tr};
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
            h2 { (tr(lang, "导入底图（GeoJSON）", "Import a base map (GeoJSON)")) }
            p.hint { (tr(lang,
                "楼栋轮廓、道路、水面、绿地，WGS-84 坐标（GCJ-02、百度坐标须先转换）。每个要素写 kind（building/road/water/green）或带 OpenStreetMap 标签；楼栋可写 number（如 12）以对上台账的楼栋。按网格裁切，网格外的要素舍弃；每个网格的底图整体替换。",
                "Building footprints, roads, water and green, in WGS-84 (convert GCJ-02 or Baidu coordinates first). Each feature has a kind (building/road/water/green) or OpenStreetMap tags; a building may carry its number (e.g. 12) to match the roll. Features are cut to each grid and those outside dropped; each grid's base map is replaced whole."
            )) }
            form.stack method="post" action="/console/import/base-map" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(user.csrf);
                label { (tr(lang, "底图文件", "Base map file")) input type="file" name="file" accept=".geojson,.json" required; }
                button.primary type="submit" { (tr(lang, "试导入", "Dry run")) }
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
    layout(user, tr(lang, "导入底图", "Import a base map"), "import").render_status(status, html! {
        h1 { (tr(lang, "导入底图", "Import a base map")) }
        @match planned {
            Err(problems) => {
                p.notice.bad role="alert" { (tr(lang, "文件有问题，未写入任何数据：", "The file has problems; nothing was written: ")) (problems.len()) }
                section.card {
                    h2 { (tr(lang, "问题（按要素）", "Problems, by feature")) }
                    table.list {
                        thead { tr { th { (tr(lang, "要素", "Feature")) } th { (tr(lang, "位置", "Where")) } th { (tr(lang, "问题", "Problem")) } } }
                        tbody { @for p in problems.iter().take(500) {
                            tr { td { @if p.line > 0 { "#" (p.line) } } td { (p.field_in(lang)) } td { (p.message.in_lang(lang)) } }
                        } }
                    }
                }
            }
            Ok(plan) => { (plan_body(user, plan, drawn, sha)) }
        }
        p { a href="/console/import" { (tr(lang, "导入另一个文件", "Import another file")) } }
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
            p.notice.good role="status" { (tr(lang, "已导入。网格里的手机下次同步时取得新底图。", "Imported. The grids' phones get the new base map at their next sync.")) }
        } @else if plan.grids.is_empty() {
            p.notice.bad role="alert" { (tr(lang, "文件里没有落在您网格内的要素，未写入任何数据。", "No feature of the file lies in your grids; nothing was written.")) }
        } @else {
            p.notice.warn role="status" { (tr(lang, "试导入无误，尚未写入。核对各网格的图后确认导入。", "The dry run is clean; nothing written yet. Check each grid's drawing, then import.")) }
        }
        section.tiles {
            div.tile { div.label { (tr(lang, "读入要素", "Features read")) } div.value { (plan.features_read) } }
            div.tile { div.label { (tr(lang, "网格外，舍弃", "Outside the grids, dropped")) } div.value { (plan.outside) } }
            div.tile { div.label { (tr(lang, "跨网格边界，裁切", "Cut at a grid's edge")) } div.value { (plan.clipped) } }
            div.tile { div.label { (tr(lang, "涉及网格", "Grids")) } div.value { (plan.grids.len()) } }
        }
        @if !plan.grids.is_empty() {
            section.card {
                table.list {
                    thead { tr {
                        th { (tr(lang, "网格", "Grid")) } th { (tr(lang, "要素", "Features")) }
                        th { (tr(lang, "楼栋轮廓（对上台账 / 全部）", "Footprints (matching the roll / all)")) }
                        th { (tr(lang, "顶点", "Vertices")) } th { (tr(lang, "同步大小", "Synced size")) }
                    } }
                    tbody { @for g in &plan.grids {
                        tr {
                            td { (g.grid_name) }
                            td { (g.features) }
                            td {
                                (g.footprints_matched) " / " (g.footprints)
                                @if offset(g) { " " span.badge.overdue { (tr(lang, "多数对不上", "Most unmatched")) } }
                            }
                            td { (g.vertices) }
                            td { (format!("{:.1} KB", g.bytes as f64 / 1024.0)) }
                        }
                    } }
                }
                @if plan.grids.iter().any(offset) {
                    p.hint { (tr(lang,
                        "多数楼栋轮廓里没有台账上的楼栋：文件很可能是 GCJ-02（火星坐标）或百度坐标，整体偏移了几百米。请转换为 WGS-84 后再导入。",
                        "Most footprints hold no building of the roll: the file is probably in GCJ-02 or Baidu coordinates, shifted by a few hundred metres. Convert it to WGS-84 and import again."
                    )) }
                }
            }
            div.previews {
                @for (name, place) in drawn { (preview(name, place)) }
            }
            @if plan.grids.len() > DRAWN_GRIDS {
                p.hint { (tr(lang, "只画出前 12 个网格。", "Only the first 12 grids are drawn.")) }
            }
        }
        @if let Some(sha) = sha.filter(|_| !plan.committed && !plan.grids.is_empty()) {
            form method="post" action="/console/import/base-map/commit" {
                input type="hidden" name="csrf" value=(user.csrf);
                input type="hidden" name="sha" value=(sha);
                button.primary type="submit" { (tr(lang, "确认导入", "Import")) }
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
