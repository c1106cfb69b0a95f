//! The ledgers (台账) the community hands up to the street: visits, issues, orders, service,
//! check-ins, households, patrols and party members' promises of a period and grid, one row per
//! record, headers and codes written as words in the office's language (zh-CN unless the reader
//! chose English; every word from `gridmate_words`), photos as links, as an XLSX workbook or a
//! CSV file Excel opens (UTF-8 with a BOM).
//!
//! A year of visits is 100,000 rows, so no ledger is held whole as cells: records are stepped
//! through inside one read snapshot ([`ReadTx::for_each_live_in_grids`]), each row goes straight
//! to a [`Sink`], and the XLSX sink is rust_xlsxwriter's constant-memory worksheet (rows flushed
//! to a temporary file as they are written). The finished file is streamed to the client. The
//! visits ledger is read in time order a week at a time through the visits' facts
//! ([`ReadTx::live_between`]), each week sorted: a street's year is a million visits. The issues
//! ledger, in the order of their numbers, holds the period's issues (not their cells) to sort
//! them — a few thousand even for a street.
//!
//! The XLSX is made to be printed and filed as the street files paper ledgers: a title with
//! the community, a line with the period, the grid and the time of export, 序号, dates as date
//! cells, widths per column, A4 landscape one page wide with the header row on every page.

use crate::store::office::{Names, Period, grids_for, records};
use crate::store::{Principal, ReadTx, Result, StoreError};
use chrono::{DateTime, Duration, FixedOffset, Utc};
use gridmate_protocol::Entity;
use gridmate_protocol::records::*;
use gridmate_words::{Lang, Msg, Vocabulary};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::io::Write;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerKind {
    Visits,
    Issues,
    Orders,
    Service,
    Checkins,
    Households,
    Patrols,
    Commitments,
}

impl LedgerKind {
    pub const ALL: [LedgerKind; 8] = [
        LedgerKind::Visits,
        LedgerKind::Issues,
        LedgerKind::Orders,
        LedgerKind::Service,
        LedgerKind::Checkins,
        LedgerKind::Households,
        LedgerKind::Patrols,
        LedgerKind::Commitments,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LedgerKind::Visits => "visits",
            LedgerKind::Issues => "issues",
            LedgerKind::Orders => "orders",
            LedgerKind::Service => "service",
            LedgerKind::Checkins => "checkins",
            LedgerKind::Households => "households",
            LedgerKind::Patrols => "patrols",
            LedgerKind::Commitments => "commitments",
        }
    }

    pub fn from_code(code: &str) -> Option<LedgerKind> {
        LedgerKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The sheet's and the file's name, as the street files it.
    pub fn title(self, lang: Lang) -> &'static str {
        lang.t(match self {
            LedgerKind::Visits => Msg::LedgerVisits,
            LedgerKind::Issues => Msg::LedgerIssues,
            LedgerKind::Orders => Msg::LedgerOrders,
            LedgerKind::Service => Msg::LedgerServiceRecords,
            LedgerKind::Checkins => Msg::LedgerCheckins,
            LedgerKind::Households => Msg::LedgerHouseholds,
            LedgerKind::Patrols => Msg::LedgerPatrols,
            LedgerKind::Commitments => Msg::LedgerCommitments,
        })
    }

    /// The ledger's columns: the header the street knows, and the width it prints at (in
    /// characters; a wide column wraps). 序号 first, as every paper ledger numbers its rows.
    pub fn columns(self) -> &'static [Column] {
        match self {
            LedgerKind::Visits => {
                const COLUMNS: &[Column] = &[
                    c(Msg::LedgerRow, 6.0),
                    c(Msg::LedgerVisitedAt, TIME_WIDTH),
                    c(Msg::LedgerEndedAt, TIME_WIDTH),
                    c(Msg::OfficeGrid, 12.0),
                    c(Msg::OfficeAddress, 30.0),
                    c(Msg::OfficeHead, 8.0),
                    c(Msg::LedgerVisitor, 8.0),
                    c(Msg::LedgerVisitKind, 10.0),
                    c(Msg::Outcome, 10.0),
                    c(Msg::PeopleServedField, 8.0),
                    c(Msg::Notes, 34.0),
                    c(Msg::FieldPhotos, 24.0),
                ];
                COLUMNS
            }
            LedgerKind::Issues => {
                const COLUMNS: &[Column] = &[
                    c(Msg::LedgerRow, 6.0),
                    c(Msg::OfficeNo, 12.0),
                    c(Msg::OfficeReportedAt, TIME_WIDTH),
                    c(Msg::OfficeGrid, 12.0),
                    c(Msg::FieldCategory, 10.0),
                    c(Msg::LedgerSeverity, 6.0),
                    c(Msg::OfficeSource, 8.0),
                    c(Msg::FieldTitle, 20.0),
                    c(Msg::FieldDescription, 24.0),
                    c(Msg::OfficeStatus, 8.0),
                    c(Msg::LedgerReporter, 8.0),
                    c(Msg::OfficeAssignee, 8.0),
                    c(Msg::OfficeDepartment, 12.0),
                    c(Msg::OfficeTimeLimit, TIME_WIDTH),
                    c(Msg::LedgerOverdue, 6.0),
                    c(Msg::LedgerClosedAt, TIME_WIDTH),
                    c(Msg::LedgerResult, 24.0),
                    c(Msg::FieldPhotos, 14.0),
                ];
                COLUMNS
            }
            LedgerKind::Orders => {
                const COLUMNS: &[Column] = &[
                    c(Msg::LedgerRow, 6.0),
                    c(Msg::OfficeNo, 12.0),
                    c(Msg::OfficeRecordedAt, TIME_WIDTH),
                    c(Msg::OfficeGrid, 12.0),
                    c(Msg::OfficeKind, 8.0),
                    c(Msg::OfficeSource, 8.0),
                    c(Msg::OfficeRequest, 22.0),
                    c(Msg::OfficeDetails, 26.0),
                    c(Msg::OfficeRequester, 8.0),
                    c(Msg::OfficeAddress, 30.0),
                    c(Msg::OfficeStatus, 8.0),
                    c(Msg::OfficeSentTo, 8.0),
                    c(Msg::OfficeTakenBy, 8.0),
                    c(Msg::OfficeTimeLimit, TIME_WIDTH),
                    c(Msg::LedgerOverdue, 8.0),
                    c(Msg::OfficeFeedback, 10.0),
                    c(Msg::FieldPhotos, 24.0),
                ];
                COLUMNS
            }
            LedgerKind::Service => {
                const COLUMNS: &[Column] = &[
                    c(Msg::LedgerRow, 6.0),
                    c(Msg::LedgerServedAt, TIME_WIDTH),
                    c(Msg::OfficeGrid, 12.0),
                    c(Msg::LedgerServedBy, 8.0),
                    c(Msg::LedgerService, 26.0),
                    c(Msg::LedgerHours, 10.0),
                    c(Msg::PeopleServedField, 8.0),
                    c(Msg::LedgerLinkedIssue, 12.0),
                    c(Msg::LedgerLinkedRequest, 12.0),
                    c(Msg::FieldPhotos, 24.0),
                ];
                COLUMNS
            }
            LedgerKind::Checkins => {
                const COLUMNS: &[Column] = &[
                    c(Msg::LedgerRow, 6.0),
                    c(Msg::LedgerCheckedInAt, TIME_WIDTH),
                    c(Msg::OfficeGrid, 12.0),
                    c(Msg::LedgerCheckedInBy, 8.0),
                    c(Msg::LedgerPhoneVerdict, 12.0),
                    c(Msg::LedgerServerVerdict, 12.0),
                    c(Msg::LedgerEdgeDistance, 14.0),
                    c(Msg::LedgerMockLocation, 8.0),
                ];
                COLUMNS
            }
            LedgerKind::Households => {
                const COLUMNS: &[Column] = &[
                    c(Msg::LedgerRow, 6.0),
                    c(Msg::OfficeGrid, 12.0),
                    c(Msg::OfficeAddress, 34.0),
                    c(Msg::OfficeHead, 8.0),
                    c(Msg::TagsField, 24.0),
                    c(Msg::LedgerCadenceDays, 12.0),
                    c(Msg::OfficeLastVisit, TIME_WIDTH),
                    c(Msg::LedgerVisitOverdue, 12.0),
                ];
                COLUMNS
            }
            LedgerKind::Patrols => {
                const COLUMNS: &[Column] = &[
                    c(Msg::LedgerRow, 6.0),
                    c(Msg::LedgerStartedAt, TIME_WIDTH),
                    c(Msg::LedgerEndedAt, TIME_WIDTH),
                    c(Msg::OfficeGrid, 12.0),
                    c(Msg::LedgerPatroller, 8.0),
                    c(Msg::LedgerMinutes, 10.0),
                    c(Msg::LedgerKm, 10.0),
                    c(Msg::OfficeIssuesFoundColumn, 8.0),
                    c(Msg::LedgerIssueNumbers, 26.0),
                    c(Msg::OfficePatrolNotes, 34.0),
                ];
                COLUMNS
            }
            LedgerKind::Commitments => {
                const COLUMNS: &[Column] = &[
                    c(Msg::LedgerRow, 6.0),
                    c(Msg::LedgerYearColumn, 6.0),
                    c(Msg::OfficeGrid, 12.0),
                    c(Msg::OfficeMember, 8.0),
                    c(Msg::OfficePromise, 24.0),
                    c(Msg::LedgerPromiseDetails, 34.0),
                    c(Msg::OfficeStatus, 8.0),
                    c(Msg::LedgerSteps, 8.0),
                    c(Msg::LedgerPromisedAt, TIME_WIDTH),
                ];
                COLUMNS
            }
        }
    }

    /// The column headers, in order.
    pub fn headers(self, lang: Lang) -> Vec<&'static str> {
        self.columns().iter().map(|c| lang.t(c.header)).collect()
    }

    fn entity(self) -> Entity {
        match self {
            LedgerKind::Visits => Entity::Visit,
            LedgerKind::Issues => Entity::Issue,
            LedgerKind::Orders => Entity::Order,
            LedgerKind::Service => Entity::ServiceRecord,
            LedgerKind::Checkins => Entity::Checkin,
            LedgerKind::Households => Entity::Household,
            LedgerKind::Patrols => Entity::Patrol,
            LedgerKind::Commitments => Entity::Commitment,
        }
    }
}

/// A ledger as asked for: which, as XLSX or CSV, of which grid (or all the caller's) and period,
/// in which language.
#[derive(Clone, Copy, Debug)]
pub struct LedgerRequest {
    pub kind: LedgerKind,
    pub xlsx: bool,
    pub grid: Option<Uuid>,
    pub period: Period,
    pub lang: Lang,
}

/// One column of a ledger.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Column {
    pub header: Msg,
    /// Printed width, in characters of the default font.
    pub width: f64,
    /// Long text: wrapped inside the column instead of spilling over the next.
    pub wrap: bool,
}

/// A column `width` characters wide; from 14 (addresses, notes, links) its text wraps.
const fn c(header: Msg, width: f64) -> Column {
    Column {
        header,
        width,
        wrap: width >= 14.0 && width != TIME_WIDTH,
    }
}

/// A date and time to the minute, Chinese style, fits in this many characters.
const TIME_WIDTH: f64 = 19.0;

/// One cell of a ledger.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// A moment, shown in Beijing time: a date cell a spreadsheet can filter and group by month.
    Time(DateTime<Utc>),
}

/// What heads a ledger: its title (community and ledger), the line under it (period, grid, when
/// it was exported), and its columns.
pub struct Heading<'a> {
    /// The language of the headers, the times and the footer.
    pub lang: Lang,
    /// The sheet's name: the ledger's.
    pub sheet: &'a str,
    pub title: String,
    pub subtitle: String,
    pub columns: &'a [Column],
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
}

/// Where a ledger's rows go.
pub trait Sink {
    fn header(&mut self, heading: &Heading) -> Result<()>;
    fn row(&mut self, cells: &[Cell]) -> Result<()>;
}

/// The community's clock: China Standard Time, UTC+8 all year. Ledgers, the console and the
/// office's periods all read days and times on it.
pub fn beijing() -> FixedOffset {
    gridmate_model::calendar::china()
}

/// A time as the office reads it: Beijing time, to the minute.
pub fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn word(lang: Lang, v: Vocabulary, code: &str) -> String {
    v.word(code, lang).to_string()
}

fn yes_no(lang: Lang, b: bool) -> String {
    lang.t(if b { Msg::LedgerYes } else { Msg::LedgerNo })
        .into()
}

/// Photos as links a reader opens on the office network (the console's photo route: it asks for
/// the office user's session, and shows only photos of their scope).
fn photo_links(base: &str, photos: &[String]) -> String {
    photos
        .iter()
        .map(|p| format!("{base}/console/photos/{p}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Visit every live record of `entity` in `grids`, never holding them all.
fn each<T: DeserializeOwned>(
    tx: &mut dyn ReadTx,
    entity: Entity,
    grids: &[Uuid],
    mut f: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    tx.for_each_live_in_grids(entity, grids, &mut |data| {
        f(serde_json::from_str(data).map_err(|e| StoreError::Corrupt(e.to_string()))?)
    })
}

/// The years, China time, a period touches: its first day's and its last day's.
fn year_span(period: &Period) -> (i32, i32) {
    (
        gridmate_model::calendar::year(period.from),
        gridmate_model::calendar::year(period.to - chrono::Duration::milliseconds(1)),
    )
}

fn years(lang: Lang, period: &Period) -> String {
    match year_span(period) {
        (a, b) if a == b => lang.t1(Msg::LedgerOneYear, a),
        (a, b) => lang.fill(Msg::LedgerYears, &[&a, &b]),
    }
}

/// The office's number of an issue or order; one the server has not numbered (none since the
/// numbers came) by its id.
fn case_number(number: Option<String>, id: Uuid) -> String {
    number.unwrap_or_else(|| id.to_string())
}

/// The office's numbers of the grids' issues and orders, for the records that point at them.
fn case_numbers(tx: &mut dyn ReadTx, grids: &[Uuid]) -> Result<HashMap<Uuid, String>> {
    #[derive(serde::Deserialize)]
    struct Numbered {
        id: Uuid,
        number: Option<String>,
    }
    let mut out = HashMap::new();
    for entity in [Entity::Issue, Entity::Order] {
        each(tx, entity, grids, |r: Numbered| {
            if let Some(n) = r.number {
                out.insert(r.id, n);
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// When an issue was handled and closed (办结), and what was done, from its steps.
#[derive(Default)]
struct Handling {
    closed_at: Option<DateTime<Utc>>,
    on_spot_at: Option<DateTime<Utc>>,
    result: Option<(DateTime<Utc>, String)>,
}

/// Each issue's latest close, on-the-spot handling and resolution note, from its steps in the
/// grids (a few per issue; read before the issues so the ledger stays one pass over them).
fn handlings(tx: &mut dyn ReadTx, grids: &[Uuid]) -> Result<HashMap<Uuid, Handling>> {
    let mut out: HashMap<Uuid, Handling> = HashMap::new();
    each(tx, Entity::IssueEvent, grids, |e: IssueEventRecord| {
        if e.merged_reason.is_some() {
            return Ok(());
        }
        use gridmate_model::IssueAction::{Close, Resolve, ResolveOnSpot};
        let Some(action) = gridmate_model::IssueAction::from_code(&e.action) else {
            return Ok(());
        };
        let h = out.entry(e.issue_id).or_default();
        let later = |t: Option<DateTime<Utc>>| t.is_none_or(|t| t < e.at);
        match action {
            Close if later(h.closed_at) => h.closed_at = Some(e.at),
            ResolveOnSpot if later(h.on_spot_at) => h.on_spot_at = Some(e.at),
            _ => {}
        }
        if matches!(action, Resolve | ResolveOnSpot)
            && h.result.as_ref().is_none_or(|(t, _)| *t < e.at)
        {
            h.result = Some((e.at, e.note));
        }
        Ok(())
    })?;
    Ok(out)
}

/// "2026-12-01 至 2026-12-31": the days a period covers, Beijing time (its end is exclusive).
fn period_words(lang: Lang, period: &Period) -> String {
    let day = |t: DateTime<Utc>| t.with_timezone(&beijing()).format("%Y-%m-%d").to_string();
    lang.fill(
        Msg::LedgerDays,
        &[
            &day(period.from),
            &day(period.to - chrono::Duration::seconds(1)),
        ],
    )
}

/// Write the ledger asked for (of the caller's grids, or one of them, and a period, in a language)
/// to `sink`; returns the number of rows. `base` is the server's address for photo links.
pub fn write(
    tx: &mut dyn ReadTx,
    p: &Principal,
    ask: &LedgerRequest,
    base: &str,
    sink: &mut dyn Sink,
) -> Result<u64> {
    let LedgerRequest {
        kind,
        grid,
        period,
        lang,
        ..
    } = *ask;
    let grids = grids_for(p, grid)?;
    let names = Names::load(tx, p)?;
    let now = Utc::now();
    let mut communities: Vec<String> = records::<GridRecord>(tx, Entity::Grid, &grids)?
        .into_iter()
        .map(|g| g.community_name)
        .collect();
    communities.sort();
    communities.dedup();
    let grid_words = match grid {
        Some(g) => names.grid(g),
        None => lang.t(Msg::OfficeAllGrids).into(),
    };
    let period_words = match kind {
        // The roll is a state, not events: every household as it stands, whatever the period.
        LedgerKind::Households => lang.t1(Msg::LedgerAsOf, local(now)),
        LedgerKind::Commitments => lang.t1(Msg::LedgerYearOf, years(lang, &period)),
        _ => lang.t1(Msg::LedgerPeriod, period_words(lang, &period)),
    };
    sink.header(&Heading {
        lang,
        sheet: kind.title(lang),
        title: lang.fill(
            Msg::LedgerTitle,
            &[
                &communities.join(lang.t(Msg::LedgerListSeparator)),
                &kind.title(lang),
            ],
        ),
        subtitle: lang.fill(
            Msg::LedgerSubtitle,
            &[&period_words, &grid_words, &local(now)],
        ),
        columns: kind.columns(),
    })?;
    let mut n = 0u64;
    let mut emit = |sink: &mut dyn Sink, cells: Vec<Cell>| -> Result<()> {
        n += 1;
        let mut row = Vec::with_capacity(cells.len() + 1);
        row.push(Cell::Number(n as f64));
        row.extend(cells);
        sink.row(&row)
    };
    let person = |id: Option<Uuid>| names.person(id).unwrap_or_default();
    let time = |t: Option<DateTime<Utc>>| t.map_or(Cell::text(""), Cell::Time);
    match kind {
        LedgerKind::Visits => {
            // Only what a row shows of a household: a street holds 100,000 of them.
            let households: HashMap<Uuid, (String, String, String)> =
                records::<HouseholdRecord>(tx, Entity::Household, &grids)?
                    .into_iter()
                    .map(|h| (h.id, (names.grid(h.grid_id), h.address, h.head_name)))
                    .collect();
            // In the order they were made, as the office reads a month: a week at a time, read
            // by the visits' facts and sorted, so a street's year (a million visits) is never
            // held whole.
            let mut week = period.from;
            while week < period.to {
                let end = (week + Duration::days(7)).min(period.to);
                let mut visits = tx
                    .live_between(
                        Entity::Visit,
                        &grids,
                        week.timestamp_millis(),
                        end.timestamp_millis(),
                    )?
                    .iter()
                    .map(|data| {
                        serde_json::from_str::<VisitRecord>(data)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))
                    })
                    .collect::<Result<Vec<_>>>()?;
                visits.sort_by_key(|v| (v.started_at, v.id));
                for v in visits {
                    let (grid, address, head) =
                        households.get(&v.household_id).cloned().unwrap_or_default();
                    emit(
                        sink,
                        vec![
                            Cell::Time(v.started_at),
                            Cell::Time(v.ended_at),
                            Cell::text(grid),
                            Cell::text(address),
                            Cell::text(head),
                            Cell::text(person(Some(v.visitor_id))),
                            Cell::text(word(lang, Vocabulary::VisitKind, &v.kind)),
                            Cell::text(word(lang, Vocabulary::VisitOutcome, &v.outcome)),
                            Cell::Number(f64::from(v.people_served)),
                            Cell::text(v.notes),
                            Cell::text(photo_links(base, &v.photos)),
                        ],
                    )?;
                }
                week = end;
            }
        }
        LedgerKind::Issues => {
            let handled = handlings(tx, &grids)?;
            // In the order they were reported, which is their numbers' order.
            let mut issues = Vec::new();
            each(tx, kind.entity(), &grids, |i: IssueRecord| {
                if period.holds(i.reported_at) {
                    issues.push(i);
                }
                Ok(())
            })?;
            issues.sort_by_key(|i| (i.reported_at, i.id));
            for i in issues {
                let status = gridmate_model::IssueStatus::from_code(&i.status);
                let open = status.is_some_and(|s| s.is_open());
                let h = handled.get(&i.id);
                let closed_at = match status {
                    Some(gridmate_model::IssueStatus::Closed) => h.and_then(|h| h.closed_at),
                    Some(gridmate_model::IssueStatus::ResolvedOnSpot) => {
                        h.and_then(|h| h.on_spot_at)
                    }
                    _ => None,
                };
                emit(
                    sink,
                    vec![
                        Cell::text(case_number(i.number, i.id)),
                        Cell::Time(i.reported_at),
                        Cell::text(names.grid(i.grid_id)),
                        Cell::text(word(lang, Vocabulary::IssueCategory, &i.category)),
                        Cell::text(word(lang, Vocabulary::Severity, &i.severity)),
                        Cell::text(word(lang, Vocabulary::IssueSource, &i.source)),
                        Cell::text(i.title),
                        Cell::text(i.description),
                        Cell::text(word(lang, Vocabulary::IssueStatus, &i.status)),
                        Cell::text(person(Some(i.reported_by))),
                        Cell::text(person(i.assignee_id)),
                        Cell::text(
                            i.department_id
                                .and_then(|d| names.departments.get(&d).cloned())
                                .unwrap_or_default(),
                        ),
                        time(i.due_at),
                        Cell::text(yes_no(lang, open && i.due_at.is_some_and(|d| d < now))),
                        time(closed_at),
                        Cell::text(
                            h.and_then(|h| h.result.as_ref())
                                .map(|(_, note)| note.clone())
                                .unwrap_or_default(),
                        ),
                        Cell::text(photo_links(base, &i.photos)),
                    ],
                )?;
            }
        }
        LedgerKind::Orders => each(tx, kind.entity(), &grids, |o: OrderRecord| {
            if !period.holds(o.recorded_at) {
                return Ok(());
            }
            let open =
                gridmate_model::OrderStatus::from_code(&o.status).is_some_and(|s| s.is_open());
            emit(
                sink,
                vec![
                    Cell::text(case_number(o.number, o.id)),
                    Cell::Time(o.recorded_at),
                    Cell::text(names.grid(o.grid_id)),
                    Cell::text(word(lang, Vocabulary::OrderKind, &o.kind)),
                    Cell::text(word(lang, Vocabulary::OrderSource, &o.source)),
                    Cell::text(o.title),
                    Cell::text(o.description),
                    Cell::text(o.requester),
                    Cell::text(o.address),
                    Cell::text(word(lang, Vocabulary::OrderStatus, &o.status)),
                    Cell::text(person(o.assignee_id)),
                    Cell::text(person(o.taker_id)),
                    Cell::Time(o.due_at),
                    Cell::text(yes_no(lang, open && o.due_at < now)),
                    Cell::text(
                        o.satisfaction
                            .map(|s| word(lang, Vocabulary::Satisfaction, &s))
                            .unwrap_or_default(),
                    ),
                    Cell::text(photo_links(base, &o.photos)),
                ],
            )
        })?,
        LedgerKind::Service => {
            let numbers = case_numbers(tx, &grids)?;
            let number_of = |id: Option<Uuid>| {
                id.map(|id| numbers.get(&id).cloned().unwrap_or_else(|| id.to_string()))
                    .unwrap_or_default()
            };
            each(tx, kind.entity(), &grids, |s: ServiceRecordRecord| {
                if !period.holds(s.at) {
                    return Ok(());
                }
                emit(
                    sink,
                    vec![
                        Cell::Time(s.at),
                        Cell::text(names.grid(s.grid_id)),
                        Cell::text(person(Some(s.user_id))),
                        Cell::text(s.title),
                        Cell::Number(s.hours),
                        Cell::Number(f64::from(s.people_served)),
                        Cell::text(number_of(s.issue_id)),
                        Cell::text(number_of(s.order_id)),
                        Cell::text(photo_links(base, &s.photos)),
                    ],
                )
            })?
        }
        LedgerKind::Checkins => each(tx, kind.entity(), &grids, |c: CheckinRecord| {
            if !period.holds(c.at) {
                return Ok(());
            }
            emit(
                sink,
                vec![
                    Cell::Time(c.at),
                    Cell::text(names.grid(c.grid_id)),
                    Cell::text(person(Some(c.user_id))),
                    Cell::text(word(lang, Vocabulary::GeoVerdict, &c.verdict)),
                    Cell::text(
                        c.server_verdict
                            .map(|v| word(lang, Vocabulary::GeoVerdict, &v))
                            .unwrap_or_default(),
                    ),
                    Cell::Number((c.boundary_distance_m * 10.0).round() / 10.0),
                    Cell::text(yes_no(lang, c.mock_location)),
                ],
            )
        })?,
        LedgerKind::Patrols => {
            let numbers = case_numbers(tx, &grids)?;
            each(tx, kind.entity(), &grids, |p: PatrolRecord| {
                if !period.holds(p.started_at) {
                    return Ok(());
                }
                let found: Vec<String> = p
                    .issues
                    .iter()
                    .map(|i| numbers.get(i).cloned().unwrap_or_else(|| i.to_string()))
                    .collect();
                emit(
                    sink,
                    vec![
                        Cell::Time(p.started_at),
                        Cell::Time(p.ended_at),
                        Cell::text(names.grid(p.grid_id)),
                        Cell::text(person(Some(p.user_id))),
                        Cell::Number((p.ended_at - p.started_at).num_minutes().max(0) as f64),
                        Cell::Number((p.distance_m / 100.0).round() / 10.0),
                        Cell::Number(p.issues.len() as f64),
                        Cell::text(found.join(" ")),
                        Cell::text(p.notes),
                    ],
                )
            })?
        }
        // A promise is the year's: the ledger holds the promises of every year the period
        // touches, whenever they were made.
        LedgerKind::Commitments => {
            let (first, last) = year_span(&period);
            each(tx, kind.entity(), &grids, |c: CommitmentRecord| {
                if c.year < first || c.year > last {
                    return Ok(());
                }
                emit(
                    sink,
                    vec![
                        Cell::Number(f64::from(c.year)),
                        Cell::text(names.grid(c.grid_id)),
                        Cell::text(c.user_name),
                        Cell::text(c.title),
                        Cell::text(c.description),
                        Cell::text(word(lang, Vocabulary::CommitmentStatus, &c.status)),
                        Cell::Number(f64::from(c.progress)),
                        Cell::Time(c.created_at),
                    ],
                )
            })?
        }
        LedgerKind::Households => each(tx, kind.entity(), &grids, |h: HouseholdRecord| {
            let overdue = h
                .last_visit_at
                .is_none_or(|v| v + chrono::Duration::days(i64::from(h.visit_cadence_days)) < now);
            emit(
                sink,
                vec![
                    Cell::text(names.grid(h.grid_id)),
                    Cell::text(h.address),
                    Cell::text(h.head_name),
                    Cell::text(
                        h.tags
                            .iter()
                            .map(|t| word(lang, Vocabulary::HouseholdTag, t))
                            .collect::<Vec<_>>()
                            .join("、"),
                    ),
                    Cell::Number(f64::from(h.visit_cadence_days)),
                    time(h.last_visit_at),
                    Cell::text(yes_no(lang, overdue)),
                ],
            )
        })?,
    }
    Ok(n)
}

/// A CSV ledger: UTF-8 with a byte-order mark, so that Excel on a Chinese Windows opens it as
/// UTF-8 rather than GBK.
pub struct CsvSink<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> CsvSink<W> {
    pub fn new(mut w: W) -> Result<Self> {
        w.write_all("\u{feff}".as_bytes())?;
        Ok(CsvSink {
            out: csv::Writer::from_writer(w),
        })
    }

    pub fn finish(mut self) -> Result<()> {
        self.out.flush()?;
        Ok(())
    }
}

/// A cell Excel would run as a formula (`=`, `+`, `-`, `@` first) is written with a leading
/// apostrophe: a resident's note must never execute in the office's spreadsheet.
fn defuse(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// A CSV is for another program to read: its first line is the headers (no title), times are
/// written as Beijing time to the minute.
impl<W: Write> Sink for CsvSink<W> {
    fn header(&mut self, heading: &Heading) -> Result<()> {
        self.out
            .write_record(heading.columns.iter().map(|c| heading.lang.t(c.header)))
            .map_err(csv_error)
    }

    fn row(&mut self, cells: &[Cell]) -> Result<()> {
        self.out
            .write_record(cells.iter().map(|c| match c {
                Cell::Text(s) => defuse(s).into_owned(),
                Cell::Number(n) => n.to_string(),
                Cell::Time(t) => local(*t),
            }))
            .map_err(csv_error)
    }
}

fn csv_error(e: csv::Error) -> StoreError {
    StoreError::Io(std::io::Error::other(e))
}

/// An XLSX ledger in constant memory (each row is flushed to a temporary file when the next
/// begins), set up to be printed and filed: a title and a line of what it covers, the header
/// row frozen, filtered and repeated on every page, A4 landscape one page wide, page numbers in
/// the footer, long text wrapped in wide columns, times as real date cells.
pub struct XlsxSink {
    book: rust_xlsxwriter::Workbook,
    row: u32,
    columns: u16,
    formats: Option<XlsxFormats>,
}

struct XlsxFormats {
    text: rust_xlsxwriter::Format,
    wrapped: rust_xlsxwriter::Format,
    number: rust_xlsxwriter::Format,
    time: rust_xlsxwriter::Format,
    /// Which columns wrap.
    wrap: Vec<bool>,
    /// The kind of cell each column's own format is for, set from the first row. A cell of
    /// that kind is written without a format and takes the column's: rust_xlsxwriter looks a
    /// cell's format up by hashing it, which was a quarter of a big ledger's time.
    column_kind: Vec<CellKind>,
}

#[derive(Clone, Copy, PartialEq)]
enum CellKind {
    Text,
    Number,
    Time,
}

impl Cell {
    fn kind(&self) -> CellKind {
        match self {
            Cell::Text(_) => CellKind::Text,
            Cell::Number(_) => CellKind::Number,
            Cell::Time(_) => CellKind::Time,
        }
    }
}

impl XlsxFormats {
    fn of(&self, column: usize, kind: CellKind) -> &rust_xlsxwriter::Format {
        match kind {
            CellKind::Text if self.wrap.get(column).copied().unwrap_or(false) => &self.wrapped,
            CellKind::Text => &self.text,
            CellKind::Number => &self.number,
            CellKind::Time => &self.time,
        }
    }
}

/// Excel's limit of rows per sheet.
const XLSX_MAX_ROWS: u32 = 1_048_576;

/// The rows above the records: title, what it covers, headers.
const XLSX_HEADER_ROW: u32 = 2;

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> StoreError {
    StoreError::Io(std::io::Error::other(e.to_string()))
}

impl XlsxSink {
    pub fn new() -> Self {
        let mut book = rust_xlsxwriter::Workbook::new();
        // Deflating the sheet's XML was a third of a big ledger's time at the default level.
        // Measured on 100,000 visit rows (crates/bench, 2026-12-07): level 3 saved in 0.44 s to
        // 6.27 MB, level 2 in 0.28 s to 6.48 MB (+3 %), level 1 in 0.17 s to 9.71 MB (+55 %).
        book.set_zip_compression_level(2);
        XlsxSink {
            book,
            row: 0,
            columns: 0,
            formats: None,
        }
    }

    /// Assemble the workbook into `w`.
    pub fn finish<W: Write + std::io::Seek + Send>(mut self, w: W) -> Result<()> {
        if self.columns > 0 {
            let last = self.row.saturating_sub(1).max(XLSX_HEADER_ROW);
            self.book
                .worksheet_from_index(0)
                .map_err(xlsx_error)?
                .autofilter(XLSX_HEADER_ROW, 0, last, self.columns - 1)
                .map_err(xlsx_error)?;
        }
        self.book.save_to_writer(w).map_err(xlsx_error)
    }
}

impl Default for XlsxSink {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink for XlsxSink {
    fn header(&mut self, heading: &Heading) -> Result<()> {
        use rust_xlsxwriter::{Format, FormatAlign, FormatBorder};
        let cell = Format::new()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::VerticalCenter);
        let formats = XlsxFormats {
            text: cell.clone(),
            wrapped: cell.clone().set_text_wrap(),
            number: cell.clone().set_align(FormatAlign::Center),
            time: cell
                .clone()
                .set_num_format(heading.lang.t(Msg::LedgerTimeFormat))
                .set_align(FormatAlign::Left),
            wrap: heading.columns.iter().map(|c| c.wrap).collect(),
            column_kind: Vec::new(),
        };
        let columns = heading.columns.len() as u16;
        let sheet = self
            .book
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_error)?
            .set_name(heading.sheet)
            .map_err(xlsx_error)?;
        let title = Format::new()
            .set_bold()
            .set_font_size(16)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter);
        let subtitle = Format::new().set_align(FormatAlign::Left);
        let header = Format::new()
            .set_bold()
            .set_border(FormatBorder::Thin)
            .set_background_color("D9E1F2")
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_text_wrap();
        let last = columns.saturating_sub(1);
        sheet.set_row_height(0, 28).map_err(xlsx_error)?;
        sheet
            .merge_range(0, 0, 0, last, &heading.title, &title)
            .map_err(xlsx_error)?;
        sheet
            .merge_range(1, 0, 1, last, &heading.subtitle, &subtitle)
            .map_err(xlsx_error)?;
        for (c, col) in heading.columns.iter().enumerate() {
            sheet
                .write_string_with_format(
                    XLSX_HEADER_ROW,
                    c as u16,
                    heading.lang.t(col.header),
                    &header,
                )
                .map_err(xlsx_error)?;
            sheet
                .set_column_width(c as u16, col.width)
                .map_err(xlsx_error)?;
        }
        sheet
            .set_freeze_panes(XLSX_HEADER_ROW + 1, 0)
            .map_err(xlsx_error)?;
        sheet
            .set_repeat_rows(XLSX_HEADER_ROW, XLSX_HEADER_ROW)
            .map_err(xlsx_error)?;
        sheet
            .set_landscape()
            // A4
            .set_paper_size(9)
            .set_print_fit_to_pages(1, 0)
            .set_print_center_horizontally(true)
            .set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3)
            .set_footer(heading.lang.t(Msg::LedgerFooter));
        self.columns = columns;
        self.formats = Some(formats);
        self.row = XLSX_HEADER_ROW + 1;
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> Result<()> {
        if self.row >= XLSX_MAX_ROWS {
            return Err(StoreError::Invalid(
                "more rows than one Excel sheet holds: choose a shorter period or one grid".into(),
            ));
        }
        let f = self
            .formats
            .as_mut()
            .ok_or_else(|| StoreError::Invalid("a ledger row before its header".into()))?;
        let sheet = self.book.worksheet_from_index(0).map_err(xlsx_error)?;
        if f.column_kind.is_empty() {
            f.column_kind = cells.iter().map(Cell::kind).collect();
            for (c, kind) in f.column_kind.iter().enumerate() {
                sheet
                    .set_column_format(c as u16, f.of(c, *kind))
                    .map_err(xlsx_error)?;
            }
        }
        for (c, cell) in cells.iter().enumerate() {
            let col = c as u16;
            let own = f.column_kind.get(c) == Some(&cell.kind());
            let format = f.of(c, cell.kind());
            match cell {
                // Written as strings, never formulas: rust_xlsxwriter's write_string stores
                // text as text, so a note starting with "=" stays a note.
                Cell::Text(s) if own => sheet.write_string(self.row, col, s),
                Cell::Text(s) => sheet.write_string_with_format(self.row, col, s, format),
                Cell::Number(n) if own => sheet.write_number(self.row, col, *n),
                Cell::Number(n) => sheet.write_number_with_format(self.row, col, *n, format),
                Cell::Time(t) => {
                    // Excel has no time zones: the cell holds the office's wall clock.
                    let local = t.timestamp() + i64::from(beijing().local_minus_utc());
                    let at = rust_xlsxwriter::ExcelDateTime::from_timestamp(local)
                        .map_err(xlsx_error)?;
                    if own {
                        sheet.write_datetime(self.row, col, &at)
                    } else {
                        sheet.write_datetime_with_format(self.row, col, &at, format)
                    }
                }
            }
            .map_err(xlsx_error)?;
        }
        self.row += 1;
        Ok(())
    }
}
