//! The rows of [`ReadTx`] and [`WriteTx`] in SQL, over one SQLite transaction (or a savepoint
//! inside one). Ids are stored as hyphenated text, times as Unix milliseconds, record data as
//! JSON text.

use super::filter::{condition, json_list};
use crate::store::scope::Scope;
use crate::store::*;
use chrono::DateTime;
use gridmate_model::{Hlc, Role};
use gridmate_protocol::{Entity, ErrorDetail, PushStatus};
use rusqlite::{Connection, OptionalExtension, params};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use uuid::Uuid;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(Box::new(e))
    }
}

/// One transaction (or savepoint) as the store's policy modules see it.
pub struct SqliteTx<'a> {
    pub conn: &'a Connection,
}

fn uuid_opt(s: Option<String>) -> Option<Uuid> {
    s.and_then(|s| s.parse().ok())
}

fn uuid(s: &str, what: &str) -> Result<Uuid> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what} is not a uuid")))
}

/// The columns [`message_columns`] reads, in its order.
const MESSAGE_COLUMNS: &str =
    "id, trigger_key, recipient_id, address, notice, params, link, urgent,
     grid_id, created_at, state, attempts, next_at, claimed_by, provider, provider_ref, words,
     settled_at";

/// A message's columns as SQLite holds them, to be checked by [`message_row`].
type MessageColumns = (
    (String, String, String, String, String, String, String, bool),
    (Option<String>, i64, String, u32, i64, Option<String>),
    (Option<String>, Option<String>, Option<String>, Option<i64>),
);

fn message_columns(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageColumns> {
    Ok((
        (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ),
        (
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
            r.get(11)?,
            r.get(12)?,
            r.get(13)?,
        ),
        (r.get(14)?, r.get(15)?, r.get(16)?, r.get(17)?),
    ))
}

fn message_row(c: MessageColumns) -> Result<MessageRow> {
    let ((id, trigger_key, recipient, address, notice, params, link, urgent), more, last) = c;
    let (grid, created_at_ms, state, attempts, next_at_ms, claimed_by) = more;
    let (provider, provider_ref, words, settled_at_ms) = last;
    Ok(MessageRow {
        id: uuid(&id, "message id")?,
        trigger_key,
        recipient_id: uuid(&recipient, "message recipient")?,
        address,
        notice,
        params: MessageRow::params_from_json(&params)
            .ok_or_else(|| StoreError::Corrupt(format!("message {id}: parameters")))?,
        link,
        urgent,
        grid_id: uuid_opt(grid),
        created_at_ms,
        state: MessageState::from_code(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("message {id}: state {state}")))?,
        attempts,
        next_at_ms,
        claimed_by,
        provider,
        provider_ref,
        words,
        settled_at_ms,
    })
}

fn roles_from(s: &str) -> Vec<Role> {
    s.split(',').filter_map(Role::from_code).collect()
}

fn ids_text(ids: Option<Uuid>) -> Option<String> {
    ids.map(|i| i.to_string())
}

/// The few distinct words of a fact column (categories, statuses, actions), numbered so that a
/// group's key is copied, not allocated, per row.
#[derive(Default)]
struct Words {
    index: HashMap<String, u32>,
    words: Vec<String>,
}

impl Words {
    /// 0 is no word.
    fn index(&mut self, word: Option<&str>) -> u32 {
        let Some(w) = word else { return 0 };
        if let Some(i) = self.index.get(w) {
            return *i;
        }
        self.words.push(w.to_string());
        let i = self.words.len() as u32;
        self.index.insert(w.to_string(), i);
        i
    }

    fn word(&self, i: u32) -> Option<String> {
        i.checked_sub(1).map(|i| self.words[i as usize].clone())
    }
}

impl ReadTx for SqliteTx<'_> {
    fn record(&mut self, entity: Entity, id: Uuid) -> Result<Option<StoredRecord>> {
        let row = self
            .conn
            .prepare_cached("SELECT seq, grid_id, building_id, owner_id, deleted, data FROM records WHERE entity = ?1 AND id = ?2")?
            .query_row(params![entity.code(), id.to_string()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, bool>(4)?, r.get::<_, String>(5)?))
            })
            .optional()?;
        row.map(|(seq, g, b, o, deleted, data)| {
            Ok(StoredRecord {
                seq: seq as u64,
                grid_id: uuid_opt(g),
                building_id: uuid_opt(b),
                owner_id: uuid_opt(o),
                deleted,
                data: serde_json::from_str(&data)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            })
        })
        .transpose()
    }

    fn grids_changed_after(&mut self, after: u64) -> Result<Vec<Option<Uuid>>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT DISTINCT grid_id FROM records WHERE seq > ?1")?;
        let rows = st
            .query_map([after as i64], |r| r.get::<_, Option<String>>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows.into_iter().map(uuid_opt).collect())
    }

    fn head(&mut self) -> Result<u64> {
        Ok(self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM records")?
            .query_row([], |r| r.get::<_, i64>(0))? as u64)
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    fn feed_page(
        &mut self,
        scope: &Scope,
        after: u64,
        hide_tombstones_through: u64,
        limit: u32,
    ) -> Result<Vec<FeedRow>> {
        let (filter, args) = condition(scope, "");
        let page_of = |condition: &str| {
            format!(
                "SELECT seq, entity, id, deleted, data FROM records
                  WHERE seq > ?4 AND NOT (deleted = 1 AND seq <= ?6) AND {condition}
                  ORDER BY seq LIMIT ?5"
            )
        };
        // Several whole grids: each grid's slice comes ordered off (grid_id, seq), and merging
        // a few short lists beats sorting the whole scope for every page.
        let per_grid = scope.is_whole_grids() && scope.grids.len() > 1;
        let sql = if per_grid {
            let slices: Vec<String> = (0..scope.grids.len())
                .map(|i| {
                    format!(
                        "SELECT * FROM ({})",
                        page_of(&format!("grid_id = ?{}", 7 + i))
                    )
                })
                .collect();
            format!("{} ORDER BY seq LIMIT ?5", slices.join(" UNION ALL "))
        } else {
            page_of(&filter)
        };
        let [grids, buildings, owner] = args;
        let mut values: Vec<rusqlite::types::Value> = vec![
            grids.into(),
            buildings.into(),
            owner.into(),
            (after as i64).into(),
            i64::from(limit).into(),
            (hide_tombstones_through as i64).into(),
        ];
        if per_grid {
            values.extend(scope.grids.iter().map(|g| g.to_string().into()));
        }
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(values), |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, entity, id, deleted, data) = row?;
            out.push(FeedRow {
                seq,
                entity: Entity::from_code(&entity),
                id: uuid(&id, "record id")?,
                deleted,
                data,
            });
        }
        Ok(out)
    }

    fn live_keys(&mut self, scope: &Scope, through: u64) -> Result<Vec<(Entity, Uuid, u64)>> {
        let (filter, [grids, buildings, owner]) = condition(scope, "");
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT entity, id, seq FROM records WHERE deleted = 0 AND seq <= ?4 AND {filter}"
        ))?;
        let rows = st.query_map(params![grids, buildings, owner, through as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (entity, id, seq) = row?;
            out.push((
                Entity::from_code(&entity),
                uuid(&id, "record id")?,
                seq as u64,
            ));
        }
        Ok(out)
    }

    fn grid_digests(&mut self, grids: &[Uuid]) -> Result<Vec<GridDigest>> {
        // Every record written folds itself into its grid's digest, one grid at a time: there a
        // plain key lookup costs a tenth of setting up json_each.
        let (mut st, arg) = match grids {
            [grid] => (
                self.conn
                    .prepare_cached("SELECT count, digest FROM grid_digests WHERE grid_id = ?1")?,
                grid.to_string(),
            ),
            _ => (
                self.conn.prepare_cached(
                    "SELECT count, digest FROM grid_digests WHERE grid_id IN (SELECT value FROM json_each(?1))",
                )?,
                json_list(grids),
            ),
        };
        let rows = st.query_map([arg], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (count, bytes) = row?;
            let digest = <[u8; 16]>::try_from(bytes.as_slice())
                .map_err(|_| StoreError::Corrupt("a grid digest is not 16 bytes".into()))?;
            out.push(GridDigest { count, digest });
        }
        Ok(out)
    }

    fn live_data(&mut self, entity: Entity) -> Result<Vec<String>> {
        let mut st = self.conn.prepare_cached(
            "SELECT data FROM records WHERE entity = ?1 AND deleted = 0 ORDER BY seq",
        )?;
        let rows = st.query_map([entity.code()], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn live_in_grids(&mut self, entity: Entity, grids: &[Uuid]) -> Result<Vec<String>> {
        let mut st = self.conn.prepare_cached(
            "SELECT data FROM records WHERE entity = ?1 AND deleted = 0 AND grid_id IN (SELECT value FROM json_each(?2)) ORDER BY seq",
        )?;
        let rows = st.query_map(params![entity.code(), json_list(grids)], |r| {
            r.get::<_, String>(0)
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn live_with_status(
        &mut self,
        entity: Entity,
        grids: &[Uuid],
        statuses: &[&str],
    ) -> Result<Vec<String>> {
        let mut st = self.conn.prepare_cached(
            "SELECT r.data FROM facts f JOIN records r ON r.entity = f.entity AND r.id = f.id
             WHERE f.entity = ?1 AND f.status IN (SELECT value FROM json_each(?3))
               AND f.grid_id IN (SELECT unhex(value, '-') FROM json_each(?2))
             ORDER BY r.seq",
        )?;
        let statuses = serde_json::to_string(statuses).unwrap_or_default();
        let rows = st.query_map(params![entity.code(), json_list(grids), statuses], |r| {
            r.get::<_, String>(0)
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn late(
        &mut self,
        entity: Entity,
        kind: Option<&str>,
        statuses: &[&str],
        before_ms: i64,
    ) -> Result<Vec<String>> {
        let mut st = self.conn.prepare_cached(
            "SELECT r.data FROM facts f JOIN records r ON r.entity = f.entity AND r.id = f.id
             WHERE f.entity = ?1 AND f.until < ?2 AND (?3 IS NULL OR f.kind = ?3)
               AND (?4 = '[]' OR f.status IN (SELECT value FROM json_each(?4)))
             ORDER BY r.seq",
        )?;
        let statuses = serde_json::to_string(statuses).unwrap_or_default();
        let rows = st.query_map(params![entity.code(), before_ms, kind, statuses], |r| {
            r.get::<_, String>(0)
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn live_between(
        &mut self,
        entity: Entity,
        grids: &[Uuid],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<String>> {
        let mut st = self.conn.prepare_cached(
            "SELECT r.data FROM facts f JOIN records r ON r.entity = f.entity AND r.id = f.id
             WHERE f.entity = ?1 AND f.grid_id IN (SELECT unhex(value, '-') FROM json_each(?2))
               AND f.at >= ?3 AND f.at < ?4",
        )?;
        let rows = st.query_map(
            params![entity.code(), json_list(grids), from_ms, to_ms],
            |r| r.get::<_, String>(0),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn live_between_kinds(
        &mut self,
        entity: Entity,
        grids: &[Uuid],
        kinds: &[&str],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<String>> {
        let mut st = self.conn.prepare_cached(
            "SELECT r.data FROM facts f JOIN records r ON r.entity = f.entity AND r.id = f.id
             WHERE f.entity = ?1 AND f.grid_id IN (SELECT unhex(value, '-') FROM json_each(?2))
               AND f.at >= ?3 AND f.at < ?4 AND f.kind IN (SELECT value FROM json_each(?5))",
        )?;
        let kinds = serde_json::to_string(kinds).unwrap_or_default();
        let rows = st.query_map(
            params![entity.code(), json_list(grids), from_ms, to_ms, kinds],
            |r| r.get::<_, String>(0),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn live_page(&mut self, entity: Entity, after: u64, limit: u32) -> Result<Vec<PlacedRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT seq, id, grid_id, building_id, data FROM records
             WHERE entity = ?1 AND deleted = 0 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = st.query_map(params![entity.code(), after as i64, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (seq, id, grid, building, data) = row?;
            Ok(PlacedRow {
                seq: seq as u64,
                id: uuid(&id, "record id")?,
                grid_id: uuid_opt(grid),
                building_id: uuid_opt(building),
                data,
            })
        })
        .collect()
    }

    fn tally(&mut self, q: &facts::TallyQuery<'_>) -> Result<Vec<facts::Tally>> {
        // Grouped here, by hashing, rather than by SQL's GROUP BY: SQLite groups by sorting,
        // and sorting a year's visits on four uuid columns took 10× the scan itself.
        let mut st = self.conn.prepare_cached(
            "SELECT grid_id, building_id, subject_id, actor_id, kind, status, until, amount, seen
             FROM facts
             WHERE entity = ?1 AND grid_id IN (SELECT unhex(value, '-') FROM json_each(?2))
               AND at >= ?3 AND at < ?4",
        )?;
        let mut rows = st.query(params![
            q.entity.code(),
            json_list(q.grids),
            q.from_ms,
            q.to_ms
        ])?;
        type Key = (Uuid, Option<Uuid>, Option<Uuid>, Option<Uuid>, u32, u32);
        let mut words = Words::default();
        let mut groups: FxHashMap<Key, facts::Tally> = FxHashMap::default();
        while let Some(r) = rows.next()? {
            let id = |i: usize| -> Result<Option<Uuid>> {
                match r
                    .get_ref(i)?
                    .as_blob_or_null()
                    .map_err(rusqlite::Error::from)?
                {
                    None => Ok(None),
                    Some(b) => Uuid::from_slice(b)
                        .map(Some)
                        .map_err(|_| StoreError::Corrupt("a fact id is not 16 bytes".into())),
                }
            };
            let grid = id(0)?.ok_or_else(|| StoreError::Corrupt("a fact without a grid".into()))?;
            let kind = words.index(
                r.get_ref(4)?
                    .as_str_or_null()
                    .map_err(rusqlite::Error::from)?,
            );
            let status = words.index(
                r.get_ref(5)?
                    .as_str_or_null()
                    .map_err(rusqlite::Error::from)?,
            );
            let key = (grid, id(1)?, id(2)?, id(3)?, kind, status);
            let t = groups.entry(key).or_insert_with(|| facts::Tally {
                grid_id: grid,
                building_id: key.1,
                subject_id: key.2,
                actor_id: key.3,
                kind: words.word(kind),
                status: words.word(status),
                ..facts::Tally::default()
            });
            t.count += 1;
            if r.get::<_, Option<i64>>(6)?
                .is_some_and(|until| until < q.now_ms)
            {
                t.late += 1;
            }
            t.amount += r.get::<_, f64>(7)?;
            if r.get::<_, Option<i64>>(8)?
                .is_some_and(|seen| seen >= q.seen_from_ms)
            {
                t.seen += 1;
            }
        }
        Ok(groups.into_values().collect())
    }

    fn visit_months(
        &mut self,
        grids: &[Uuid],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<facts::VisitMonth>> {
        let mut st = self.conn.prepare_cached(
            "SELECT grid_id, actor_id, month, visits FROM visit_months
             WHERE grid_id IN (SELECT unhex(value, '-') FROM json_each(?1))
               AND month >= ?2 AND month < ?3 AND visits != 0",
        )?;
        let uuid = |b: &[u8]| {
            Uuid::from_slice(b)
                .map_err(|_| StoreError::Corrupt("a month's id is not 16 bytes".into()))
        };
        let mut rows = st.query(params![json_list(grids), from_ms, to_ms])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(facts::VisitMonth {
                grid_id: uuid(r.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?)?,
                actor_id: uuid(r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?)?,
                month_ms: r.get(2)?,
                visits: r.get(3)?,
            });
        }
        Ok(out)
    }

    fn for_each_live_in_grids(
        &mut self,
        entity: Entity,
        grids: &[Uuid],
        f: &mut dyn FnMut(&str) -> Result<()>,
    ) -> Result<()> {
        // One statement, stepped: paging by seq over several grids made SQLite sort the
        // entity's rows again for every page (a year's visits ledger: 3 s of 4).
        let mut st = self.conn.prepare_cached(
            "SELECT data FROM records WHERE entity = ?1 AND deleted = 0 AND grid_id IN (SELECT value FROM json_each(?2))",
        )?;
        let mut rows = st.query(params![entity.code(), json_list(grids)])?;
        while let Some(r) = rows.next()? {
            f(r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?)?;
        }
        Ok(())
    }

    fn live_page_in_grids(
        &mut self,
        entity: Entity,
        grids: &[Uuid],
        after: u64,
        limit: u32,
    ) -> Result<Vec<(u64, String)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT seq, data FROM records WHERE entity = ?1 AND deleted = 0 AND grid_id IN (SELECT value FROM json_each(?2)) AND seq > ?3 ORDER BY seq LIMIT ?4",
        )?;
        let rows = st.query_map(
            params![entity.code(), json_list(grids), after as i64, limit],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn people(&mut self) -> Result<Vec<(UserRow, Vec<AssignmentRow>)>> {
        // Two statements whatever the number of people: the office reads this on every page.
        let mut by_user: HashMap<String, Vec<AssignmentRow>> = HashMap::new();
        let mut st = self
            .conn
            .prepare_cached("SELECT user_id, role, grid_id, building_id FROM assignments")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        for row in rows {
            let (user, role, g, b) = row?;
            if let Some(role) = Role::from_code(&role) {
                by_user.entry(user).or_default().push(AssignmentRow {
                    role,
                    grid_id: uuid_opt(g),
                    building_id: uuid_opt(b),
                });
            }
        }
        let mut st = self.conn.prepare_cached(
            "SELECT id, phone, name, roles, password_hash, scope_epoch FROM users ORDER BY name",
        )?;
        let users = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        users
            .into_iter()
            .map(|(id, phone, name, roles, password_hash, epoch)| {
                let assignments = by_user.remove(&id).unwrap_or_default();
                Ok((
                    UserRow {
                        id: uuid(&id, "user id")?,
                        phone,
                        name,
                        roles: roles_from(&roles),
                        password_hash,
                        scope_epoch: epoch as u64,
                    },
                    assignments,
                ))
            })
            .collect()
    }

    fn devices_of(&mut self, user: Uuid) -> Result<Vec<DeviceRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT device_id, device_name, created_at, expires_at, revoked_at FROM sessions WHERE user_id = ?1 ORDER BY created_at DESC",
        )?;
        let rows = st.query_map([user.to_string()], |r| {
            Ok(DeviceRow {
                device_id: r.get(0)?,
                device_name: r.get(1)?,
                signed_in_at_ms: r.get(2)?,
                expires_at_ms: r.get(3)?,
                revoked_at_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn audit_log(&mut self, limit: u32) -> Result<Vec<AuditRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT at, actor_id, action, target, detail FROM audit_log ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = st
            .query_map([limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(at_ms, actor, action, target, detail)| {
                Ok(AuditRow {
                    at_ms,
                    actor_id: uuid(&actor, "audit actor")?,
                    action,
                    target,
                    detail,
                })
            })
            .collect()
    }

    fn residents_of(&mut self, household: Uuid) -> Result<Vec<Uuid>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id FROM records WHERE entity = 'resident' AND deleted = 0 AND json_extract(data, '$.household_id') = ?1",
        )?;
        let ids: Vec<String> = st
            .query_map([household.to_string()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter().map(|id| uuid(id, "resident id")).collect()
    }

    fn newest_tombstone_before(&mut self, changed_before_ms: i64) -> Result<Option<u64>> {
        let seq: Option<i64> = self.conn.query_row(
            "SELECT MAX(seq) FROM records WHERE deleted = 1 AND changed_at < ?1",
            [changed_before_ms],
            |r| r.get(0),
        )?;
        Ok(seq.map(|s| s as u64))
    }

    fn conflicts(&mut self, grids: &[Uuid], after: i64, limit: u32) -> Result<Vec<ConflictEntry>> {
        let mut st = self.conn.prepare_cached(
            "SELECT seq, entity, id, field, kept_value, kept_hlc, kept_device, lost_value, lost_hlc, lost_device, mutation_id, at
               FROM conflicts WHERE seq > ?1 AND grid_id IN (SELECT value FROM json_each(?2)) ORDER BY seq LIMIT ?3",
        )?;
        let rows = st.query_map(params![after, json_list(grids), limit], |r| {
            let json = |i: usize| {
                r.get::<_, String>(i)
                    .map(|s| serde_json::from_str(&s).unwrap_or(serde_json::Value::Null))
            };
            Ok(ConflictEntry {
                seq: r.get(0)?,
                entity: r.get(1)?,
                id: r.get::<_, String>(2)?.parse().unwrap_or_default(),
                field: r.get(3)?,
                kept_value: json(4)?,
                kept_hlc: r.get(5)?,
                kept_device: r.get(6)?,
                lost_value: json(7)?,
                lost_hlc: r.get(8)?,
                lost_device: r.get(9)?,
                mutation_id: r.get::<_, String>(10)?.parse().unwrap_or_default(),
                at: DateTime::from_timestamp_millis(r.get(11)?).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn blob_in_scope(&mut self, scope: &Scope, sha256: &str) -> Result<bool> {
        let (filter, [grids, buildings, owner]) = condition(scope, "r.");
        let sql = format!(
            "SELECT 1 FROM blob_refs b JOIN records r ON r.entity = b.entity AND r.id = b.id
              WHERE b.sha256 = ?4 AND r.deleted = 0 AND {filter} LIMIT 1"
        );
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row(params![grids, buildings, owner, sha256], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn blob_known(&mut self, sha256: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM blobs WHERE sha256 = ?1")?
            .query_row([sha256], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn user_by_phone(&mut self, phone: &str) -> Result<Option<UserRow>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT id, phone, name, roles, password_hash, scope_epoch FROM users WHERE phone = ?1",
            )?
            .query_row([phone], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })
            .optional()?;
        row.map(|(id, phone, name, roles, password_hash, epoch)| {
            Ok(UserRow {
                id: uuid(&id, "user id")?,
                phone,
                name,
                roles: roles_from(&roles),
                password_hash,
                scope_epoch: epoch as u64,
            })
        })
        .transpose()
    }

    fn user_count(&mut self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM users", [], |r| r.get::<_, i64>(0))? as u64)
    }

    fn assignments(&mut self, user: Uuid) -> Result<Vec<AssignmentRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT role, grid_id, building_id FROM assignments WHERE user_id = ?1",
        )?;
        let rows = st.query_map([user.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (role, g, b) = row?;
            if let Some(role) = Role::from_code(&role) {
                out.push(AssignmentRow {
                    role,
                    grid_id: uuid_opt(g),
                    building_id: uuid_opt(b),
                });
            }
        }
        Ok(out)
    }

    fn session(&mut self, token_hash: &str) -> Result<Option<SessionRow>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT s.user_id, s.device_id, s.expires_at, s.revoked_at, u.name, u.roles, u.scope_epoch
                   FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1",
            )?
            .query_row([token_hash], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                ))
            })
            .optional()?;
        row.map(|(user, device_id, expires, revoked, name, roles, epoch)| {
            Ok(SessionRow {
                user_id: uuid(&user, "session user id")?,
                device_id,
                expires_at_ms: expires,
                revoked: revoked.is_some(),
                name,
                roles: roles_from(&roles),
                scope_epoch: epoch as u64,
            })
        })
        .transpose()
    }

    fn outcome(&mut self, mutation: Uuid) -> Result<Option<PriorOutcome>> {
        let row = self
            .conn
            .prepare_cached("SELECT error_code, error_msg, seq FROM mutations WHERE id = ?1")?
            .query_row([mutation.to_string()], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })
            .optional()?;
        Ok(row.map(|(code, msg, seq)| PriorOutcome {
            error: code.map(|code| ErrorDetail {
                code,
                message: msg.unwrap_or_default(),
            }),
            seq: seq.map(|s| s as u64),
        }))
    }

    fn field_version(
        &mut self,
        entity: &'static str,
        id: Uuid,
        field: &str,
    ) -> Result<Option<(Hlc, String)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT hlc_wall, hlc_count, device_id FROM field_versions WHERE entity = ?1 AND id = ?2 AND field = ?3")?
            .query_row(params![entity, id.to_string(), field], |r| Ok((Hlc::new(r.get(0)?, r.get(1)?), r.get(2)?)))
            .optional()?)
    }

    fn schema_version(&mut self) -> Result<u32> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?)
    }

    fn login_failures(&mut self, key: &str, since_ms: i64) -> Result<Vec<i64>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT at FROM login_failures WHERE key = ?1 AND at > ?2")?;
        let rows = st.query_map(params![key, since_ms], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn messages(&mut self, f: &MessageFilter) -> Result<Vec<MessageRow>> {
        // One statement for every filter: an absent condition is a NULL parameter.
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE (?1 IS NULL OR grid_id IN (SELECT value FROM json_each(?1)))
               AND (?2 IS NULL OR recipient_id = ?2) AND (?3 IS NULL OR state = ?3)
             ORDER BY created_at DESC, id DESC LIMIT ?4"
        ))?;
        let rows = st
            .query_map(
                params![
                    f.grids.as_deref().map(json_list),
                    f.recipient.map(|r| r.to_string()),
                    f.state.map(MessageState::code),
                    f.limit
                ],
                message_columns,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(message_row).collect()
    }

    fn messages_keyed(&mut self, keys: &[String]) -> Result<Vec<MessageRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE trigger_key IN (SELECT value FROM json_each(?1))"
        ))?;
        let keys = serde_json::to_string(keys).unwrap_or_default();
        let rows = st
            .query_map(params![keys], message_columns)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(message_row).collect()
    }

    fn messages_sent_since(&mut self, recipient: Uuid, since_ms: i64) -> Result<u64> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM messages WHERE recipient_id = ?1 AND NOT urgent
                 AND state IN ('sent', 'delivered') AND settled_at >= ?2",
            )?
            .query_row(params![recipient.to_string(), since_ms], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn resident_account(&mut self, id: Uuid) -> Result<Option<ResidentAccountRow>> {
        self.resident_account_where("id", &id.to_string())
    }

    fn resident_account_by_phone(&mut self, phone: &str) -> Result<Option<ResidentAccountRow>> {
        self.resident_account_where("phone", phone)
    }

    fn resident_code(&mut self, phone_key: &str) -> Result<Option<ResidentCodeRow>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT code_hash, expires_at, tries FROM resident_codes WHERE phone_key = ?1",
            )?
            .query_row([phone_key], |r| {
                Ok(ResidentCodeRow {
                    phone_key: phone_key.to_string(),
                    code_hash: r.get(0)?,
                    expires_at_ms: r.get(1)?,
                    tries: r.get::<_, i64>(2)? as u32,
                })
            })
            .optional()?)
    }

    fn resident_session(&mut self, token_hash: &str) -> Result<Option<ResidentSessionRow>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT account_id, created_at, expires_at, revoked_at
                   FROM resident_sessions WHERE token_hash = ?1",
            )?
            .query_row([token_hash], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })
            .optional()?;
        row.map(|(account, created, expires, revoked)| {
            Ok(ResidentSessionRow {
                token_hash: token_hash.to_string(),
                account_id: uuid(&account, "resident session account")?,
                created_at_ms: created,
                expires_at_ms: expires,
                revoked: revoked.is_some(),
            })
        })
        .transpose()
    }
}

impl SqliteTx<'_> {
    /// The resident account whose `column` (`id` or `phone`, never user input) is `value`.
    fn resident_account_where(
        &mut self,
        column: &'static str,
        value: &str,
    ) -> Result<Option<ResidentAccountRow>> {
        let row = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, phone, household_id, resident_id, grid_id, verified_at, blocked_at,
                        created_at
                   FROM resident_accounts WHERE {column} = ?1"
            ))?
            .query_row([value], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            })
            .optional()?;
        let opt = |s: Option<String>, what| s.map(|s| uuid(&s, what)).transpose();
        row.map(
            |(id, phone, household, resident, grid, verified, blocked, created)| {
                Ok(ResidentAccountRow {
                    id: uuid(&id, "resident account id")?,
                    phone,
                    household_id: opt(household, "resident account household")?,
                    resident_id: opt(resident, "resident account resident")?,
                    grid_id: opt(grid, "resident account grid")?,
                    verified_at_ms: verified,
                    blocked_at_ms: blocked,
                    created_at_ms: created,
                })
            },
        )
        .transpose()
    }
}

impl WriteTx for SqliteTx<'_> {
    fn put_resident_account(&mut self, a: &ResidentAccountRow) -> Result<()> {
        let text = |u: Option<Uuid>| u.map(|u| u.to_string());
        self.conn.execute(
            "INSERT INTO resident_accounts (id, phone, household_id, resident_id, grid_id,
                                            verified_at, blocked_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET phone = excluded.phone,
               household_id = excluded.household_id, resident_id = excluded.resident_id,
               grid_id = excluded.grid_id, verified_at = excluded.verified_at,
               blocked_at = excluded.blocked_at",
            params![
                a.id.to_string(),
                a.phone,
                text(a.household_id),
                text(a.resident_id),
                text(a.grid_id),
                a.verified_at_ms,
                a.blocked_at_ms,
                a.created_at_ms
            ],
        )?;
        Ok(())
    }

    fn put_resident_code(&mut self, c: &ResidentCodeRow) -> Result<()> {
        self.conn.execute(
            "INSERT INTO resident_codes (phone_key, code_hash, expires_at, tries)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (phone_key) DO UPDATE SET code_hash = excluded.code_hash,
               expires_at = excluded.expires_at, tries = excluded.tries",
            params![c.phone_key, c.code_hash, c.expires_at_ms, c.tries],
        )?;
        Ok(())
    }

    fn delete_resident_code(&mut self, phone_key: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM resident_codes WHERE phone_key = ?1",
            [phone_key],
        )?;
        Ok(())
    }

    fn insert_resident_session(&mut self, s: &ResidentSessionRow) -> Result<()> {
        self.conn.execute(
            "INSERT INTO resident_sessions (token_hash, account_id, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                s.token_hash,
                s.account_id.to_string(),
                s.created_at_ms,
                s.expires_at_ms
            ],
        )?;
        Ok(())
    }

    fn revoke_resident_sessions(
        &mut self,
        account: Uuid,
        token_hash: Option<&str>,
        now_ms: i64,
    ) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE resident_sessions SET revoked_at = ?3
              WHERE account_id = ?1 AND revoked_at IS NULL
                AND (?2 IS NULL OR token_hash = ?2)",
            params![account.to_string(), token_hash, now_ms],
        )?)
    }

    fn insert_message(&mut self, m: &MessageRow) -> Result<bool> {
        let n = self.conn.prepare_cached(
            "INSERT INTO messages (id, trigger_key, recipient_id, address, notice, params, link, urgent,
                 grid_id, created_at, state, attempts, next_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT(trigger_key) DO NOTHING",
        )?
        .execute(params![
            m.id.to_string(),
            m.trigger_key,
            m.recipient_id.to_string(),
            m.address,
            m.notice,
            m.params_json(),
            m.link,
            m.urgent,
            m.grid_id.map(|g| g.to_string()),
            m.created_at_ms,
            m.state.code(),
            m.attempts,
            m.next_at_ms
        ])?;
        Ok(n == 1)
    }

    fn claim_messages(
        &mut self,
        worker: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<MessageRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE state IN ('queued', 'sending') AND next_at <= ?1
             ORDER BY urgent DESC, next_at LIMIT ?2"
        ))?;
        let rows = st
            .query_map(params![now_ms, limit], message_columns)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let rows = rows
            .into_iter()
            .map(message_row)
            .collect::<Result<Vec<_>>>()?;
        let mut take = self.conn.prepare_cached(
            "UPDATE messages SET state = 'sending', claimed_by = ?2, next_at = ?3,
                 attempts = attempts + 1 WHERE id = ?1",
        )?;
        for m in &rows {
            take.execute(params![m.id.to_string(), worker, lease_until_ms])?;
        }
        Ok(rows)
    }

    fn settle_message(&mut self, s: &MessageSettlement) -> Result<bool> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE messages SET state = ?2, next_at = ?3, provider = coalesce(?4, provider),
                     provider_ref = ?5, words = ?6, settled_at = ?7
                 WHERE id = ?1 AND state = 'sending'",
            )?
            .execute(params![
                s.id.to_string(),
                s.state.code(),
                s.next_at_ms,
                s.provider,
                s.provider_ref,
                s.words,
                s.settled_at_ms
            ])?;
        Ok(n == 1)
    }

    fn write_record(&mut self, row: &LogRow<'_>) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO records (entity, id, seq, grid_id, building_id, owner_id, deleted, changed_at, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(entity, id) DO UPDATE SET seq = excluded.seq, grid_id = excluded.grid_id,
                     building_id = excluded.building_id, owner_id = excluded.owner_id,
                     deleted = excluded.deleted, changed_at = excluded.changed_at, data = excluded.data",
            )?
            .execute(params![
                row.entity.code(),
                row.id.to_string(),
                row.seq as i64,
                ids_text(row.grid_id),
                ids_text(row.building_id),
                ids_text(row.owner_id),
                row.deleted,
                row.changed_at_ms,
                row.data,
            ])?;
        Ok(())
    }

    fn set_fact(&mut self, entity: Entity, id: Uuid, fact: Option<&facts::Fact>) -> Result<()> {
        let Some(f) = fact else {
            self.conn
                .prepare_cached("DELETE FROM facts WHERE entity = ?1 AND id = ?2")?
                .execute(params![entity.code(), id.to_string()])?;
            return Ok(());
        };
        let (code, id) = (entity.code(), id.to_string());
        let (building, subject, actor) = (
            f.building_id.as_ref().map(|u| u.as_bytes().as_slice()),
            f.subject_id.as_ref().map(|u| u.as_bytes().as_slice()),
            f.actor_id.as_ref().map(|u| u.as_bytes().as_slice()),
        );
        let values = params![
            code,
            f.grid_id.as_bytes().as_slice(),
            f.at_ms,
            id,
            building,
            subject,
            actor,
            f.kind,
            f.status,
            f.until_ms,
            f.amount,
            f.seen_ms,
        ];
        // A fact that stays where it is (same grid and time: a household's next visit due, an
        // issue's status) is updated in place. The upsert below assigns the key columns, and
        // SQLite then deletes and reinserts the row in the table and in both indexes, which was
        // a quarter of the writer's time in a burst of visits.
        let in_place = self
            .conn
            .prepare_cached(
                "UPDATE facts SET building_id = ?5, subject_id = ?6, actor_id = ?7, kind = ?8,
                     status = ?9, until = ?10, amount = ?11, seen = ?12
                 WHERE entity = ?1 AND grid_id = ?2 AND at = ?3 AND id = ?4",
            )?
            .execute(values)?;
        if in_place == 0 {
            self.conn
                .prepare_cached(
                    "INSERT INTO facts (entity, grid_id, at, id, building_id, subject_id, actor_id, kind, status, until, amount, seen)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                     ON CONFLICT(entity, id) DO UPDATE SET grid_id = excluded.grid_id, at = excluded.at,
                         building_id = excluded.building_id, subject_id = excluded.subject_id,
                         actor_id = excluded.actor_id, kind = excluded.kind, status = excluded.status,
                         until = excluded.until, amount = excluded.amount, seen = excluded.seen",
                )?
                .execute(values)?;
        }
        Ok(())
    }

    fn clear_facts(&mut self) -> Result<()> {
        self.conn
            .execute_batch("DELETE FROM facts; DELETE FROM visit_months;")?;
        Ok(())
    }

    fn count_visits(&mut self, m: &facts::VisitMonth) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO visit_months (grid_id, month, actor_id, visits) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (grid_id, month, actor_id) DO UPDATE SET visits = visits + excluded.visits",
            )?
            .execute(params![
                m.grid_id.as_bytes().as_slice(),
                m.month_ms,
                m.actor_id.as_bytes().as_slice(),
                m.visits
            ])?;
        Ok(())
    }

    fn set_grid_digest(&mut self, grid: Uuid, d: &GridDigest) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO grid_digests (grid_id, count, digest) VALUES (?1, ?2, ?3)
                 ON CONFLICT(grid_id) DO UPDATE SET count = excluded.count, digest = excluded.digest",
            )?
            .execute(params![grid.to_string(), d.count, d.digest.to_vec()])?;
        Ok(())
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    fn next_in_series(&mut self, series: &str) -> Result<u64> {
        let last: i64 = self.conn.query_row(
            "INSERT INTO case_series (series, last) VALUES (?1, 1)
             ON CONFLICT(series) DO UPDATE SET last = last + 1
             RETURNING last",
            [series],
            |r| r.get(0),
        )?;
        Ok(last as u64)
    }

    fn raise_series(&mut self, series: &str, last: u64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO case_series (series, last) VALUES (?1, ?2)
             ON CONFLICT(series) DO UPDATE SET last = max(last, excluded.last)",
            rusqlite::params![series, last as i64],
        )?;
        Ok(())
    }

    fn delete_tombstones_through(&mut self, seq: u64) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM records WHERE deleted = 1 AND seq <= ?1",
            [seq as i64],
        )?)
    }

    fn save_outcome(&mut self, o: &OutcomeRow<'_>) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO mutations (id, user_id, device_id, kind, status, error_code, error_msg, seq, recorded_at, received_at, clock_skew_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                o.mutation.id.to_string(),
                o.user_id.to_string(),
                o.device_id,
                o.mutation.kind,
                if o.status == PushStatus::Merged { "merged" } else { "applied" },
                o.error.map(|e| e.code.as_str()),
                o.error.map(|e| e.message.as_str()),
                o.seq.map(|s| s as i64),
                o.mutation.recorded_at.timestamp_millis(),
                o.received_at_ms,
                o.clock_skew_ms,
            ])?;
        Ok(())
    }

    fn set_field_version(
        &mut self,
        entity: &'static str,
        id: Uuid,
        field: &str,
        hlc: Hlc,
        device: &str,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO field_versions (entity, id, field, hlc_wall, hlc_count, device_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(entity, id, field) DO UPDATE SET hlc_wall = excluded.hlc_wall, hlc_count = excluded.hlc_count, device_id = excluded.device_id",
            )?
            .execute(params![entity, id.to_string(), field, hlc.wall_ms, hlc.counter, device])?;
        Ok(())
    }

    fn log_conflict(&mut self, c: &ConflictRow, now_ms: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO conflicts (entity, id, grid_id, field, kept_value, kept_hlc, kept_device, lost_value, lost_hlc, lost_device, mutation_id, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                c.entity,
                c.id.to_string(),
                ids_text(c.grid_id),
                c.field,
                c.kept.0.to_string(),
                c.kept.1.to_string(),
                c.kept.2,
                c.lost.0.to_string(),
                c.lost.1.to_string(),
                c.lost.2,
                c.mutation_id.to_string(),
                now_ms
            ])?;
        Ok(())
    }

    fn add_blob_refs(&mut self, shas: &[String], entity: Entity, id: Uuid) -> Result<()> {
        let mut st = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO blob_refs (sha256, entity, id) VALUES (?1, ?2, ?3)",
        )?;
        for sha in shas {
            st.execute(params![
                sha.to_ascii_lowercase(),
                entity.code(),
                id.to_string()
            ])?;
        }
        Ok(())
    }

    fn blob_received(&mut self, sha256: &str, bytes: u64, now_ms: i64) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO blobs (sha256, bytes, received_at) VALUES (?1, ?2, ?3)",
            params![sha256, bytes as i64, now_ms],
        )?;
        Ok(())
    }

    fn insert_user(&mut self, u: &UserRow, created_at_ms: i64) -> Result<()> {
        let roles: Vec<&str> = u.roles.iter().map(|r| r.code()).collect();
        self.conn.execute(
            "INSERT INTO users (id, phone, name, roles, password_hash, scope_epoch, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                u.id.to_string(),
                u.phone,
                u.name,
                roles.join(","),
                u.password_hash,
                u.scope_epoch as i64,
                created_at_ms
            ],
        )?;
        Ok(())
    }

    fn insert_assignment(&mut self, user: Uuid, a: &AssignmentRow) -> Result<()> {
        self.conn.execute(
            "INSERT INTO assignments (user_id, role, grid_id, building_id) VALUES (?1, ?2, ?3, ?4)",
            params![
                user.to_string(),
                a.role.code(),
                ids_text(a.grid_id),
                ids_text(a.building_id)
            ],
        )?;
        Ok(())
    }

    fn delete_assignments(&mut self, user: Uuid) -> Result<()> {
        self.conn.execute(
            "DELETE FROM assignments WHERE user_id = ?1",
            [user.to_string()],
        )?;
        Ok(())
    }

    fn bump_scope_epoch(&mut self, user: Uuid) -> Result<()> {
        self.conn.execute(
            "UPDATE users SET scope_epoch = scope_epoch + 1 WHERE id = ?1",
            [user.to_string()],
        )?;
        Ok(())
    }

    fn insert_session(&mut self, s: &NewSession) -> Result<()> {
        self.conn.execute(
            "INSERT INTO sessions (token_hash, user_id, device_id, device_name, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                s.token_hash,
                s.user_id.to_string(),
                s.device_id,
                s.device_name,
                s.created_at_ms,
                s.expires_at_ms
            ],
        )?;
        Ok(())
    }

    fn revoke_session(&mut self, token_hash: &str, now_ms: i64) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
            params![token_hash, now_ms],
        )? > 0)
    }

    fn revoke_sessions_of(&mut self, user: Uuid, now_ms: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE sessions SET revoked_at = ?2 WHERE revoked_at IS NULL AND user_id = ?1",
            params![user.to_string(), now_ms],
        )?)
    }

    fn set_password_hash(&mut self, user: Uuid, hash: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE users SET password_hash = ?2 WHERE id = ?1",
            params![user.to_string(), hash],
        )?;
        Ok(())
    }

    fn revoke_device(&mut self, user: Uuid, device_id: &str, now_ms: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE sessions SET revoked_at = ?3 WHERE revoked_at IS NULL AND user_id = ?1 AND device_id = ?2",
            params![user.to_string(), device_id, now_ms],
        )?)
    }

    fn add_audit(&mut self, row: &AuditRow) -> Result<()> {
        self.conn.execute(
            "INSERT INTO audit_log (at, actor_id, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![row.at_ms, row.actor_id.to_string(), row.action, row.target, row.detail],
        )?;
        Ok(())
    }

    fn add_login_failure(&mut self, key: &str, at_ms: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO login_failures (key, at) VALUES (?1, ?2)",
            params![key, at_ms],
        )?;
        Ok(())
    }

    fn clear_login_failures(&mut self, key: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM login_failures WHERE key = ?1", [key])?;
        Ok(())
    }

    fn forget_login_failures_before(&mut self, before_ms: i64) -> Result<()> {
        self.conn
            .execute("DELETE FROM login_failures WHERE at <= ?1", [before_ms])?;
        Ok(())
    }
}
