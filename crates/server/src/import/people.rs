//! A community's 实有人口台账 as offices keep it: one row per person — 姓名, 性别, 与户主关系,
//! 身份证号, 联系电话, 人员类别, 所属网格 (by name), and the address — in XLSX or in CSV (UTF-8,
//! or GBK as Excel on a Chinese Windows saves it). Taken as it is:
//!
//! - headers by their usual synonyms (住址, 现住址 or 门牌地址 for 地址, 手机号 for 联系电话, …), in any
//!   order, below a title row or two if the ledger has them; columns it does not know (序号, 备注)
//!   are shown as not imported;
//! - the address as one cell (联和花园12栋2单元301室, split by `gridmate_model::address`) or in
//!   小区 / 楼栋 / 单元 / 房号 columns, each written its own way (91栋, 91号楼, 2单元, 301室);
//! - people grouped into households by room, the 户主 (or the first person) heading it; a 户号
//!   column lends a household's address and grid to its members' rows that leave them blank, and
//!   one 户号 in two rooms is refused; a person's category (独居老人, 低保, …) tags the household;
//! - an ID number checked (GB 11643) and kept only masked, with the birth year it carries: the
//!   contract never lets a full ID number leave the server, and the server has no use for one;
//!   when given, it tells apart two people of one name in one room;
//! - always a dry run first: [`plan`] says what would be written and every problem by row and
//!   column, in Chinese and in English (the console shows its user's); nothing is written unless
//!   the file is clean and the caller commits; importing the same file twice changes nothing
//!   (households are found by room, residents by name and ID number).
//!
//! Hostile files are refused before they cost memory: a file over [`MAX_FILE_BYTES`], a zip
//! whose parts would inflate past [`MAX_INFLATED_BYTES`] (a zip bomb), a sheet over
//! [`MAX_ROWS`] rows (read as a stream and stopped there), a formula in a cell, a truncated or
//! corrupt workbook.

use super::{ImportProblem, Said, decode_text, problem, tag_from_label};
use crate::store::{PutRecord, Result as StoreResult, WriteTx, admin};
use gridmate_model::{HouseholdTag, address, validate};
use gridmate_protocol::Entity;
use gridmate_protocol::records::*;
use gridmate_words::Msg;
use serde::Serialize;
use std::collections::HashMap;
use std::io::{Cursor, Read};
use uuid::Uuid;

/// Larger than any community's ledger (15,000 people in XLSX is about 1 MB).
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// What the parts of an XLSX may inflate to, together.
pub const MAX_INFLATED_BYTES: u64 = 200 * 1024 * 1024;
/// People per file: a street's ledger, not a city's.
pub const MAX_ROWS: usize = 100_000;

/// What a column of the ledger means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    Gender,
    Relation,
    IdNumber,
    Phone,
    Category,
    Grid,
    /// One combined address: 联和花园12栋2单元301室.
    Address,
    /// Or the address in parts, as many ledgers keep it: 小区, 楼栋, 单元, 房号.
    Estate,
    Building,
    Unit,
    Room,
    /// 户号: the people of one household share it, and often only the first row of the
    /// household carries the address.
    HouseholdNo,
}

impl Field {
    /// The header as the console shows it.
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "姓名",
            Field::Gender => "性别",
            Field::Relation => "与户主关系",
            Field::IdNumber => "身份证号",
            Field::Phone => "联系电话",
            Field::Category => "人员类别",
            Field::Grid => "所属网格",
            Field::Address => "地址",
            Field::Estate => "小区",
            Field::Building => "楼栋",
            Field::Unit => "单元",
            Field::Room => "房号",
            Field::HouseholdNo => "户号",
        }
    }

    /// The headers offices write for it.
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::Name => &["姓名", "名字", "人员姓名", "居民姓名"],
            Field::Gender => &["性别"],
            Field::Relation => &["与户主关系", "与户主的关系", "关系", "家庭关系"],
            Field::IdNumber => &[
                "身份证号",
                "身份证号码",
                "公民身份号码",
                "证件号码",
                "身份证",
            ],
            Field::Phone => &["联系电话", "电话", "手机", "手机号", "手机号码", "联系方式"],
            Field::Category => &["人员类别", "人员类型", "类别", "人员标签", "标签"],
            Field::Grid => &["所属网格", "网格", "网格名称"],
            Field::Address => &[
                "地址",
                "住址",
                "现住址",
                "居住地址",
                "房屋地址",
                "现居住地址",
                "门牌地址",
                "门牌号",
                "详细地址",
                "房屋坐落",
            ],
            Field::Estate => &["小区", "小区名称", "小区名", "所在小区"],
            Field::Building => &["楼栋", "楼栋号", "楼号", "栋号", "幢号", "楼幢"],
            Field::Unit => &["单元", "单元号"],
            Field::Room => &["房号", "房间号", "室号"],
            Field::HouseholdNo => &["户号", "户编号", "家庭编号", "户籍编号"],
        }
    }

    const ALL: [Field; 13] = [
        Field::Name,
        Field::Gender,
        Field::Relation,
        Field::IdNumber,
        Field::Phone,
        Field::Category,
        Field::Grid,
        Field::Address,
        Field::Estate,
        Field::Building,
        Field::Unit,
        Field::Room,
        Field::HouseholdNo,
    ];
    const REQUIRED: [Field; 2] = [Field::Name, Field::Grid];

    fn of_header(h: &str) -> Option<Field> {
        let h: String = h
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '*')
            .collect();
        Field::ALL
            .into_iter()
            .find(|f| f.synonyms().contains(&h.as_str()))
    }
}

/// One cell as read: text, or a number (Excel stores long digit strings as numbers).
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Text(String),
    Number(f64),
}

impl Value {
    fn text(&self) -> String {
        match self {
            Value::Text(s) => s.trim().to_string(),
            // Whole numbers as their digits: a phone typed into a number cell.
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.0}"),
            Value::Number(n) => n.to_string(),
        }
    }
}

/// The sheet: its header and its rows, each with its 1-based row number as Excel shows it.
struct Sheet {
    header: Vec<String>,
    rows: Vec<(usize, Vec<Value>)>,
}

fn read_sheet(bytes: &[u8]) -> Result<Sheet, Vec<ImportProblem>> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(vec![problem(
            0,
            "file",
            Said::fill(Msg::ImportLargerThanMB, &[&(MAX_FILE_BYTES >> 20)]),
        )]);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)
    } else if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        Err(vec![problem(0, "file", Said::of(Msg::ImportAnOldXls))])
    } else {
        read_csv(bytes)
    }
}

fn read_csv(bytes: &[u8]) -> Result<Sheet, Vec<ImportProblem>> {
    let text = decode_text(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 1;
        let record = record.map_err(|e| {
            vec![problem(
                line,
                "row",
                Said::fill(Msg::ImportUnreadableRow, &[&e]),
            )]
        })?;
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        // The header and the people: a title row or two above the header are read too.
        if rows.len() > MAX_ROWS + HEADER_SEARCH {
            return Err(vec![problem(
                line,
                "file",
                Said::fill(Msg::ImportMoreThanPeople, &[&MAX_ROWS]),
            )]);
        }
        rows.push((line, cells.into_iter().map(Value::Text).collect()));
    }
    with_header(rows)
}

/// How far down a header may stand: ledgers often open with a title row ("联和社区实有人口台账")
/// and a line for the date or the unit above the real header.
const HEADER_SEARCH: usize = 10;

/// The header is the first of the top rows that names at least two columns this import knows;
/// what stands above it is a title and is skipped. With none, the first row is the header and
/// its missing columns are what the problem list reports.
fn with_header(rows: Vec<(usize, Vec<Value>)>) -> Result<Sheet, Vec<ImportProblem>> {
    let knows = |cells: &[Value]| {
        cells
            .iter()
            .filter(|c| Field::of_header(&c.text()).is_some())
            .count()
    };
    let at = rows
        .iter()
        .take(HEADER_SEARCH)
        .position(|(_, cells)| knows(cells) >= 2)
        .unwrap_or(0);
    let mut rows = rows.into_iter().skip(at);
    let header = rows
        .next()
        .map(|(_, h)| h.iter().map(Value::text).collect())
        .ok_or_else(|| vec![problem(1, "header", Said::of(Msg::ImportTheFileIsEmpty))])?;
    let rows: Vec<_> = rows.collect();
    if let Some((line, _)) = rows.get(MAX_ROWS) {
        return Err(vec![problem(
            *line,
            "file",
            Said::fill(Msg::ImportMoreThanPeople, &[&MAX_ROWS]),
        )]);
    }
    Ok(Sheet { header, rows })
}

/// Refuse a zip whose parts claim to inflate past the limit, or far past their packed size.
fn check_zip(bytes: &[u8]) -> Result<(), ImportProblem> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let part = zip
            .by_index_raw(i)
            .map_err(|e| problem(0, "file", Said::fill(Msg::ImportADamagedPart, &[&e])))?;
        total = total.saturating_add(part.size());
        if part.size() > 1_000_000 && part.size() / part.compressed_size().max(1) > 200 {
            return Err(problem(0, "file", Said::of(Msg::ImportAPartInflates)));
        }
    }
    if total > MAX_INFLATED_BYTES {
        return Err(problem(
            0,
            "file",
            Said::fill(
                Msg::ImportTheWorkbookInflates,
                &[&(MAX_INFLATED_BYTES >> 20)],
            ),
        ));
    }
    Ok(())
}

fn read_xlsx(bytes: &[u8]) -> Result<Sheet, Vec<ImportProblem>> {
    use calamine::{DataRef, Reader, Xlsx};
    check_zip(bytes).map_err(|p| vec![p])?;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| vec![unreadable(&e)])?;
    let first = book.sheet_names().first().cloned().ok_or_else(|| {
        vec![problem(
            0,
            "file",
            Said::of(Msg::ImportTheWorkbookHasNoSheet),
        )]
    })?;
    let mut cells = book.worksheet_cells_reader(&first).map_err(|e| {
        vec![problem(
            0,
            "file",
            Said::fill(Msg::ImportTheFirstSheet, &[&e]),
        )]
    })?;
    let mut rows: Vec<(usize, Vec<Value>)> = Vec::new();
    let mut problems = Vec::new();
    loop {
        let cell = match cells.next_cell_with_formula() {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                return Err(vec![problem(
                    rows.last().map_or(0, |r| r.0),
                    "file",
                    Said::fill(Msg::ImportTheSheetIsDamaged, &[&e]),
                )]);
            }
        };
        let (r, c) = (cell.pos.0 as usize + 1, cell.pos.1 as usize);
        if c >= 64 {
            continue;
        }
        if rows.last().is_none_or(|l| l.0 != r) {
            if rows.len() > MAX_ROWS + HEADER_SEARCH {
                return Err(vec![problem(
                    r,
                    "file",
                    Said::fill(Msg::ImportMoreThanPeople, &[&MAX_ROWS]),
                )]);
            }
            rows.push((r, Vec::new()));
        }
        if cell.formula.as_deref().is_some_and(|f| !f.is_empty()) {
            problems.push(problem(
                r,
                &column_name(c),
                Said::of(Msg::ImportAFormulaType),
            ));
            continue;
        }
        let value = match cell.value {
            DataRef::String(s) => Value::Text(s),
            DataRef::SharedString(s) => Value::Text(s.to_string()),
            DataRef::Int(i) => Value::Number(i as f64),
            DataRef::Float(f) => Value::Number(f),
            DataRef::Bool(b) => Value::Text(b.to_string()),
            DataRef::Empty => Value::Text(String::new()),
            DataRef::Error(e) => {
                problems.push(problem(
                    r,
                    &column_name(c),
                    Said::fill(Msg::ImportAnErrorCell, &[&e]),
                ));
                continue;
            }
            other => Value::Text(calamine::Data::from(other).to_string()),
        };
        if let Some(row) = rows.last_mut() {
            if row.1.len() <= c {
                row.1.resize(c + 1, Value::Text(String::new()));
            }
            row.1[c] = value;
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    with_header(rows)
}

/// A file that is not a workbook at all (or a truncated one).
fn unreadable(e: &dyn std::fmt::Display) -> ImportProblem {
    problem(0, "file", Said::fill(Msg::ImportNotAReadable, &[&e]))
}

/// "A", "B", … "AA": the column as Excel names it, for the problem list.
fn column_name(mut c: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// One person as the ledger gives them, checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PersonRow {
    pub line: usize,
    pub name: String,
    pub gender: String,
    pub relation: String,
    pub grid: String,
    pub estate: String,
    pub building: String,
    pub unit: u16,
    pub room: String,
    /// Masked; the full number is never kept.
    pub id_number_masked: Option<String>,
    pub birth_year: Option<u16>,
    /// Masked in what the console shows (see [`PersonRow::masked`]).
    pub phone: Option<String>,
    pub tags: Vec<String>,
}

impl PersonRow {
    fn is_head(&self) -> bool {
        matches!(self.relation.as_str(), "户主" | "本人")
    }

    /// The row as the console previews it: the phone masked too.
    pub fn masked(&self) -> PersonRow {
        PersonRow {
            phone: self.phone.as_deref().map(validate::mask_phone),
            ..self.clone()
        }
    }
}

/// Categories a ledger gives that say where a person stands, not what the household needs.
const PLAIN_CATEGORIES: [&str; 6] = [
    "户籍人口",
    "常住人口",
    "流动人口",
    "寄住人口",
    "境外人员",
    "户籍",
];

fn category_tags(value: &str) -> Result<Vec<HouseholdTag>, Said> {
    let mut tags = Vec::new();
    for label in value
        .split(['、', ',', '，', ';', '；', ' ', '/'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if PLAIN_CATEGORIES.contains(&label) {
            continue;
        }
        match label {
            "党员" => tags.push(HouseholdTag::PartyMemberHousehold),
            "残疾人员" => tags.push(HouseholdTag::Disabled),
            "低保对象" | "低保人员" => tags.push(HouseholdTag::LowIncome),
            other => tags.push(tag_from_label(other).ok_or_else(|| {
                Said::fill(Msg::ImportUnknownCategory, &[&format!("{:?}", other)])
            })?),
        }
    }
    Ok(tags)
}

/// Where a person lives: estate, building, unit, room.
type Place = (String, String, u16, String);

/// "联和花园12栋2单元301室" → ("联和花园", building 12, unit 2, room 301). The estate is what
/// comes before the first digit or letter.
fn split_address(value: &str) -> Result<Place, Said> {
    let normal = address::normalize(value);
    let start = normal
        .char_indices()
        .find(|(_, c)| c.is_ascii_alphanumeric())
        .map(|(i, _)| i)
        .ok_or_else(|| Said::of(Msg::ImportNoBuildingUnit))?;
    let (estate, rest) = normal.split_at(start);
    let parsed = address::parse(rest)
        .ok_or_else(|| Said::fill(Msg::ImportCannotReadAsBuilding, &[&format!("{:?}", rest)]))?;
    match (parsed.unit, parsed.room) {
        (Some(unit), Some(room)) => Ok((estate.to_string(), parsed.building, unit, room)),
        // Bungalows and small blocks have no unit: unit 1.
        (None, Some(room)) => Ok((estate.to_string(), parsed.building, 1, room)),
        _ => Err(Said::of(Msg::ImportTheAddressHasNoRoom)),
    }
}

/// The address from separate 楼栋 / 单元 / 房号 cells: "12栋" or "12", "2单元" or "2" (none: a
/// block without units, unit 1), "301室" or "301". Each problem names its own column.
fn place_of_parts(
    estate: &str,
    building: &str,
    unit: &str,
    room: &str,
) -> Result<Place, (Field, Said)> {
    let building = address::normalize(building);
    let building = building
        .trim_end_matches("号楼")
        .trim_end_matches(['栋', '幢', '座', '号'])
        .trim()
        .to_string();
    if building.is_empty() || building.chars().count() > 8 {
        return Err((Field::Building, Said::of(Msg::ImportBuildingLength)));
    }
    let unit = address::normalize(unit);
    let unit = match unit.trim_end_matches("单元").trim() {
        "" => 1,
        u => u
            .parse::<u16>()
            .ok()
            .filter(|u| (1..=99).contains(u))
            .ok_or_else(|| {
                (
                    Field::Unit,
                    Said::fill(Msg::ImportUnitNumber, &[&format!("{:?}", u)]),
                )
            })?,
    };
    let room = address::normalize(room);
    let room = match room.trim_end_matches('室').trim() {
        "" => return Err((Field::Room, Said::of(Msg::Required))),
        r => validate::room(r).map_err(|e| (Field::Room, Said::invalid(&e)))?,
    };
    Ok((estate.trim().to_string(), building, unit, room))
}

/// What a ledger's columns were taken as.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mapping {
    /// (header as written, what it was taken as; `None`: not imported).
    pub columns: Vec<(String, Option<Field>)>,
}

/// A row read, before the rows of its 户号 lend it what it left blank.
struct Draft {
    line: usize,
    name: Result<String, ()>,
    gender: String,
    relation: String,
    grid: String,
    household_no: String,
    place: Option<Place>,
    /// Whether the row wrote an address at all (a wrong one is reported where it is read).
    address_written: bool,
    id: Option<String>,
    phone: Option<String>,
    tags: Vec<HouseholdTag>,
}

/// Read and check every row of a ledger, without a database: the part that is fuzzed.
pub fn parse(bytes: &[u8]) -> Result<(Mapping, Vec<PersonRow>), Vec<ImportProblem>> {
    let sheet = read_sheet(bytes)?;
    let fields: Vec<Option<Field>> = sheet.header.iter().map(|h| Field::of_header(h)).collect();
    let has = |f: Field| fields.contains(&Some(f));
    let mut problems: Vec<ImportProblem> = Vec::new();
    for f in Field::REQUIRED {
        if !has(f) {
            let also = f.synonyms().join("、");
            problems.push(problem(
                1,
                f.label(),
                Said::fill(Msg::ImportColumnMissingAlso, &[&also]),
            ));
        }
    }
    let parts = has(Field::Building) && has(Field::Room);
    if !has(Field::Address) && !parts {
        let also = Field::Address.synonyms().join("、");
        problems.push(problem(
            1,
            Field::Address.label(),
            Said::fill(Msg::ImportNoAddressGive, &[&also]),
        ));
    }
    for (i, f) in fields.iter().enumerate() {
        if let Some(f) = f
            && fields[..i].contains(&Some(*f))
        {
            problems.push(problem(
                1,
                &sheet.header[i],
                Said::fill(Msg::ImportASecondColumn, &[&f.label()]),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mapping = Mapping {
        columns: sheet
            .header
            .iter()
            .cloned()
            .zip(fields.iter().copied())
            .collect(),
    };
    let mut drafts = Vec::new();
    for (line, cells) in &sheet.rows {
        let line = *line;
        let cell = |f: Field| {
            fields
                .iter()
                .position(|x| *x == Some(f))
                .and_then(|c| cells.get(c))
        };
        let text = |f: Field| cell(f).map(Value::text).unwrap_or_default();
        if cells.iter().all(|c| c.text().is_empty()) {
            continue;
        }
        let mut bad = |f: Field, m: Said| {
            problems.push(ImportProblem {
                line,
                field: f.label().into(),
                message: m,
            })
        };
        let name = validate::text("name", &text(Field::Name), validate::limits::NAME, true)
            .map_err(|e| bad(Field::Name, Said::invalid(&e)));
        let combined = text(Field::Address);
        let address_written = !combined.is_empty()
            || !text(Field::Building).is_empty()
            || !text(Field::Room).is_empty();
        let place = if !combined.is_empty() {
            split_address(&combined)
                .map_err(|m| bad(Field::Address, m))
                .ok()
        } else if !text(Field::Building).is_empty() || !text(Field::Room).is_empty() {
            place_of_parts(
                &text(Field::Estate),
                &text(Field::Building),
                &text(Field::Unit),
                &text(Field::Room),
            )
            .map_err(|(f, m)| bad(f, m))
            .ok()
        } else {
            // Left blank: the household's row (same 户号) may carry it; checked below.
            None
        };
        let gender = match text(Field::Gender).as_str() {
            "" => String::new(),
            g @ ("男" | "女") => g.to_string(),
            other => {
                bad(
                    Field::Gender,
                    Said::fill(Msg::ImportSexMaleOrFemale, &[&format!("{:?}", other)]),
                );
                String::new()
            }
        };
        let relation = text(Field::Relation);
        if relation.chars().count() > 10 {
            bad(Field::Relation, Said::of(Msg::ImportAtMost10));
        }
        let id = match cell(Field::IdNumber) {
            None => None,
            Some(Value::Number(_)) => {
                bad(Field::IdNumber, Said::of(Msg::ImportStoredAsANumber));
                None
            }
            Some(v) if v.text().is_empty() => None,
            Some(v) => validate::id_number(&v.text())
                .map_err(|e| bad(Field::IdNumber, Said::invalid(&e)))
                .ok(),
        };
        let phone = match text(Field::Phone).as_str() {
            "" => None,
            p => validate::phone(p)
                .map_err(|e| bad(Field::Phone, Said::invalid(&e)))
                .ok(),
        };
        let tags = category_tags(&text(Field::Category))
            .map_err(|m| bad(Field::Category, m))
            .unwrap_or_default();
        drafts.push(Draft {
            line,
            name,
            gender,
            relation,
            grid: text(Field::Grid),
            household_no: text(Field::HouseholdNo),
            place,
            address_written,
            id,
            phone,
            tags,
        });
    }
    // A household's rows lend each other their address and grid by 户号; one 户号 in two rooms
    // is two households written as one, and is refused.
    let mut of_household: HashMap<&str, (Option<&Place>, &str, usize)> = HashMap::new();
    for d in drafts.iter().filter(|d| !d.household_no.is_empty()) {
        let entry = of_household
            .entry(d.household_no.as_str())
            .or_insert((None, "", d.line));
        if let Some(place) = &d.place {
            match entry.0 {
                None => entry.0 = Some(place),
                Some(first) if first.1 != place.1 || first.2 != place.2 || first.3 != place.3 => {
                    problems.push(problem(
                        d.line,
                        Field::HouseholdNo.label(),
                        Said::fill(Msg::ImportIsAnotherRoom, &[&d.household_no, &entry.2]),
                    ));
                }
                Some(_) => {}
            }
        }
        if entry.1.is_empty() {
            entry.1 = &d.grid;
        }
    }
    let mut people = Vec::new();
    for d in &drafts {
        let lent = of_household.get(d.household_no.as_str());
        let place = d.place.clone().or_else(|| lent.and_then(|l| l.0.cloned()));
        let grid = if d.grid.is_empty() {
            lent.map(|l| l.1.to_string()).unwrap_or_default()
        } else {
            d.grid.clone()
        };
        if grid.is_empty() {
            problems.push(problem(
                d.line,
                Field::Grid.label(),
                Said::of(Msg::Required),
            ));
        }
        let Some((estate, building, unit, room)) = place else {
            if !d.address_written {
                problems.push(problem(
                    d.line,
                    Field::Address.label(),
                    Said::of(Msg::ImportRequiredOrOnARow),
                ));
            }
            continue;
        };
        let Ok(name) = d.name.clone() else { continue };
        people.push(PersonRow {
            line: d.line,
            name,
            gender: d.gender.clone(),
            relation: d.relation.clone(),
            grid,
            estate,
            building,
            unit,
            room,
            birth_year: d
                .id
                .as_deref()
                .and_then(|i| i.get(6..10))
                .and_then(|y| y.parse().ok()),
            id_number_masked: d.id.as_deref().map(validate::mask_id_number),
            phone: d.phone.clone(),
            tags: d.tags.iter().map(|t| t.code().to_string()).collect(),
        });
    }
    if problems.is_empty() {
        Ok((mapping, people))
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

/// A room of a grid: (grid, building number, unit, room), what a household is found by.
type Room = (Uuid, String, u16, String);

/// What an import did, or would do.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Plan {
    pub mapping: Vec<(String, Option<Field>)>,
    /// The first rows, phones masked.
    pub preview: Vec<PersonRow>,
    pub people: usize,
    pub households_new: usize,
    pub households_existing: usize,
    pub residents_new: usize,
    pub residents_existing: usize,
    pub buildings_new: usize,
    pub problems: Vec<ImportProblem>,
    /// Whether it was written.
    pub committed: bool,
}

/// Plan the import of a ledger into `grids` (the caller's), and write it when `commit` and the
/// plan has no problem — all in the one write transaction `tx`.
pub fn plan(tx: &mut dyn WriteTx, grids: &[Uuid], bytes: &[u8], commit: bool) -> StoreResult<Plan> {
    let (mapping, people) = match parse(bytes) {
        Ok(p) => p,
        Err(problems) => {
            return Ok(Plan {
                problems,
                ..Plan::default()
            });
        }
    };
    let grid_records: Vec<GridRecord> = crate::store::office::records(tx, Entity::Grid, grids)?;
    let by_name: HashMap<&str, &GridRecord> = grid_records
        .iter()
        .flat_map(|g| [(g.name.as_str(), g), (g.code.as_str(), g)])
        .collect();
    let buildings: HashMap<(Uuid, String), Uuid> =
        crate::store::office::records::<BuildingRecord>(tx, Entity::Building, grids)?
            .into_iter()
            .map(|b| ((b.grid_id, b.number), b.id))
            .collect();
    let households: Vec<HouseholdRecord> =
        crate::store::office::records(tx, Entity::Household, grids)?;
    let household_at: HashMap<(Uuid, Uuid, u16, String), Uuid> = households
        .iter()
        .map(|h| ((h.grid_id, h.building_id, h.unit, h.room.clone()), h.id))
        .collect();
    let mut residents_of: HashMap<Uuid, Vec<(String, Option<String>)>> = HashMap::new();
    for r in crate::store::office::records::<ResidentRecord>(tx, Entity::Resident, grids)? {
        residents_of
            .entry(r.household_id)
            .or_default()
            .push((r.name, r.id_number_masked));
    }

    let mut out = Plan {
        mapping: mapping.columns,
        preview: people.iter().take(10).map(PersonRow::masked).collect(),
        people: people.len(),
        ..Plan::default()
    };
    // Group by room, in file order.
    let mut rooms: Vec<(Room, Vec<&PersonRow>)> = Vec::new();
    let mut room_index: HashMap<Room, usize> = HashMap::new();
    for p in &people {
        let Some(grid) = by_name.get(p.grid.as_str()) else {
            out.problems.push(problem(
                p.line,
                Field::Grid.label(),
                Said::fill(Msg::ImportNoGridOfYours, &[&format!("{:?}", p.grid)]),
            ));
            continue;
        };
        let key = (grid.id, p.building.clone(), p.unit, p.room.clone());
        let i = *room_index.entry(key.clone()).or_insert_with(|| {
            rooms.push((key, Vec::new()));
            rooms.len() - 1
        });
        rooms[i].1.push(p);
    }
    for (_, members) in &rooms {
        for (i, p) in members.iter().enumerate() {
            if let Some(first) = members[..i]
                .iter()
                .find(|q| same_person(&q.name, q.id_number_masked.as_deref(), p))
            {
                out.problems.push(problem(
                    p.line,
                    Field::Name.label(),
                    Said::fill(Msg::ImportTheSameName, &[&first.line]),
                ));
            }
        }
    }
    if !out.problems.is_empty() {
        return Ok(out);
    }
    let mut new_buildings: HashMap<(Uuid, String), Uuid> = HashMap::new();
    for ((grid, building, unit, room), members) in &rooms {
        let head = members.iter().find(|p| p.is_head()).unwrap_or(&members[0]);
        let existing_building = buildings.get(&(*grid, building.clone())).copied();
        let building_id = match existing_building
            .or_else(|| new_buildings.get(&(*grid, building.clone())).copied())
        {
            Some(b) => b,
            None => {
                let id = Uuid::now_v7();
                new_buildings.insert((*grid, building.clone()), id);
                out.buildings_new += 1;
                if commit {
                    let g = grid_records.iter().find(|g| g.id == *grid);
                    let (lat, lon) = g.map(super::grid_centre).unwrap_or_default();
                    put(
                        tx,
                        Entity::Building,
                        id,
                        *grid,
                        id,
                        &BuildingRecord {
                            id,
                            grid_id: *grid,
                            number: building.clone(),
                            estate: head.estate.clone(),
                            units: *unit,
                            floors: 1,
                            lat,
                            lon,
                        },
                    )?;
                }
                id
            }
        };
        let known = existing_building
            .and_then(|b| household_at.get(&(*grid, b, *unit, room.clone())).copied());
        let household_id = match known {
            Some(h) => {
                out.households_existing += 1;
                h
            }
            None => {
                out.households_new += 1;
                let id = Uuid::now_v7();
                if commit {
                    let mut tags: Vec<String> =
                        members.iter().flat_map(|p| p.tags.clone()).collect();
                    tags.sort();
                    tags.dedup();
                    let typed: Vec<HouseholdTag> = tags
                        .iter()
                        .filter_map(|t| HouseholdTag::from_code(t))
                        .collect();
                    put(
                        tx,
                        Entity::Household,
                        id,
                        *grid,
                        building_id,
                        &HouseholdRecord {
                            id,
                            grid_id: *grid,
                            building_id,
                            unit: *unit,
                            room: room.clone(),
                            address: gridmate_model::community::household_address(
                                &head.estate,
                                building,
                                *unit,
                                room,
                            ),
                            head_name: head.name.clone(),
                            tags,
                            visit_cadence_days: gridmate_model::community::cadence_for(&typed),
                            last_visit_at: None,
                        },
                    )?;
                }
                id
            }
        };
        let present = residents_of.get(&household_id);
        for p in members {
            if present.is_some_and(|known| {
                known
                    .iter()
                    .any(|(name, id)| same_person(name, id.as_deref(), p))
            }) {
                out.residents_existing += 1;
                continue;
            }
            out.residents_new += 1;
            if commit {
                let id = Uuid::now_v7();
                put(
                    tx,
                    Entity::Resident,
                    id,
                    *grid,
                    building_id,
                    &ResidentRecord {
                        id,
                        household_id,
                        name: p.name.clone(),
                        relation: if p.relation.is_empty() {
                            "其他".into()
                        } else {
                            p.relation.clone()
                        },
                        birth_year: p.birth_year,
                        phone_masked: p.phone.as_deref().map(validate::mask_phone),
                        phone: p.phone.clone(),
                        id_number_masked: p.id_number_masked.clone(),
                        tags: p.tags.clone(),
                        moved_out: false,
                    },
                )?;
            }
        }
    }
    out.committed = commit;
    Ok(out)
}

/// Whether a row is a person already known by `name` and (masked) ID number: the ID decides when
/// both have one — two people of one name in one room are told apart by it —, else the name.
fn same_person(name: &str, id_masked: Option<&str>, p: &PersonRow) -> bool {
    name == p.name
        && match (id_masked, p.id_number_masked.as_deref()) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

fn put<T: Serialize>(
    tx: &mut dyn WriteTx,
    entity: Entity,
    id: Uuid,
    grid: Uuid,
    building: Uuid,
    record: &T,
) -> StoreResult<()> {
    admin::put(
        tx,
        &PutRecord {
            entity,
            id,
            grid_id: Some(grid),
            building_id: Some(building),
            owner_id: None,
            data: serde_json::to_value(record)
                .map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?,
        },
    )
    .map(drop)
}

/// Bytes read from an upload, at most [`MAX_FILE_BYTES`] of them.
pub fn read_limited(mut r: impl Read) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    r.by_ref()
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_taken_by_their_synonyms() {
        assert_eq!(Field::of_header("现住址"), Some(Field::Address));
        assert_eq!(Field::of_header(" 手机号 "), Some(Field::Phone));
        assert_eq!(Field::of_header("*姓名"), Some(Field::Name));
        for address in ["门牌地址", "门牌号", "详细地址", "房屋坐落"] {
            assert_eq!(Field::of_header(address), Some(Field::Address), "{address}");
        }
        assert_eq!(Field::of_header("民族"), None);
    }

    #[test]
    fn a_combined_address_splits_into_estate_and_room() {
        assert_eq!(
            split_address("联和花园12栋2单元301室").unwrap(),
            ("联和花园".into(), "12".into(), 2, "301".into())
        );
        assert_eq!(
            split_address("联和花园１２－２－３０１").unwrap(),
            ("联和花园".into(), "12".into(), 2, "301".into())
        );
        assert!(split_address("联和花园").is_err());
        assert!(split_address("联和花园12栋").is_err());
    }

    #[test]
    fn excel_column_names() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(27), "AB");
    }

    #[test]
    fn a_csv_in_gbk_reads_like_utf8() {
        let text = "姓名,所属网格,地址,与户主关系,联系电话\n黄伯,联和第一网格,联和花园3栋1单元201室,户主,13800138000\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let (mapping, people) = parse(&gbk).unwrap();
        assert_eq!(mapping.columns[0], ("姓名".into(), Some(Field::Name)));
        assert_eq!(people.len(), 1);
        assert_eq!(people[0].name, "黄伯");
        assert_eq!(people[0].room, "201");
        assert_eq!(parse(text.as_bytes()).unwrap().1, people);
    }
}
