//! Statistics (with charts drawn here as SVG: nothing loads from outside the server), the
//! ledgers (台账) to download, the import of a community's roll (实有人口台账: a dry run shown
//! first, nothing written until it is clean), and the people of the office's grids with their devices and the
//! audit log.

use super::frame::{ConsoleForm, ConsoleUser, layout, refused};
use super::page::{period_form, when, when_ms, word};
use super::uploads;
use crate::app::AppState;
use crate::app::Params;
use crate::app::ledgers::{base_url, ledger_file, ledger_request, ledger_response};
use crate::app::people::{reset_password, revoke_device};
use crate::error::ApiError;
use crate::ledger::LedgerKind;
use crate::store::office::{self, Figures, Stats};
use crate::store::{Backend, DeviceRow};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Duration, Utc};
use gridmate_model::Role;
use gridmate_words::{Lang, Msg, Vocabulary};
use maud::{Markup, html};
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/stats", get(stats))
        .route("/console/ledgers", get(ledgers))
        .route("/console/export/{file}", get(export))
        .route("/console/people", get(people).post(add_person))
        .route("/console/people/{id}", get(person))
        .route("/console/people/{id}/password", post(password))
        .route("/console/people/{id}/revoke", post(revoke))
        .route(
            "/console/import",
            get(import_page)
                .post(import_upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::import::people::MAX_FILE_BYTES + 64 * 1024,
                )),
        )
        .route("/console/import/commit", post(import_commit))
}

/// A horizontal bar chart: one labelled bar per row, scaled to the largest.
fn bars(rows: &[(String, f64, bool)], unit: &str) -> Markup {
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max).max(1.0);
    let (label_w, bar_w, row_h) = (150.0, 360.0, 24.0);
    let height = row_h * rows.len() as f64 + 4.0;
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" width=(label_w + bar_w + 80.0) height=(height) role="img" {
            @for (i, (label, value, alarm)) in rows.iter().enumerate() {
                @let y = i as f64 * row_h;
                text x=(label_w - 6.0) y=(y + 16.0) text-anchor="end" { (label) }
                rect x=(label_w) y=(y + 4.0) width=(bar_w * value / max) height=(row_h - 8.0)
                    class=(if *alarm { "bar alarm" } else { "bar" }) {}
                text x=(label_w + bar_w * value / max + 6.0) y=(y + 16.0) { (format_number(*value)) (unit) }
            }
        }
    }
}

/// The community to scale: grid outlines and buildings coloured by coverage, in an equirectangular
/// projection of the map's own bounds (at a community's size the distortion is nil).
fn coverage_svg(map: &office::CoverageMap) -> Markup {
    let points = map
        .grids
        .iter()
        .flat_map(|(_, rings)| rings.iter().flatten().map(|p| (p[0], p[1])))
        .chain(map.buildings.iter().map(|b| (b.lon, b.lat)));
    let (w, h): (f64, f64) = (760.0, 440.0);
    let Some(at) = super::page::Projection::fit(points, w, h) else {
        return html! {};
    };
    html! {
        svg.chart.map xmlns="http://www.w3.org/2000/svg" width=(w) height=(h) role="img" {
            @for (name, rings) in &map.grids {
                @for ring in rings {
                    polygon.grid points=(at.points(ring)) {
                        title { (name) }
                    }
                }
            }
            @for b in &map.buildings {
                @let share = if b.households == 0 { -1.0 } else if b.due == 0 { 1.0 } else { f64::from(b.visited) / f64::from(b.due) };
                @let class = if share < 0.0 { "empty" } else if share >= 0.8 { "good" } else if share >= 0.5 { "fair" } else { "poor" };
                circle class=(class) cx=(format!("{:.1}", at.x(b.lon))) cy=(format!("{:.1}", at.y(b.lat))) r="5" {
                    title { (b.label) " " (b.visited) "/" (b.due) }
                }
            }
        }
    }
}

fn format_number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.0}%", part as f64 * 100.0 / whole as f64)
    }
}

/// `GET /console/stats`: the period's figures per grid and per person, with charts.
async fn stats(State(state): State<AppState>, user: ConsoleUser, q: Params) -> Response {
    let lang = user.lang;
    let (period, grid) = match (q.period(), q.uuid("grid")) {
        (Ok(p), Ok(g)) => (p, g),
        (Err(e), _) | (_, Err(e)) => return refused(lang, e),
    };
    let p = user.principal.clone();
    let answer = state
        .store
        .read(move |tx| {
            Ok((
                office::Names::load(tx, &p)?,
                office::stats(tx, &p, grid, period, Utc::now())?,
            ))
        })
        .await;
    let (names, s): (office::Names, Stats) = match answer {
        Ok(a) => a,
        Err(e) => return refused(lang, e.into()),
    };
    let t = &s.total;
    let cst = super::page::beijing();
    let shown = format!(
        "{} – {}",
        s.period.from.with_timezone(&cst).format("%Y-%m-%d"),
        (s.period.to - Duration::days(1))
            .with_timezone(&cst)
            .format("%Y-%m-%d")
    );
    let coverage: Vec<(String, f64, bool)> = s
        .grids
        .iter()
        .map(|g| {
            let pct = if g.figures.due == 0 {
                100.0
            } else {
                g.figures.visited as f64 * 100.0 / g.figures.due as f64
            };
            (
                g.grid_name.clone(),
                pct.round(),
                g.figures.vulnerable_overdue > 0,
            )
        })
        .collect();
    let categories: Vec<(String, f64, bool)> = t
        .issues_by_category
        .iter()
        .map(|(c, n)| {
            (
                word(lang, Vocabulary::IssueCategory, c).to_string(),
                *n as f64,
                c == "fire_safety",
            )
        })
        .collect();
    layout(&user, lang.t(Msg::OfficeStatistics), "stats").render(html! {
        h1 { (lang.t(Msg::OfficeStatistics)) " " small { (shown) } }
        (period_form(lang, &q, "/console/stats", &names))
        section.tiles {
            (tile(lang.t(Msg::Households), t.households.to_string(), None))
            (tile(lang.t(Msg::OfficeVisitedThisPeriod), percent(t.visited, t.due), Some(format!("{} {} / {} {}", lang.t(Msg::OfficeVisitedCount), t.visited, lang.t(Msg::OfficeDueCount), t.due))))
            (tile(lang.t(Msg::OfficeVulnerableVisitOverdue), t.vulnerable_overdue.to_string(), None))
            (tile(lang.t(Msg::OfficeIssuesReported), t.issues_reported.to_string(), Some(format!("{} {}", lang.t(Msg::OfficeClosedCount), t.issues_closed))))
            (tile(lang.t(Msg::OfficeOpenOverdue), format!("{} / {}", t.issues_open, t.issues_overdue), None))
            (tile(lang.t(Msg::OfficeResidentsRatings), percent(t.issues_rated, t.issues_rated + t.issues_sent_back), Some(lang.fill(Msg::ResidentRatings, &[&t.issues_rated, &t.issues_sent_back]))))
            (tile(lang.t(Msg::OfficeResidentRequests), t.orders.to_string(), Some(satisfaction_line(lang, t))))
            (tile(lang.t(Msg::OfficeServiceHours), format_number(t.service_hours), Some(format!("{} {}", t.checkins, lang.t(Msg::OfficeCheckInCount)))))
            (tile(lang.t(Msg::OfficeCallUpAttendance), percent(t.callup_arrived, t.callup_called), Some(format!("{} {} · {} {}", t.callups, lang.t(Msg::OfficeCallUpCount), t.callup_coming, lang.t(Msg::OfficeAnsweredComing)))))
        }
        section.card {
            h2 { (lang.t(Msg::OfficeCoverageMap)) }
            p.hint { (lang.t(Msg::OfficeEachDotABuilding)) }
            (coverage_svg(&s.map))
        }
        section.card {
            h2 { (lang.t(Msg::OfficeVisitCoverageByGrid)) }
            p.hint { (lang.t(Msg::OfficeRedVulnerableHouseholds)) }
            (bars(&coverage, "%"))
        }
        @if !categories.is_empty() {
            section.card {
                h2 { (lang.t(Msg::OfficeIssuesByCategory)) }
                (bars(&categories, ""))
            }
        }
        section.card {
            h2 { (lang.t(Msg::OfficeByGrid)) }
            table.list {
                thead { tr {
                    th { (lang.t(Msg::OfficeGrid)) } th { (lang.t(Msg::Households)) } th { (lang.t(Msg::OfficeDueColumn)) } th { (lang.t(Msg::OfficeVisitedColumn)) }
                    th { (lang.t(Msg::OfficeVulnerableOverdue)) } th { (lang.t(Msg::OfficeNewIssues)) } th { (lang.t(Msg::OfficeNotClosed)) }
                    th { (lang.t(Msg::OfficeOverdue)) } th { (lang.t(Msg::OfficeRequestsColumn)) } th { (lang.t(Msg::OfficeServiceH)) } th { (lang.t(Msg::OfficeCheckInsColumn)) }
                } }
                tbody { @for g in &s.grids {
                    tr {
                        td { (g.grid_name) } td { (g.figures.households) } td { (g.figures.due) } td { (g.figures.visited) " (" (percent(g.figures.visited, g.figures.due)) ")" }
                        td class=[(g.figures.vulnerable_overdue > 0).then_some("alarm")] { (g.figures.vulnerable_overdue) }
                        td { (g.figures.issues_reported) } td { (g.figures.issues_open) }
                        td class=[(g.figures.issues_overdue > 0).then_some("alarm")] { (g.figures.issues_overdue) }
                        td { (g.figures.orders) } td { (format_number(g.figures.service_hours)) } td { (g.figures.checkins) }
                    }
                } }
            }
        }
        section.card {
            h2 { (lang.t(Msg::OfficeByPerson)) }
            table.list {
                thead { tr {
                    th { (lang.t(Msg::FieldName)) } th { (lang.t(Msg::OfficeRoles)) } th { (lang.t(Msg::OfficeVisits)) }
                    th { (lang.t(Msg::OfficeIssuesReportedColumn)) } th { (lang.t(Msg::OfficeHandled)) } th { (lang.t(Msg::OfficeRequestsDone)) }
                    th { (lang.t(Msg::OfficeServiceH)) } th { (lang.t(Msg::OfficeCheckInsColumn)) }
                } }
                tbody { @for m in &s.people {
                    tr {
                        td { (m.name) } td { @for r in &m.roles { (word(lang, Vocabulary::Role, r)) " " } }
                        td { (m.visits) } td { (m.issues_reported) } td { (m.issues_handled) } td { (m.orders_done) }
                        td { (format_number(m.service_hours)) } td { (m.checkins) }
                    }
                } }
            }
        }
    })
}

fn satisfaction_line(lang: Lang, t: &Figures) -> String {
    let rated: u64 = t.satisfaction.values().sum();
    let happy = t.satisfaction.get("satisfied").copied().unwrap_or(0)
        + t.satisfaction
            .get("basically_satisfied")
            .copied()
            .unwrap_or(0);
    format!("{} {}", lang.t(Msg::OfficeSatisfied), percent(happy, rated))
}

fn tile(label: &str, value: String, sub: Option<String>) -> Markup {
    html! {
        div.tile {
            div.label { (label) }
            div.value { (value) }
            @if let Some(s) = sub { div.sub { (s) } }
        }
    }
}

/// `GET /console/ledgers`: the six ledgers of a period, as XLSX or CSV.
async fn ledgers(State(state): State<AppState>, user: ConsoleUser, q: Params) -> Response {
    let lang = user.lang;
    let p = user.principal.clone();
    let names = match state
        .store
        .read(move |tx| office::Names::load(tx, &p))
        .await
    {
        Ok(n) => n,
        Err(e) => return refused(lang, e.into()),
    };
    let mut query: Vec<String> = Vec::new();
    for key in ["from", "to", "grid"] {
        if let Some(v) = q.text(key) {
            query.push(format!("{key}={v}"));
        }
    }
    let query = query.join("&");
    layout(&user, lang.t(Msg::OfficeLedgers), "ledgers").render(html! {
        h1 { (lang.t(Msg::OfficeLedgers)) }
        p.hint { (lang.t(Msg::OfficeByPeriodAndGrid)) }
        (period_form(lang, &q, "/console/ledgers", &names))
        table.list {
            tbody {
                @for kind in LedgerKind::ALL {
                    tr {
                        td { (kind.title(lang)) }
                        td { a href=(format!("/console/export/{}.xlsx?{query}", kind.code())) { "Excel (XLSX)" } }
                        td { a href=(format!("/console/export/{}.csv?{query}", kind.code())) { "CSV" } }
                    }
                }
            }
        }
    })
}

async fn export(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(file): Path<String>,
    headers: HeaderMap,
    q: Params,
) -> Response {
    let lang = user.lang;
    let go = async {
        let ask = ledger_request(&file, &q, lang)?;
        let f = ledger_file(&state, user.principal.clone(), ask, base_url(&headers)).await?;
        Ok::<_, ApiError>(ledger_response(f, ask))
    };
    go.await.unwrap_or_else(|e| refused(lang, e))
}

/// `GET /console/people`: everyone of the office's grids.
async fn people(State(state): State<AppState>, user: ConsoleUser, q: Params) -> Response {
    let lang = user.lang;
    let p = user.principal.clone();
    let admin = p.has(Role::CommunityAdmin);
    let answer = state
        .store
        .read(move |tx| {
            let names = office::Names::load(tx, &p)?;
            let people = office::people(tx, &p, None)?;
            let audit = if admin {
                office::audit(tx, 50)?
            } else {
                Vec::new()
            };
            let conflicts = tx.conflicts(&p.grids, 0, 100)?;
            let buildings: Vec<gridmate_protocol::records::BuildingRecord> =
                office::records(tx, gridmate_protocol::Entity::Building, &p.grids)?;
            Ok((names, people, audit, conflicts, buildings))
        })
        .await;
    let (names, people, audit, conflicts, buildings) = match answer {
        Ok(a) => a,
        Err(e) => return refused(lang, e.into()),
    };
    layout(&user, lang.t(Msg::OfficeNavPeople), "people").render(html! {
        h1 { (lang.t(Msg::OfficePeopleAndDevices)) }
        (super::frame::notice(lang, &q))
        table.list {
            thead { tr { th { (lang.t(Msg::FieldName)) } th { (lang.t(Msg::OfficeMobile)) } th { (lang.t(Msg::OfficeRoles)) } th { (lang.t(Msg::OfficeGridsHeading)) } } }
            tbody { @for m in &people {
                tr {
                    td { a href=(format!("/console/people/{}", m.id)) { (m.name) } }
                    td { (m.phone_masked) }
                    td { @for r in &m.roles { (word(lang, Vocabulary::Role, r)) " " } }
                    td { @for g in &m.grids { (names.grid(*g)) " " } }
                }
            } }
        }
        @if admin {
            section.card {
                h2 { (lang.t(Msg::OfficeAddAPerson)) }
                form.stack method="post" action="/console/people" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    label { (lang.t(Msg::FieldName)) input type="text" name="name" required maxlength="50"; }
                    label { (lang.t(Msg::OfficeMobileToSign)) input type="tel" name="phone" required maxlength="20"; }
                    label { (lang.t(Msg::OfficeRole))
                        select name="role" required {
                            @for r in [Role::GridWorker, Role::GridLeader, Role::BuildingLeader, Role::PartyMember] {
                                option value=(r.code()) { (word(lang, Vocabulary::Role, r.code())) }
                            }
                        } }
                    fieldset {
                        legend { (lang.t(Msg::OfficeGridsABuilding)) }
                        @for (id, name) in &names.grids { label.check { input type="checkbox" name="grid" value=(id); (name) } }
                    }
                    label { (lang.t(Msg::OfficeBuildingBuildingLeaders))
                        select name="building" {
                            option value="" { "—" }
                            @for b in &buildings { option value=(b.id) { (names.grid(b.grid_id)) " " (b.estate) (b.number) "栋" } }
                        } }
                    label { (lang.t(Msg::OfficeFirstPassword))
                        input type="password" name="password" minlength="8" maxlength="256" required autocomplete="new-password"; }
                    button.primary type="submit" { (lang.t(Msg::OfficeAdd)) }
                }
            }
        }
        @if !conflicts.is_empty() {
            section.card {
                h2 { (lang.t(Msg::OfficeValuesOverwrittenBySync)) }
                p.hint { (lang.t(Msg::OfficeTwoPhonesChanged)) }
                table.list {
                    thead { tr { th { (lang.t(Msg::OfficeTime)) } th { (lang.t(Msg::OfficeConflictRecord)) } th { (lang.t(Msg::OfficeField)) } th { (lang.t(Msg::OfficeKept)) } th { (lang.t(Msg::OfficeOverwritten)) } } }
                    tbody { @for c in &conflicts {
                        tr {
                            td { (when(c.at)) }
                            td { (conflict_record(lang, &c.entity)) }
                            td { (conflict_field(lang, &c.field)) }
                            td { (conflict_value(&c.field, &c.kept_value)) }
                            td { (conflict_value(&c.field, &c.lost_value)) }
                        }
                    } }
                }
            }
        }
        @if admin {
            section.card {
                h2 { (lang.t(Msg::OfficeAuditLog)) }
                table.list {
                    tbody { @for a in &audit {
                        tr { td { (when_ms(a.at_ms)) } td { (names.person(Some(a.actor_id)).unwrap_or_default()) } td { (audit_words(lang, &a.action)) } td { (people.iter().find(|m| m.id.to_string() == a.target).map(|m| m.name.clone()).unwrap_or_else(|| a.target.clone())) } td { (a.detail) } }
                    } }
                }
            }
        }
    })
}

fn conflict_record(lang: Lang, entity: &str) -> &str {
    match entity {
        "household" => lang.t(Msg::OfficeHousehold),
        "resident" => lang.t(Msg::OfficeResident),
        other => other,
    }
}

fn conflict_field(lang: Lang, field: &str) -> &str {
    match field {
        "phone" => lang.t(Msg::FieldPhone),
        "tags" => lang.t(Msg::TagsField),
        "moved_out" => lang.t(Msg::OfficeMovedOut),
        "head_name" => lang.t(Msg::OfficeHead),
        "visit_cadence_days" => lang.t(Msg::OfficeVisitCadence),
        "name" => lang.t(Msg::FieldName),
        "relation" => lang.t(Msg::OfficeRelation),
        other => other,
    }
}

/// A value as the office reads it; a phone only masked.
fn conflict_value(field: &str, v: &serde_json::Value) -> String {
    match (field, v) {
        ("phone", serde_json::Value::String(p)) => gridmate_model::validate::mask_phone(p),
        (_, serde_json::Value::String(s)) => s.clone(),
        (_, serde_json::Value::Null) => "—".into(),
        (_, v) => v.to_string(),
    }
}

fn audit_words(lang: Lang, action: &str) -> &str {
    match action {
        "add_person" => lang.t(Msg::OfficeAddedAPerson),
        "reset_password" => lang.t(Msg::OfficeResetAPassword),
        "revoke_device" => lang.t(Msg::OfficeSignedADevice),
        "import_people" => lang.t(Msg::OfficeImportedTheRoll),
        "import_base_map" => lang.t(Msg::OfficeImportedTheBase),
        "put_department" => lang.t(Msg::OfficeChangedADepartment),
        "set_time_limits" => lang.t(Msg::OfficeChangedTimeLimits),
        other => other,
    }
}

/// `GET /console/people/{id}`: one person's devices; the community office may sign one out or
/// set a new password.
async fn person(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<Uuid>,
    q: Params,
) -> Response {
    let lang = user.lang;
    let p = user.principal.clone();
    let answer = state
        .store
        .read(move |tx| {
            let who = office::people(tx, &p, None)?
                .into_iter()
                .find(|m| m.id == id);
            Ok((who, office::devices(tx, &p, id)?))
        })
        .await;
    let (who, devices): (Option<office::Person>, Option<Vec<DeviceRow>>) = match answer {
        Ok(a) => a,
        Err(e) => return refused(lang, e.into()),
    };
    let (Some(who), Some(devices)) = (who, devices) else {
        return refused(
            lang,
            ApiError::NotFound(lang.t(Msg::OfficeNotOneOfYourPeople).into()),
        );
    };
    let admin = user.principal.has(Role::CommunityAdmin);
    let now = Utc::now().timestamp_millis();
    let name = who.name.clone();
    layout(&user, &name, "people").render(html! {
        p.crumbs { a href="/console/people" { (lang.t(Msg::OfficeNavPeople)) } " › " (who.name) }
        (super::frame::notice(lang, &q))
        section.card {
            h1 { (who.name) " " small { (who.phone_masked) } }
            h2 { (lang.t(Msg::OfficeDevices)) }
            table.list {
                tbody { @for d in &devices {
                    tr {
                        td { (d.device_name) } td { (when_ms(d.signed_in_at_ms)) }
                        td { @if d.revoked_at_ms.is_some() { (lang.t(Msg::OfficeSignedOut)) } @else if d.expires_at_ms < now { (lang.t(Msg::OfficeExpired)) } @else { (lang.t(Msg::OfficeActive)) } }
                        td { @if admin && d.revoked_at_ms.is_none() && d.expires_at_ms >= now {
                            form.inline method="post" action=(format!("/console/people/{}/revoke", who.id)) {
                                input type="hidden" name="csrf" value=(user.csrf);
                                input type="hidden" name="device" value=(d.device_id);
                                button type="submit" { (lang.t(Msg::OfficeSignThisDevice)) }
                            }
                        } }
                    }
                } }
            }
        }
        @if admin {
            section.card {
                h2 { (lang.t(Msg::OfficeSetANew)) }
                form.stack method="post" action=(format!("/console/people/{}/password", who.id)) {
                    input type="hidden" name="csrf" value=(user.csrf);
                    label { (lang.t(Msg::OfficeNewPassword))
                        input type="password" name="password" minlength="8" maxlength="256" required autocomplete="new-password"; }
                    button.primary type="submit" { (lang.t(Msg::ActionSave)) }
                }
            }
        }
    })
}

async fn password(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ConsoleForm { user, form: posted }: ConsoleForm,
) -> Response {
    let pw = posted.get("password").unwrap_or("").to_string();
    match reset_password(&state, user.principal.clone(), id, pw).await {
        Ok(()) => Redirect::to(&format!("/console/people/{id}?ok=1")).into_response(),
        Err(e) => refused(user.lang, e),
    }
}

async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    ConsoleForm { user, form: posted }: ConsoleForm,
) -> Response {
    let device = posted.get("device").unwrap_or("").to_string();
    match revoke_device(&state, user.principal.clone(), id, device).await {
        Ok(_) => Redirect::to(&format!("/console/people/{id}?ok=1")).into_response(),
        Err(e) => refused(user.lang, e),
    }
}

/// `GET /console/import`: upload a 实有人口台账 for a dry run.
async fn import_page(user: ConsoleUser) -> Response {
    let lang = user.lang;
    if !user.principal.has(Role::CommunityAdmin) {
        return refused(
            lang,
            ApiError::Forbidden(lang.t(Msg::OfficeOnlyTheCommunityOffice).into()),
        );
    }
    layout(&user, lang.t(Msg::OfficeImportTheRoll), "import").render(html! {
        h1 { (lang.t(Msg::OfficeImportTheCommunity)) }
        section.card {
            p.hint { (lang.t(Msg::OfficeOneRowPerPerson)) }
            form.stack method="post" action="/console/import" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(user.csrf);
                label { (lang.t(Msg::OfficeLedgerFile)) input type="file" name="file" accept=".xlsx,.csv" required; }
                button.primary type="submit" { (lang.t(Msg::OfficeDryRun)) }
            }
        }
        (super::basemap::upload_card(&user))
    })
}

/// `POST /console/import`: keep the upload, plan it, show the plan.
async fn import_upload(
    State(state): State<AppState>,
    user: ConsoleUser,
    form: axum::extract::Multipart,
) -> Response {
    let bytes = match uploads::posted_file(&user, form).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let sha = match uploads::keep(&state, user.lang, &bytes).await {
        Ok(sha) => sha,
        Err(r) => return r,
    };
    match crate::app::imports::people_file(&state, user.principal.clone(), bytes, false).await {
        Ok(plan) => plan_page(&user, &plan, Some(&sha)),
        Err(e) => refused(user.lang, e),
    }
}

/// `POST /console/import/commit`: import the kept upload, planned again inside the write.
async fn import_commit(State(state): State<AppState>, posted: ConsoleForm) -> Response {
    let (path, bytes) = match uploads::kept(&state, &posted).await {
        Ok(kept) => kept,
        Err(r) => return r,
    };
    let user = posted.user;
    match crate::app::imports::people_file(&state, user.principal.clone(), bytes, true).await {
        Ok(plan) => {
            if plan.committed {
                let _ = tokio::fs::remove_file(&path).await;
            }
            plan_page(&user, &plan, None)
        }
        Err(e) => refused(user.lang, e),
    }
}

fn plan_page(
    user: &ConsoleUser,
    plan: &crate::import::people::Plan,
    sha: Option<&str>,
) -> Response {
    let lang = user.lang;
    let clean = plan.problems.is_empty();
    let status = if clean {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    layout(user, lang.t(Msg::OfficeImportTheRoll), "import").render_status(status, html! {
        h1 { (lang.t(Msg::OfficeImportTheCommunity)) }
        @if plan.committed {
            p.notice.good role="status" { (lang.t(Msg::OfficeImported)) }
        } @else if clean {
            p.notice.warn role="status" { (lang.t(Msg::OfficeTheDryRunIsClean)) }
        } @else {
            p.notice.bad role="alert" { (lang.t(Msg::OfficeTheFileHasProblems)) (plan.problems.len()) }
        }
        @if !plan.problems.is_empty() {
            section.card {
                h2 { (lang.t(Msg::OfficeProblemsByRow)) }
                table.list {
                    thead { tr { th { (lang.t(Msg::OfficeRow)) } th { (lang.t(Msg::OfficeColumn)) } th { (lang.t(Msg::OfficeProblem)) } } }
                    tbody { @for p in plan.problems.iter().take(500) { tr { td { (p.line) } td { (p.field_in(lang)) } td { (p.message.in_lang(lang)) } } } }
                }
            }
        }
        @if !plan.mapping.is_empty() {
            section.card {
                h2 { (lang.t(Msg::OfficeColumns)) }
                table.list { tbody { @for (header, field) in &plan.mapping {
                    tr { td { (header) } td { @match field { Some(f) => { "→ " (f.label()) } None => { (lang.t(Msg::OfficeNotImported)) } } } }
                } } }
            }
        }
        @if clean {
            section.tiles {
                div.tile { div.label { (lang.t(Msg::OfficePeopleCount)) } div.value { (plan.people) } }
                div.tile { div.label { (lang.t(Msg::OfficeHouseholdsNewExisting)) } div.value { (plan.households_new) " / " (plan.households_existing) } }
                div.tile { div.label { (lang.t(Msg::OfficeResidentsNewExisting)) } div.value { (plan.residents_new) " / " (plan.residents_existing) } }
                div.tile { div.label { (lang.t(Msg::OfficeNewBuildings)) } div.value { (plan.buildings_new) } }
            }
            section.card {
                h2 { (lang.t(Msg::OfficeFirstRows)) }
                table.list {
                    thead { tr { th { (lang.t(Msg::OfficeRow)) } th { "姓名" } th { "与户主关系" } th { "网格" } th { "楼栋-单元-房号" } th { "身份证号" } th { "联系电话" } th { "标签" } } }
                    tbody { @for p in &plan.preview {
                        tr { td { (p.line) } td { (p.name) } td { (p.relation) } td { (p.grid) } td { (p.estate) " " (p.building) "-" (p.unit) "-" (p.room) }
                             td { (p.id_number_masked.as_deref().unwrap_or("")) } td { (p.phone.as_deref().unwrap_or("")) }
                             td { @for t in &p.tags { (word(lang, Vocabulary::HouseholdTag, t)) " " } } }
                    } }
                }
            }
            @if let Some(sha) = sha {
                form method="post" action="/console/import/commit" {
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name="sha" value=(sha);
                    button.primary type="submit" { (lang.t(Msg::OfficeConfirmImport)) }
                }
            }
        }
        p { a href="/console/import" { (lang.t(Msg::OfficeImportAnotherFile)) } }
    })
}

/// `POST /console/people`: register a person in the office's grids (community office), audited.
async fn add_person(
    State(state): State<AppState>,
    ConsoleForm { user, form: posted }: ConsoleForm,
) -> Response {
    let lang = user.lang;
    let Some(role) = posted.get("role").and_then(Role::from_code) else {
        return refused(
            lang,
            ApiError::BadRequest(lang.t(Msg::OfficeChooseARole).into()),
        );
    };
    let person = crate::app::people::NewPerson {
        name: posted.get("name").unwrap_or("").into(),
        phone: posted.get("phone").unwrap_or("").into(),
        role,
        grids: posted.all("grid").filter_map(|g| g.parse().ok()).collect(),
        buildings: posted
            .all("building")
            .filter_map(|b| b.parse().ok())
            .collect(),
        password: posted.get("password").unwrap_or("").into(),
    };
    match crate::app::people::add_person(&state, user.principal.clone(), person).await {
        Ok(id) => Redirect::to(&format!("/console/people/{id}?ok=1")).into_response(),
        Err(e) => refused(lang, e),
    }
}
