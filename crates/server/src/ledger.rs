//! The ledgers (台账) the community hands up to the street: visits, issues, orders, service,
//! check-ins and households of a period and grid, one row per record, Chinese headers, codes
//! written as words, photos as links, as an XLSX workbook or a CSV file Excel opens (UTF-8 with
//! a BOM).
//!
//! A year of visits is 100,000 rows, so nothing here holds a ledger whole: records are stepped
//! through inside one read snapshot ([`ReadTx::for_each_live_in_grids`]), each row goes straight
//! to a [`Sink`], and the XLSX sink is rust_xlsxwriter's constant-memory worksheet (rows flushed
//! to a temporary file as they are written). The finished file is streamed to the client.

use crate::store::office::{Names, Period, grids_for, records};
use crate::store::{Principal, ReadTx, Result, StoreError};
use chrono::{DateTime, FixedOffset, Utc};
use gridmate_model::words::{Lang, Vocabulary};
use gridmate_protocol::Entity;
use gridmate_protocol::records::*;
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
}

impl LedgerKind {
    pub const ALL: [LedgerKind; 6] = [
        LedgerKind::Visits,
        LedgerKind::Issues,
        LedgerKind::Orders,
        LedgerKind::Service,
        LedgerKind::Checkins,
        LedgerKind::Households,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LedgerKind::Visits => "visits",
            LedgerKind::Issues => "issues",
            LedgerKind::Orders => "orders",
            LedgerKind::Service => "service",
            LedgerKind::Checkins => "checkins",
            LedgerKind::Households => "households",
        }
    }

    pub fn from_code(code: &str) -> Option<LedgerKind> {
        LedgerKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The sheet's and the file's name, as the street files it.
    pub fn title(self) -> &'static str {
        match self {
            LedgerKind::Visits => "入户走访台账",
            LedgerKind::Issues => "问题台账",
            LedgerKind::Orders => "群众点单台账",
            LedgerKind::Service => "党员服务台账",
            LedgerKind::Checkins => "党员报到台账",
            LedgerKind::Households => "住户台账",
        }
    }

    pub fn headers(self) -> &'static [&'static str] {
        match self {
            LedgerKind::Visits => &[
                "走访时间",
                "结束时间",
                "网格",
                "地址",
                "户主",
                "走访人",
                "走访类型",
                "走访结果",
                "服务人数",
                "情况记录",
                "照片",
            ],
            LedgerKind::Issues => &[
                "编号",
                "上报时间",
                "网格",
                "类别",
                "紧急程度",
                "来源",
                "标题",
                "描述",
                "状态",
                "上报人",
                "责任人",
                "转办部门",
                "办理时限",
                "是否超期",
                "照片",
            ],
            LedgerKind::Orders => &[
                "登记时间",
                "网格",
                "类型",
                "来源",
                "事项",
                "说明",
                "点单人",
                "地址",
                "状态",
                "派给",
                "接单人",
                "办理时限",
                "是否超期",
                "回访评价",
                "照片",
            ],
            LedgerKind::Service => &[
                "服务时间",
                "网格",
                "服务人",
                "服务内容",
                "时长(小时)",
                "服务人数",
                "关联问题",
                "关联点单",
                "照片",
            ],
            LedgerKind::Checkins => &[
                "报到时间",
                "网格",
                "报到人",
                "手机判定",
                "服务器判定",
                "距网格边界(米)",
                "模拟定位",
            ],
            LedgerKind::Households => &[
                "网格",
                "地址",
                "户主",
                "标签",
                "走访周期(天)",
                "最近走访",
                "走访是否超期",
            ],
        }
    }

    fn entity(self) -> Entity {
        match self {
            LedgerKind::Visits => Entity::Visit,
            LedgerKind::Issues => Entity::Issue,
            LedgerKind::Orders => Entity::Order,
            LedgerKind::Service => Entity::ServiceRecord,
            LedgerKind::Checkins => Entity::Checkin,
            LedgerKind::Households => Entity::Household,
        }
    }
}

/// One cell of a ledger.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
}

/// Where a ledger's rows go.
pub trait Sink {
    fn header(&mut self, title: &str, headers: &[&str]) -> Result<()>;
    fn row(&mut self, cells: &[Cell]) -> Result<()>;
}

/// The community's clock: China Standard Time, UTC+8 all year. Ledgers, the console and the
/// office's periods all read days and times on it.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// A time as the office reads it: Beijing time, to the minute.
pub fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn word(v: Vocabulary, code: &str) -> String {
    v.word(code, Lang::Zh).to_string()
}

fn yes_no(b: bool) -> String {
    if b { "是" } else { "否" }.into()
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

/// Write the ledger of `kind` for the caller's grids (or one of them) and `period` to `sink`;
/// returns the number of rows. `base` is the server's address for photo links.
pub fn write(
    tx: &mut dyn ReadTx,
    p: &Principal,
    kind: LedgerKind,
    grid: Option<Uuid>,
    period: Period,
    base: &str,
    sink: &mut dyn Sink,
) -> Result<u64> {
    let grids = grids_for(p, grid)?;
    let names = Names::load(tx, p)?;
    let now = Utc::now();
    sink.header(kind.title(), kind.headers())?;
    let mut n = 0u64;
    let mut emit = |sink: &mut dyn Sink, cells: Vec<Cell>| -> Result<()> {
        n += 1;
        sink.row(&cells)
    };
    let person = |id: Option<Uuid>| names.person(id).unwrap_or_default();
    match kind {
        LedgerKind::Visits => {
            let households: HashMap<Uuid, HouseholdRecord> =
                records::<HouseholdRecord>(tx, Entity::Household, &grids)?
                    .into_iter()
                    .map(|h| (h.id, h))
                    .collect();
            each(tx, kind.entity(), &grids, |v: VisitRecord| {
                if !period.holds(v.started_at) {
                    return Ok(());
                }
                let h = households.get(&v.household_id);
                emit(
                    sink,
                    vec![
                        Cell::text(local(v.started_at)),
                        Cell::text(local(v.ended_at)),
                        Cell::text(h.map(|h| names.grid(h.grid_id)).unwrap_or_default()),
                        Cell::text(h.map(|h| h.address.clone()).unwrap_or_default()),
                        Cell::text(h.map(|h| h.head_name.clone()).unwrap_or_default()),
                        Cell::text(person(Some(v.visitor_id))),
                        Cell::text(word(Vocabulary::VisitKind, &v.kind)),
                        Cell::text(word(Vocabulary::VisitOutcome, &v.outcome)),
                        Cell::Number(f64::from(v.people_served)),
                        Cell::text(v.notes),
                        Cell::text(photo_links(base, &v.photos)),
                    ],
                )
            })?;
        }
        LedgerKind::Issues => each(tx, kind.entity(), &grids, |i: IssueRecord| {
            if !period.holds(i.reported_at) {
                return Ok(());
            }
            let open =
                gridmate_model::IssueStatus::from_code(&i.status).is_some_and(|s| s.is_open());
            emit(
                sink,
                vec![
                    Cell::text(i.id.to_string()),
                    Cell::text(local(i.reported_at)),
                    Cell::text(names.grid(i.grid_id)),
                    Cell::text(word(Vocabulary::IssueCategory, &i.category)),
                    Cell::text(word(Vocabulary::Severity, &i.severity)),
                    Cell::text(word(Vocabulary::IssueSource, &i.source)),
                    Cell::text(i.title),
                    Cell::text(i.description),
                    Cell::text(word(Vocabulary::IssueStatus, &i.status)),
                    Cell::text(person(Some(i.reported_by))),
                    Cell::text(person(i.assignee_id)),
                    Cell::text(
                        i.department_id
                            .and_then(|d| names.departments.get(&d).cloned())
                            .unwrap_or_default(),
                    ),
                    Cell::text(i.due_at.map(local).unwrap_or_default()),
                    Cell::text(yes_no(open && i.due_at.is_some_and(|d| d < now))),
                    Cell::text(photo_links(base, &i.photos)),
                ],
            )
        })?,
        LedgerKind::Orders => each(tx, kind.entity(), &grids, |o: OrderRecord| {
            if !period.holds(o.recorded_at) {
                return Ok(());
            }
            let open =
                gridmate_model::OrderStatus::from_code(&o.status).is_some_and(|s| s.is_open());
            emit(
                sink,
                vec![
                    Cell::text(local(o.recorded_at)),
                    Cell::text(names.grid(o.grid_id)),
                    Cell::text(word(Vocabulary::OrderKind, &o.kind)),
                    Cell::text(word(Vocabulary::OrderSource, &o.source)),
                    Cell::text(o.title),
                    Cell::text(o.description),
                    Cell::text(o.requester),
                    Cell::text(o.address),
                    Cell::text(word(Vocabulary::OrderStatus, &o.status)),
                    Cell::text(person(o.assignee_id)),
                    Cell::text(person(o.taker_id)),
                    Cell::text(local(o.due_at)),
                    Cell::text(yes_no(open && o.due_at < now)),
                    Cell::text(
                        o.satisfaction
                            .map(|s| word(Vocabulary::Satisfaction, &s))
                            .unwrap_or_default(),
                    ),
                    Cell::text(photo_links(base, &o.photos)),
                ],
            )
        })?,
        LedgerKind::Service => each(tx, kind.entity(), &grids, |s: ServiceRecordRecord| {
            if !period.holds(s.at) {
                return Ok(());
            }
            emit(
                sink,
                vec![
                    Cell::text(local(s.at)),
                    Cell::text(names.grid(s.grid_id)),
                    Cell::text(person(Some(s.user_id))),
                    Cell::text(s.title),
                    Cell::Number(s.hours),
                    Cell::Number(f64::from(s.people_served)),
                    Cell::text(s.issue_id.map(|i| i.to_string()).unwrap_or_default()),
                    Cell::text(s.order_id.map(|i| i.to_string()).unwrap_or_default()),
                    Cell::text(photo_links(base, &s.photos)),
                ],
            )
        })?,
        LedgerKind::Checkins => each(tx, kind.entity(), &grids, |c: CheckinRecord| {
            if !period.holds(c.at) {
                return Ok(());
            }
            emit(
                sink,
                vec![
                    Cell::text(local(c.at)),
                    Cell::text(names.grid(c.grid_id)),
                    Cell::text(person(Some(c.user_id))),
                    Cell::text(word(Vocabulary::GeoVerdict, &c.verdict)),
                    Cell::text(
                        c.server_verdict
                            .map(|v| word(Vocabulary::GeoVerdict, &v))
                            .unwrap_or_default(),
                    ),
                    Cell::Number((c.boundary_distance_m * 10.0).round() / 10.0),
                    Cell::text(yes_no(c.mock_location)),
                ],
            )
        })?,
        // The roll is a state, not events: every household as it stands, whatever the period.
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
                            .map(|t| word(Vocabulary::HouseholdTag, t))
                            .collect::<Vec<_>>()
                            .join("、"),
                    ),
                    Cell::Number(f64::from(h.visit_cadence_days)),
                    Cell::text(h.last_visit_at.map(local).unwrap_or_default()),
                    Cell::text(yes_no(overdue)),
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

impl<W: Write> Sink for CsvSink<W> {
    fn header(&mut self, _title: &str, headers: &[&str]) -> Result<()> {
        self.out.write_record(headers).map_err(csv_error)
    }

    fn row(&mut self, cells: &[Cell]) -> Result<()> {
        self.out
            .write_record(cells.iter().map(|c| match c {
                Cell::Text(s) => defuse(s).into_owned(),
                Cell::Number(n) => n.to_string(),
            }))
            .map_err(csv_error)
    }
}

fn csv_error(e: csv::Error) -> StoreError {
    StoreError::Io(std::io::Error::other(e))
}

/// An XLSX ledger in constant memory: each row is flushed to a temporary file when the next
/// begins.
pub struct XlsxSink {
    book: rust_xlsxwriter::Workbook,
    row: u32,
}

/// Excel's limit of rows per sheet.
const XLSX_MAX_ROWS: u32 = 1_048_576;

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> StoreError {
    StoreError::Io(std::io::Error::other(e.to_string()))
}

impl XlsxSink {
    pub fn new() -> Self {
        XlsxSink {
            book: rust_xlsxwriter::Workbook::new(),
            row: 0,
        }
    }

    /// Assemble the workbook into `w`.
    pub fn finish<W: Write + std::io::Seek + Send>(mut self, w: W) -> Result<()> {
        self.book.save_to_writer(w).map_err(xlsx_error)
    }
}

impl Default for XlsxSink {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink for XlsxSink {
    fn header(&mut self, title: &str, headers: &[&str]) -> Result<()> {
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let sheet = self
            .book
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_error)?
            .set_name(title)
            .map_err(xlsx_error)?;
        for (c, h) in headers.iter().enumerate() {
            sheet
                .write_string_with_format(0, c as u16, *h, &bold)
                .map_err(xlsx_error)?;
            sheet.set_column_width(c as u16, 16).map_err(xlsx_error)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        self.row = 1;
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> Result<()> {
        if self.row >= XLSX_MAX_ROWS {
            return Err(StoreError::Invalid(
                "more rows than one Excel sheet holds: choose a shorter period or one grid".into(),
            ));
        }
        let sheet = self.book.worksheet_from_index(0).map_err(xlsx_error)?;
        for (c, cell) in cells.iter().enumerate() {
            match cell {
                // Written as strings, never formulas: rust_xlsxwriter's write_string stores
                // text as text, so a note starting with "=" stays a note.
                Cell::Text(s) => sheet.write_string(self.row, c as u16, s),
                Cell::Number(n) => sheet.write_number(self.row, c as u16, *n),
            }
            .map_err(xlsx_error)?;
        }
        self.row += 1;
        Ok(())
    }
}
