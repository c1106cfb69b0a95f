//! A [`Scope`] as an SQL condition over the `records` columns.
//!
//! The rules are [`Scope::admits`]'s; this only spells them in SQL. Lists travel as JSON text
//! read with `json_each` (one statement per shape, whatever the number of grids); entity codes
//! are the protocol's fixed snake_case words, never user input.

use crate::store::scope::{Rule, Scope};
use gridmate_protocol::Entity;

/// The condition, over columns prefixed by `t` ("" or "r."), and its parameters:
/// ?1 the grids, ?2 the buildings (JSON arrays), ?3 the owner.
pub fn condition(scope: &Scope, t: &str) -> (String, [String; 3]) {
    let codes = |entities: &[Entity]| {
        entities
            .iter()
            .map(|e| format!("'{}'", e.code()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let parts: Vec<String> = scope
        .rules
        .iter()
        .map(|rule| match rule {
            Rule::Grids => format!("{t}grid_id IN (SELECT value FROM json_each(?1))"),
            Rule::Buildings => format!("{t}building_id IN (SELECT value FROM json_each(?2))"),
            Rule::EntitiesInGrids(entities) => format!(
                "({t}entity IN ({}) AND {t}grid_id IN (SELECT value FROM json_each(?1)))",
                codes(entities)
            ),
            Rule::EntitiesOwned(entities) => {
                format!("({t}entity IN ({}) AND {t}owner_id = ?3)", codes(entities))
            }
        })
        .collect();
    let sql = if parts.is_empty() {
        "0".to_string()
    } else {
        format!("({})", parts.join(" OR "))
    };
    (
        sql,
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
