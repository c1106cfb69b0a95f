//! The grids' base maps (底图) as pulled: kept as their features' JSON, one row per grid, and read
//! back whole for the map. The office imports them; a phone never edits one.

use crate::Result;
use crate::store::Store;
use gridmate_model::{BaseMap, GridId};
use gridmate_protocol::records::{BaseMapRecord, MapFeatureRecord};
use rusqlite::{OptionalExtension, Transaction, params};

/// Store pulled base maps, each replacing its grid's (a re-import gives a grid a new record).
pub(crate) fn write_pulled(tx: &Transaction<'_>, maps: &[BaseMapRecord]) -> Result<usize> {
    let mut drop_old =
        tx.prepare_cached("DELETE FROM base_maps WHERE grid_id = ?1 AND id <> ?2")?;
    let mut put = tx.prepare_cached(
        "INSERT INTO base_maps (id, grid_id, features) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET grid_id = excluded.grid_id, features = excluded.features",
    )?;
    for m in maps {
        drop_old.execute(params![m.grid_id, m.id])?;
        let features = serde_json::to_string(&m.features)
            .map_err(|e| crate::DeviceError::Corrupt(e.to_string()))?;
        put.execute(params![m.id, m.grid_id, features])?;
    }
    Ok(maps.len())
}

impl Store {
    /// The grid's base map, if the office has imported one; features this version cannot read
    /// are left out.
    pub fn base_map(&self, grid: GridId) -> Result<Option<BaseMap>> {
        let features: Option<String> = self
            .conn
            .query_row(
                "SELECT features FROM base_maps WHERE grid_id = ?1",
                [grid.0],
                |r| r.get(0),
            )
            .optional()?;
        let Some(features) = features else {
            return Ok(None);
        };
        let features: Vec<MapFeatureRecord> = serde_json::from_str(&features)
            .map_err(|e| crate::DeviceError::Corrupt(e.to_string()))?;
        Ok(Some(BaseMap {
            grid_id: grid,
            features: features.iter().filter_map(|f| f.to_model().ok()).collect(),
        }))
    }
}
