//! The roll (居民户): each grid's month so far — visited, not yet, the vulnerable not yet — and
//! the households of the office's grids, found by address or by anyone's name (as written, in
//! pinyin or by initials); one household whole with its people, visits and issues, and its
//! correction (head of household, tags, visit cadence) pushed as a `household.patch` through the
//! one write path, as a phone's is.

use super::frame::{ConsoleForm, ConsoleUser, act, back_to, layout, notice, refused};
use super::page::{badge, grid_select, pager, tr, when, word};
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
use gridmate_model::words::{Lang, Vocabulary};
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
                th { (tr(lang, "网格", "Grid")) } th { (tr(lang, "户数", "Households")) }
                th { (tr(lang, "本月应访", "Due this month")) }
                th { (tr(lang, "本月已走访", "Visited this month")) }
                th { (tr(lang, "本月未走访", "Not yet this month")) }
                th { (tr(lang, "其中重点户", "Of them vulnerable")) }
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
    layout(&user, tr(lang, "居民户", "Households"), "roll").render(html! {
        h1 { (tr(lang, "居民户", "Households")) }
        section.card {
            h2 { (tr(lang, "本月走访进度", "This month's visits")) }
            p.muted { (tr(lang, "本月应访：本月已走访，或按走访周期在月底前到期（含从未走访）的住户。", "Due this month: visited since the first, or due by the visit cadence before the month ends (or never visited).")) }
            (coverage_table(lang, &months))
        }
        form.filters method="get" action="/console/roll" {
            (grid_select(lang, &names, filter.grid))
            label.check { input type="checkbox" name="unvisited_this_month" value="true" checked[filter.unvisited_this_month]; (tr(lang, "本月未走访", "Not yet this month")) }
            label.check { input type="checkbox" name="vulnerable" value="true" checked[filter.vulnerable]; (tr(lang, "重点户", "Vulnerable")) }
            label.check { input type="checkbox" name="visit_overdue" value="true" checked[filter.visit_overdue]; (tr(lang, "走访超期", "Visit overdue")) }
            input type="search" name="q" value=[filter.q.as_deref()] placeholder=(tr(lang, "地址、姓名或拼音（如 zs）", "Address, name or pinyin (e.g. zs)"));
            button type="submit" { (tr(lang, "查找", "Find")) }
        }
        table.list {
            thead { tr {
                th { (tr(lang, "地址", "Address")) } th { (tr(lang, "户主", "Head")) }
                th { (tr(lang, "网格", "Grid")) } th { (tr(lang, "标签", "Tags")) }
                th { (tr(lang, "最近走访", "Last visit")) } th { (tr(lang, "走访", "Visits")) }
            } }
            tbody {
                @for row in &page.items {
                    @let h = &row.household;
                    tr class=[row.visit_overdue.then_some("overdue")] {
                        td { a href=(format!("/console/roll/{}", h.id)) { (h.address) } }
                        td { (h.head_name) }
                        td { (row.grid_name) }
                        td { (tags(lang, &h.tags)) }
                        td { (h.last_visit_at.map(when).unwrap_or_else(|| tr(lang, "从未走访", "Never").into())) }
                        td { @if row.visit_overdue { span.badge.overdue { (tr(lang, "超期", "Overdue")) } } @else { span.badge.done { (tr(lang, "按期", "On time")) } } }
                    }
                }
                @if page.items.is_empty() {
                    tr { td colspan="6" .empty { (tr(lang, "没有符合条件的住户。", "No household matches.")) } }
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
        p.crumbs { a href="/console/roll" { (tr(lang, "居民户", "Households")) } " › " (h.address) }
        (notice(lang, &q))
        h1 { (h.address) " " (tags(lang, &h.tags)) }
        section.tiles {
            div.tile { div.label { (tr(lang, "户主", "Head")) } div.value { (h.head_name) } }
            div.tile { div.label { (tr(lang, "网格", "Grid")) } div.value { (d.household.grid_name) } }
            div.tile { div.label { (tr(lang, "走访周期", "Visit every")) } div.value { (h.visit_cadence_days) (tr(lang, " 天", " days")) } }
            div.tile class=[d.household.visit_overdue.then_some("warn")] {
                div.label { (tr(lang, "下次走访", "Next visit due")) }
                div.value { (d.next_visit_due.map(when).unwrap_or_else(|| tr(lang, "现在（从未走访）", "Now (never visited)").into())) }
            }
        }
        section.card {
            h2 { (tr(lang, "家庭成员", "Residents")) " " span.count { (d.residents.len()) } }
            table.list {
                thead { tr {
                    th { (tr(lang, "姓名", "Name")) } th { (tr(lang, "与户主关系", "Relation")) }
                    th { (tr(lang, "出生年份", "Born")) } th { (tr(lang, "联系电话", "Phone")) }
                    th { (tr(lang, "身份证号", "ID number")) } th { (tr(lang, "标签", "Tags")) }
                } }
                tbody { @for r in &d.residents {
                    tr class=[r.moved_out.then_some("gone")] {
                        td { (r.name) @if r.moved_out { " " span.badge.done { (tr(lang, "已迁出", "Moved out")) } } }
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
            h2 { (tr(lang, "走访记录", "Visits")) " " span.count { (d.visits.len()) } }
            table.list {
                thead { tr {
                    th { (tr(lang, "时间", "When")) } th { (tr(lang, "走访人", "By")) }
                    th { (tr(lang, "类型", "Kind")) } th { (tr(lang, "结果", "Outcome")) } th { (tr(lang, "情况", "Notes")) }
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
                    @if d.visits.is_empty() { tr { td colspan="5" .empty { (tr(lang, "还没有走访记录。", "Not visited yet.")) } } }
                }
            }
        }
        section.card {
            h2 { (tr(lang, "问题", "Issues")) " " span.count { (d.issues.len()) } }
            ul { @for i in &d.issues {
                li {
                    span.number { (i.number.as_deref().unwrap_or("—")) } " "
                    a href=(format!("/console/issues/{}", i.id)) { (i.title) } " · " (when(i.reported_at)) " "
                    (badge(lang, Vocabulary::IssueStatus, &i.status, false))
                }
            } }
            @if d.issues.is_empty() { p.empty { (tr(lang, "这一户没有上报过问题。", "No issue was reported for this household.")) } }
        }
    })
}

/// A household id outside the user's grids, or none at all: said the same either way.
fn not_yours(lang: Lang) -> Response {
    refused(
        lang,
        ApiError::NotFound(
            tr(
                lang,
                "你的网格中没有这一户。",
                "No such household in your grids.",
            )
            .into(),
        ),
    )
}

fn correction_form(user: &ConsoleUser, d: &HouseholdDetail) -> Markup {
    let lang = user.lang;
    let h = &d.household.household;
    html! {
        section.card {
            h2 { (tr(lang, "更正住户信息", "Correct the household")) }
            form.stack method="post" action=(format!("/console/roll/{}", h.id)) {
                input type="hidden" name="csrf" value=(user.csrf);
                input type="hidden" name="mid" value=(Uuid::now_v7());
                label { (tr(lang, "户主姓名", "Head of household")) input type="text" name="head_name" value=(h.head_name) required maxlength="30"; }
                label { (tr(lang, "走访周期（天）", "Visit every (days)")) input type="number" name="visit_cadence_days" value=(h.visit_cadence_days) min="1" max="365" required; }
                fieldset {
                    legend { (tr(lang, "标签", "Tags")) }
                    @for t in HouseholdTag::ALL {
                        label.check { input type="checkbox" name="tag" value=(t.code()) checked[h.tags.iter().any(|c| c == t.code())]; (word(lang, Vocabulary::HouseholdTag, t.code())) }
                    }
                }
                button.primary type="submit" { (tr(lang, "保存更正", "Save the correction")) }
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
                ApiError::BadRequest(
                    tr(lang, "走访周期应为 1–365 天。", "Visit every 1–365 days.").into(),
                ),
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
