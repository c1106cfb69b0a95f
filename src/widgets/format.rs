//! How times, distances and verdicts are written, and the small marks every list uses: the
//! one-character category icon, the status chip and the office's number of an issue or order.

use crate::i18n::{Labelled, Lang, Msg};
use chrono::{DateTime, FixedOffset, Utc};
use dioxus::prelude::*;
use gridmate_model::{GeoVerdict, IssueCategory, IssueStatus};

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// "11-20 14:05", China time.
pub fn china_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&cst()).format("%m-%d %H:%M").to_string()
}

/// "2026-11-20", China time.
pub fn china_date(t: DateTime<Utc>) -> String {
    t.with_timezone(&cst()).format("%Y-%m-%d").to_string()
}

pub fn metres(m: f64) -> String {
    if m.abs() >= 1000.0 {
        format!("{:.1} km", m / 1000.0)
    } else {
        format!("{:.0} m", m)
    }
}

pub fn verdict_label(v: GeoVerdict, lang: Lang) -> &'static str {
    match v {
        GeoVerdict::Inside => lang.t(Msg::InsideTheGrid),
        GeoVerdict::Outside => lang.t(Msg::OutsideTheGrid),
        GeoVerdict::Uncertain => lang.t(Msg::TooImpreciseToTell),
    }
}

/// A one-character icon per category: readable in sunlight, no icon font, no image to load.
pub fn category_icon(c: IssueCategory) -> &'static str {
    match c {
        IssueCategory::FireSafety => "火",
        IssueCategory::Sanitation => "洁",
        IssueCategory::BrokenFacility => "修",
        IssueCategory::Dispute => "调",
        IssueCategory::Noise => "噪",
        IssueCategory::IllegalConstruction => "违",
        IssueCategory::ResidentNeed => "需",
        IssueCategory::Pollution => "污",
        IssueCategory::Other => "他",
    }
}

#[component]
pub fn StatusChip(status: IssueStatus, lang: Lang) -> Element {
    rsx! { span { class: "chip status-{status.code()}", {status.label(lang)} } }
}

/// The office's number of an issue or order, or that it has none until uploaded.
#[component]
pub fn CaseNumberLine(number: Option<String>, lang: Lang) -> Element {
    rsx! {
        match number {
            Some(n) => rsx! { p { class: "number", {lang.t1(Msg::CaseNumber, &n)} } },
            None => rsx! { p { class: "number muted small", {lang.t(Msg::CaseNumberAwaited)} } },
        }
    }
}
