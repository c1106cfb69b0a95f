//! A [`Scope`] as an SQL condition over the `records` columns.
//!
//! The rules are [`Scope::admits`]'s, put together by [`Scope::to_sql`]; this only spells the
//! membership tests. Lists travel as JSON text read with `json_each` (one statement per shape,
//! whatever the number of grids).

use crate::store::scope::Scope;

/// The condition, over columns prefixed by `t` ("" or "r."), and its parameters:
/// ?1 the grids, ?2 the buildings (JSON arrays), ?3 the owner.
pub fn condition(scope: &Scope, t: &str) -> (String, [String; 3]) {
    (
        scope.to_sql(
            t,
            |c| format!("{c} IN (SELECT value FROM json_each(?1))"),
            |c| format!("{c} IN (SELECT value FROM json_each(?2))"),
            |c| format!("{c} = ?3"),
        ),
        [
            json_list(&scope.grids),
            json_list(&scope.buildings),
            scope.owner.to_string(),
        ],
    )
}

pub fn json_list(ids: &[uuid::Uuid]) -> String {
    serde_json::to_string(&ids.iter().map(|g| g.to_string()).collect::<Vec<_>>())
        .unwrap_or_default()
}
