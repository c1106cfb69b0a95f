//! The office's imports: a community's per-person ledger (实有人口台账) and its grids' base maps,
//! each planned as a dry run and, with `commit`, written in one transaction with its audit line.
//! The console and the JSON API run these; neither parses a file itself.

use super::people::must_administer;
use super::state::AppState;
use crate::error::ApiError;
use crate::import::ImportProblem;
use crate::import::{base_map, people};
use crate::store::{Backend, Principal, admin};

/// Plan, and with `commit` write, a community's per-person ledger into the caller's grids, in one
/// write transaction (community office only).
pub async fn people_file(
    state: &AppState,
    p: Principal,
    bytes: Vec<u8>,
    commit: bool,
) -> Result<people::Plan, ApiError> {
    must_administer(&p)?;
    state
        .store
        .write(move |tx| {
            let plan = people::plan(tx, &p.grids, &bytes, commit)?;
            if plan.committed {
                admin::audit(
                    tx,
                    p.user_id,
                    "import_people",
                    "",
                    &format!(
                        "{} households, {} residents",
                        plan.households_new, plan.residents_new
                    ),
                )?;
            }
            Ok(plan)
        })
        .await
        .map_err(Into::into)
}

/// Plan, and with `commit` write, the base maps of the caller's grids from a GeoJSON file, in one
/// write transaction (community office only). `Ok(Err(problems))`: the file was refused.
pub async fn base_map_file(
    state: &AppState,
    p: Principal,
    bytes: Vec<u8>,
    commit: bool,
) -> Result<Result<base_map::Plan, Vec<ImportProblem>>, ApiError> {
    must_administer(&p)?;
    state
        .store
        .write(move |tx| {
            let planned = base_map::plan(tx, &p.grids, &bytes, commit)?;
            if let Ok(plan) = &planned
                && plan.committed
            {
                admin::audit(
                    tx,
                    p.user_id,
                    "import_base_map",
                    "",
                    &format!("{} grids", plan.grids.len()),
                )?;
            }
            Ok(planned)
        })
        .await
        .map_err(Into::into)
}
