//! When a household is next due a visit: its last visit and its cadence. The one rule, used by
//! the cache when it loads visit history and by the visit writer when a visit is recorded.

use crate::Result;
use crate::time::DAY_MS;
use gridmate_model::HouseholdId;
use rusqlite::{Transaction, params};

/// After one new visit: move the household's last visit and due time forward (never back).
pub(crate) fn note_visit(
    tx: &Transaction<'_>,
    household: HouseholdId,
    started_ms: i64,
) -> Result<()> {
    tx.execute(
        "UPDATE households
            SET last_visit_at = MAX(COALESCE(last_visit_at, 0), ?2),
                due_at = MAX(COALESCE(last_visit_at, 0), ?2) + visit_cadence_days * ?3
          WHERE id = ?1",
        params![household.0, started_ms, DAY_MS],
    )?;
    Ok(())
}
