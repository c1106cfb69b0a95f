//! The query string of a list, a statistic or a ledger, read the same way by the JSON API and
//! the console: filters, paging, a year, a period of days in China time; and a request's
//! cookie by name, which the console and the resident pages both read.

use crate::error::ApiError;
use crate::ledger::beijing;
use crate::store::MessageState;
use crate::store::office::{HouseholdFilter, IssueFilter, OrderFilter, Paging, Period};
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use std::collections::HashMap;
use uuid::Uuid;

/// The value of the cookie `name` (exactly that name) the request carries.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A query string read leniently: an empty value is an absent one (HTML forms send `grid=`),
/// a present one must parse or the request is a 400 naming the parameter.
pub struct Params(pub HashMap<String, String>);

impl Params {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(|v| v.chars().take(100).collect())
    }

    pub fn uuid(&self, key: &str) -> Result<Option<Uuid>, ApiError> {
        self.get(key)
            .map(|v| {
                v.parse()
                    .map_err(|_| ApiError::BadRequest(format!("{key} must be a uuid")))
            })
            .transpose()
    }

    pub fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key) {
            None | Some("false" | "0") => Ok(false),
            Some("true" | "1" | "on") => Ok(true),
            Some(_) => Err(ApiError::BadRequest(format!("{key} must be true or false"))),
        }
    }

    pub fn number(&self, key: &str, default: u32) -> Result<u32, ApiError> {
        self.get(key).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| ApiError::BadRequest(format!("{key} must be a whole number")))
        })
    }

    /// `state`: one of the outbox's states (queued, sending, sent, delivered, failed, skipped).
    pub fn message_state(&self) -> Result<Option<MessageState>, ApiError> {
        self.get("state")
            .map(|v| {
                MessageState::from_code(v).ok_or_else(|| {
                    ApiError::BadRequest(
                        "state must be queued, sending, sent, delivered, failed or skipped".into(),
                    )
                })
            })
            .transpose()
    }

    pub fn paging(&self) -> Result<Paging, ApiError> {
        Ok(Paging {
            limit: self.number("limit", Paging::default().limit)?,
            offset: self.number("offset", 0)?,
        })
    }

    pub fn issue_filter(&self) -> Result<IssueFilter, ApiError> {
        Ok(IssueFilter {
            grid: self.uuid("grid")?,
            category: self.text("category"),
            status: self.text("status"),
            source: self.text("source"),
            overdue: self.flag("overdue")?,
            unassigned: self.flag("unassigned")?,
            q: self.text("q"),
        })
    }

    pub fn order_filter(&self) -> Result<OrderFilter, ApiError> {
        Ok(OrderFilter {
            grid: self.uuid("grid")?,
            kind: self.text("kind"),
            status: self.text("status"),
            overdue: self.flag("overdue")?,
            unassigned: self.flag("unassigned")?,
            q: self.text("q"),
        })
    }

    pub fn household_filter(&self) -> Result<HouseholdFilter, ApiError> {
        Ok(HouseholdFilter {
            grid: self.uuid("grid")?,
            building: self.uuid("building")?,
            vulnerable: self.flag("vulnerable")?,
            visit_overdue: self.flag("visit_overdue")?,
            unvisited_this_month: self.flag("unvisited_this_month")?,
            q: self.text("q"),
        })
    }

    /// `year`: a year from 2000 to 2100; absent, this year in China time.
    pub fn year(&self) -> Result<i32, ApiError> {
        match self.get("year") {
            None | Some("") => Ok(gridmate_model::calendar::year(Utc::now())),
            Some(y) => y
                .parse::<i32>()
                .ok()
                .filter(|y| (2000..=2100).contains(y))
                .ok_or_else(|| ApiError::BadRequest("year must be a year like 2026".into())),
        }
    }

    /// `from` and `to` are days (`2026-11-01`), `to` included, in Beijing time; absent, the
    /// last 30 days.
    pub fn period(&self) -> Result<Period, ApiError> {
        let day = |key: &str| -> Result<Option<NaiveDate>, ApiError> {
            self.get(key)
                .map(|v| {
                    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                        ApiError::BadRequest(format!("{key} must be a day like 2026-11-01"))
                    })
                })
                .transpose()
        };
        let today = Utc::now().with_timezone(&beijing()).date_naive();
        let to = day("to")?.unwrap_or(today);
        let from = day("from")?.unwrap_or(to - Duration::days(29));
        Period::new(start_of(from), start_of(to + Duration::days(1))).map_err(Into::into)
    }
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    beijing()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(m)| Params(m))
            .map_err(|e| ApiError::BadRequest(e.body_text().chars().take(300).collect()))
    }
}
