//! The time limits (办理时限) the office sets per category and severity, read with their
//! defaults and set all or none, audited.

use super::people::must_administer;
use super::state::AppState;
use crate::error::ApiError;
use crate::store::{Backend, Principal, StoreError, admin};

/// One time limit as the office reads and sets it.
#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TimeLimitEntry {
    pub category: String,
    pub severity: String,
    pub hours: u32,
    /// The default when the office sets none (read only).
    #[serde(default, skip_deserializing)]
    pub default_hours: u32,
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
        .map(|(c, s)| TimeLimitEntry {
            category: c.code().into(),
            severity: s.code().into(),
            hours: limits.limit(c, s).num_hours() as u32,
            default_hours: gridmate_model::issue::time_limit(c, s).num_hours() as u32,
        })
        .collect()
}

/// Set some limits (the others keep theirs); all or none, audited.
pub async fn set(
    state: &AppState,
    p: Principal,
    entries: Vec<(String, String, u32)>,
) -> Result<(), ApiError> {
    use gridmate_model::{IssueCategory, Severity};
    must_administer(&p)?;
    state
        .store
        .write(move |tx| {
            let mut limits = crate::store::limits::load(tx)?;
            let mut changed = Vec::new();
            for (c, s, hours) in &entries {
                let (Some(cat), Some(sev)) = (IssueCategory::from_code(c), Severity::from_code(s))
                else {
                    return Err(StoreError::Invalid(format!(
                        "no category {c:?} or severity {s:?}"
                    )));
                };
                if limits.limit(cat, sev).num_hours() as u32 != *hours {
                    changed.push(format!("{c}/{s}={hours}h"));
                }
                limits
                    .set(cat, sev, *hours)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
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
