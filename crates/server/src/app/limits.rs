//! The time limits (办理时限) and escalation ladders (超时督办) the office sets per category and
//! severity, read with their defaults and set all or none, audited.

use super::people::must_administer;
use super::state::AppState;
use crate::error::ApiError;
use crate::store::{Backend, Principal, StoreError, admin};

/// One time limit and its escalation ladder as the office reads and sets them.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TimeLimitEntry {
    pub category: String,
    pub severity: String,
    pub hours: u32,
    /// The default when the office sets none (read only).
    #[serde(default, skip_deserializing)]
    pub default_hours: u32,
    /// Hours after the due time when the grid leader is told it is late (absent when setting:
    /// unchanged).
    #[serde(default)]
    pub leader_after_hours: Option<u32>,
    /// Hours after the due time when the community office is told (absent: unchanged).
    #[serde(default)]
    pub office_after_hours: Option<u32>,
}

#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TimeLimitsBody {
    pub limits: Vec<TimeLimitEntry>,
}

/// Every category and severity with the limit in force.
pub fn entries(limits: &gridmate_model::issue::TimeLimits) -> Vec<TimeLimitEntry> {
    use gridmate_model::{IssueCategory, Severity};
    IssueCategory::ALL
        .into_iter()
        .flat_map(|c| Severity::ALL.into_iter().map(move |s| (c, s)))
        .map(|(c, s)| {
            let ladder = limits.escalation(c, s);
            TimeLimitEntry {
                category: c.code().into(),
                severity: s.code().into(),
                hours: limits.limit(c, s).num_hours() as u32,
                default_hours: gridmate_model::issue::time_limit(c, s).num_hours() as u32,
                leader_after_hours: Some(ladder.leader_after_hours),
                office_after_hours: Some(ladder.office_after_hours),
            }
        })
        .collect()
}

/// Set some limits and ladders (the others keep theirs); all or none, audited.
pub async fn set(
    state: &AppState,
    p: Principal,
    entries: Vec<TimeLimitEntry>,
) -> Result<(), ApiError> {
    use gridmate_model::issue::Escalation;
    use gridmate_model::{IssueCategory, Severity};
    must_administer(&p)?;
    state
        .store
        .write(move |tx| {
            let mut limits = crate::store::limits::load(tx)?;
            let mut changed = Vec::new();
            let invalid = |e: gridmate_model::ValidationError| StoreError::Invalid(e.to_string());
            for e in &entries {
                let (c, s) = (&e.category, &e.severity);
                let (Some(cat), Some(sev)) = (IssueCategory::from_code(c), Severity::from_code(s))
                else {
                    return Err(StoreError::Invalid(format!(
                        "no category {c:?} or severity {s:?}"
                    )));
                };
                if limits.limit(cat, sev).num_hours() as u32 != e.hours {
                    changed.push(format!("{c}/{s}={}h", e.hours));
                }
                limits.set(cat, sev, e.hours).map_err(invalid)?;
                let was = limits.escalation(cat, sev);
                let ladder = Escalation {
                    leader_after_hours: e.leader_after_hours.unwrap_or(was.leader_after_hours),
                    office_after_hours: e.office_after_hours.unwrap_or(was.office_after_hours),
                };
                if ladder != was {
                    changed.push(format!(
                        "{c}/{s}:leader+{}h,office+{}h",
                        ladder.leader_after_hours, ladder.office_after_hours
                    ));
                    limits.set_escalation(cat, sev, ladder).map_err(invalid)?;
                }
            }
            crate::store::limits::save(tx, &limits)?;
            if !changed.is_empty() {
                admin::audit(tx, p.user_id, "set_time_limits", "", &changed.join(" "))?;
            }
            Ok(())
        })
        .await
        .map_err(Into::into)
}
