//! The rows of [`ReadTx`] and [`WriteTx`] in PostgreSQL's SQL, over one pooled connection inside
//! one transaction. The rules above call these synchronously; each call waits on the async
//! driver on this (blocking) thread, with statements prepared once per connection.

use crate::store::scope::Scope;
use crate::store::*;
use chrono::DateTime;
use gridmate_model::{Hlc, Role};
use gridmate_protocol::{Entity, ErrorDetail, PushStatus};
use std::collections::{HashMap, HashSet};
use tokio::runtime::Handle;
use tokio_postgres::Row;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

impl From<tokio_postgres::Error> for StoreError {
    /// The driver shows a server's error as only "db error": the server's own words and
    /// SQLSTATE are what a log reader needs.
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => StoreError::Database(
                format!("{} (SQLSTATE {})", db.message(), db.code().code()).into(),
            ),
            None => StoreError::Database(Box::new(e)),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Database(Box::new(e))
    }
}

/// One transaction on one connection, driven from a blocking thread.
///
/// Each statement is a round trip (~0.1 ms here, more across a network), and a push of 500
/// visits asks thousands of small questions. So the transaction keeps what it can answer itself:
/// - **reads by key** (a record, a mutation's outcome, a field's version, a grid's digest) are
///   remembered, and a push's are fetched together up front ([`ReadTx::prefetch`]);
/// - **writes** (records, outcomes, field versions, conflicts, photo references, facts, digests)
///   wait here and go in one statement per table (`UNNEST` of column arrays) when the
///   transaction is about to commit, or before any other read, which must see them. A read by key
///   is answered from the waiting writes first. This is safe because a write transaction holds
///   the writer lock: nothing else changes these rows meanwhile.
pub struct PgTx<'a> {
    client: &'a deadpool_postgres::Client,
    rt: &'a Handle,
    head: Option<u64>,
    digests: HashMap<Uuid, GridDigest>,
    dirty: HashSet<Uuid>,
    facts: HashMap<(Entity, Uuid), Option<facts::Fact>>,
    /// Changes to the visit counts, by (grid, month, person): added up here, sent as one upsert.
    visit_months: HashMap<(Uuid, i64, Uuid), i64>,
    /// Records as stored, read or prefetched (`None`: there is none).
    known: HashMap<(Entity, Uuid), Option<StoredRecord>>,
    written: HashMap<(Entity, Uuid), WrittenRecord>,
    outcomes: HashMap<Uuid, Option<PriorOutcome>>,
    new_outcomes: Vec<NewOutcome>,
    versions: HashMap<VersionKey, Option<(Hlc, String)>>,
    new_versions: HashSet<VersionKey>,
    conflicts: Vec<NewConflict>,
    blob_refs: HashSet<(String, Entity, Uuid)>,
}

type Params<'p> = [&'p (dyn ToSql + Sync)];

/// The columns [`message_row`] reads, in its order.
const MESSAGE_COLUMNS: &str =
    "id, trigger_key, recipient_id, address, notice, params, link, urgent,
     grid_id, created_at, state, attempts, next_at, claimed_by, provider, provider_ref, words,
     settled_at";

fn message_row(r: &Row) -> Result<MessageRow> {
    let id: Uuid = r.get(0);
    let params: String = r.get(5);
    let state: String = r.get(10);
    let attempts: i32 = r.get(11);
    Ok(MessageRow {
        id,
        trigger_key: r.get(1),
        recipient_id: r.get(2),
        address: r.get(3),
        notice: r.get(4),
        params: MessageRow::params_from_json(&params)
            .ok_or_else(|| StoreError::Corrupt(format!("message {id}: parameters")))?,
        link: r.get(6),
        urgent: r.get(7),
        grid_id: r.get(8),
        created_at_ms: r.get(9),
        state: MessageState::from_code(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("message {id}: state {state}")))?,
        attempts: attempts.max(0) as u32,
        next_at_ms: r.get(12),
        claimed_by: r.get(13),
        provider: r.get(14),
        provider_ref: r.get(15),
        words: r.get(16),
        settled_at_ms: r.get(17),
    })
}

/// Held writes are sent once this many rows wait, whatever comes next: an import of two million
/// households in one transaction must not become one statement of a gigabyte (PostgreSQL closes
/// the connection), and a few thousand rows a statement already make the round trip negligible.
const HOLD_AT: usize = 5_000;
type VersionKey = (&'static str, Uuid, String);

/// A record's new state, waiting to be written.
struct WrittenRecord {
    seq: i64,
    grid_id: Option<Uuid>,
    building_id: Option<Uuid>,
    owner_id: Option<Uuid>,
    deleted: bool,
    changed_at_ms: i64,
    data: String,
}

impl WrittenRecord {
    fn stored(&self) -> Result<StoredRecord> {
        Ok(StoredRecord {
            seq: self.seq as u64,
            grid_id: self.grid_id,
            building_id: self.building_id,
            owner_id: self.owner_id,
            deleted: self.deleted,
            data: serde_json::from_str(&self.data)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        })
    }
}

/// A mutation's outcome, waiting to be written.
struct NewOutcome {
    id: Uuid,
    user_id: Uuid,
    device_id: String,
    kind: String,
    status: &'static str,
    error_code: Option<String>,
    error_msg: Option<String>,
    seq: Option<i64>,
    recorded_at_ms: i64,
    received_at_ms: i64,
    clock_skew_ms: Option<i64>,
}

/// A conflict-log line, waiting to be written.
struct NewConflict {
    entity: &'static str,
    id: Uuid,
    grid_id: Option<Uuid>,
    field: String,
    kept: [String; 3],
    lost: [String; 3],
    mutation_id: Uuid,
    at_ms: i64,
}

impl<'a> PgTx<'a> {
    pub fn new(client: &'a deadpool_postgres::Client, rt: &'a Handle) -> Self {
        PgTx {
            client,
            rt,
            head: None,
            digests: HashMap::new(),
            dirty: HashSet::new(),
            facts: HashMap::new(),
            visit_months: HashMap::new(),
            known: HashMap::new(),
            written: HashMap::new(),
            outcomes: HashMap::new(),
            new_outcomes: Vec::new(),
            versions: HashMap::new(),
            new_versions: HashSet::new(),
            conflicts: Vec::new(),
            blob_refs: HashSet::new(),
        }
    }

    /// Rows waiting to be written (the grid digests aside: a handful, rewritten in place).
    fn held(&self) -> usize {
        self.written.len()
            + self.new_outcomes.len()
            + self.new_versions.len()
            + self.conflicts.len()
            + self.blob_refs.len()
            + self.facts.len()
            + self.visit_months.len()
    }

    /// Write the facts this transaction changed: one upsert of every new fact, one delete of
    /// every dropped one.
    fn flush_facts(&mut self) -> Result<()> {
        self.flush_visit_months()?;
        if self.facts.is_empty() {
            return Ok(());
        }
        let mut gone: (Vec<&str>, Vec<Uuid>) = Default::default();
        #[derive(Default)]
        struct Columns {
            entity: Vec<&'static str>,
            id: Vec<Uuid>,
            grid: Vec<Uuid>,
            at: Vec<i64>,
            building: Vec<Option<Uuid>>,
            subject: Vec<Option<Uuid>>,
            actor: Vec<Option<Uuid>>,
            kind: Vec<Option<String>>,
            status: Vec<Option<String>>,
            until: Vec<Option<i64>>,
            amount: Vec<f64>,
            seen: Vec<Option<i64>>,
        }
        let mut c = Columns::default();
        for ((entity, id), fact) in std::mem::take(&mut self.facts) {
            match fact {
                None => {
                    gone.0.push(entity.code());
                    gone.1.push(id);
                }
                Some(f) => {
                    c.entity.push(entity.code());
                    c.id.push(id);
                    c.grid.push(f.grid_id);
                    c.at.push(f.at_ms);
                    c.building.push(f.building_id);
                    c.subject.push(f.subject_id);
                    c.actor.push(f.actor_id);
                    c.kind.push(f.kind);
                    c.status.push(f.status);
                    c.until.push(f.until_ms);
                    c.amount.push(f.amount);
                    c.seen.push(f.seen_ms);
                }
            }
        }
        if !gone.1.is_empty() {
            self.send(
                "DELETE FROM facts f USING UNNEST($1::text[], $2::uuid[]) AS d(entity, id)
                 WHERE f.entity = d.entity AND f.id = d.id",
                &[&gone.0, &gone.1],
            )?;
        }
        if !c.id.is_empty() {
            self.send(
                "INSERT INTO facts (entity, id, grid_id, at, building_id, subject_id, actor_id, kind, status, until, amount, seen)
                 SELECT * FROM UNNEST($1::text[], $2::uuid[], $3::uuid[], $4::int8[], $5::uuid[], $6::uuid[],
                                      $7::uuid[], $8::text[], $9::text[], $10::int8[], $11::float8[], $12::int8[])
                 ON CONFLICT (entity, id) DO UPDATE SET grid_id = excluded.grid_id, at = excluded.at,
                     building_id = excluded.building_id, subject_id = excluded.subject_id,
                     actor_id = excluded.actor_id, kind = excluded.kind, status = excluded.status,
                     until = excluded.until, amount = excluded.amount, seen = excluded.seen",
                &[
                    &c.entity, &c.id, &c.grid, &c.at, &c.building, &c.subject, &c.actor, &c.kind,
                    &c.status, &c.until, &c.amount, &c.seen,
                ],
            )?;
        }
        Ok(())
    }

    /// Add the visit counts' changes this transaction made, in one upsert.
    fn flush_visit_months(&mut self) -> Result<()> {
        let changed: Vec<_> = std::mem::take(&mut self.visit_months)
            .into_iter()
            .filter(|(_, delta)| *delta != 0)
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let grid: Vec<Uuid> = changed.iter().map(|((g, _, _), _)| *g).collect();
        let month: Vec<i64> = changed.iter().map(|((_, m, _), _)| *m).collect();
        let actor: Vec<Uuid> = changed.iter().map(|((_, _, a), _)| *a).collect();
        let visits: Vec<i64> = changed.iter().map(|(_, d)| *d).collect();
        self.send(
            "INSERT INTO visit_months (grid_id, month, actor_id, visits)
             SELECT * FROM UNNEST($1::uuid[], $2::int8[], $3::uuid[], $4::int8[])
             ON CONFLICT (grid_id, month, actor_id)
                 DO UPDATE SET visits = visit_months.visits + excluded.visits",
            &[&grid, &month, &actor, &visits],
        )?;
        Ok(())
    }

    /// Every record written since the last flush, in one upsert (one row per record: a record
    /// written twice in a transaction keeps its last state, as row by row would).
    fn flush_records(&mut self) -> Result<()> {
        if self.written.is_empty() {
            return Ok(());
        }
        let n = self.written.len();
        let mut entity = Vec::with_capacity(n);
        let mut id = Vec::with_capacity(n);
        let mut seq = Vec::with_capacity(n);
        let mut grid = Vec::with_capacity(n);
        let mut building = Vec::with_capacity(n);
        let mut owner = Vec::with_capacity(n);
        let mut deleted = Vec::with_capacity(n);
        let mut changed = Vec::with_capacity(n);
        let mut data = Vec::with_capacity(n);
        for ((e, i), w) in std::mem::take(&mut self.written) {
            entity.push(e.code());
            id.push(i);
            seq.push(w.seq);
            grid.push(w.grid_id);
            building.push(w.building_id);
            owner.push(w.owner_id);
            deleted.push(w.deleted);
            changed.push(w.changed_at_ms);
            data.push(w.data);
        }
        self.send(
            "INSERT INTO records (entity, id, seq, grid_id, building_id, owner_id, deleted, changed_at, data)
             SELECT * FROM UNNEST($1::text[], $2::uuid[], $3::int8[], $4::uuid[], $5::uuid[], $6::uuid[],
                                  $7::bool[], $8::int8[], $9::text[])
             ON CONFLICT (entity, id) DO UPDATE SET seq = excluded.seq, grid_id = excluded.grid_id,
                 building_id = excluded.building_id, owner_id = excluded.owner_id,
                 deleted = excluded.deleted, changed_at = excluded.changed_at, data = excluded.data",
            &[
                &entity, &id, &seq, &grid, &building, &owner, &deleted, &changed, &data,
            ],
        )?;
        Ok(())
    }

    fn flush_outcomes(&mut self) -> Result<()> {
        if self.new_outcomes.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.new_outcomes);
        let id: Vec<Uuid> = rows.iter().map(|o| o.id).collect();
        let user: Vec<Uuid> = rows.iter().map(|o| o.user_id).collect();
        let device: Vec<&str> = rows.iter().map(|o| o.device_id.as_str()).collect();
        let kind: Vec<&str> = rows.iter().map(|o| o.kind.as_str()).collect();
        let status: Vec<&str> = rows.iter().map(|o| o.status).collect();
        let code: Vec<Option<&str>> = rows.iter().map(|o| o.error_code.as_deref()).collect();
        let msg: Vec<Option<&str>> = rows.iter().map(|o| o.error_msg.as_deref()).collect();
        let seq: Vec<Option<i64>> = rows.iter().map(|o| o.seq).collect();
        let recorded: Vec<i64> = rows.iter().map(|o| o.recorded_at_ms).collect();
        let received: Vec<i64> = rows.iter().map(|o| o.received_at_ms).collect();
        let skew: Vec<Option<i64>> = rows.iter().map(|o| o.clock_skew_ms).collect();
        self.send(
            "INSERT INTO mutations (id, user_id, device_id, kind, status, error_code, error_msg, seq, recorded_at, received_at, clock_skew_ms)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                                  $7::text[], $8::int8[], $9::int8[], $10::int8[], $11::int8[])",
            &[
                &id, &user, &device, &kind, &status, &code, &msg, &seq, &recorded, &received, &skew,
            ],
        )?;
        Ok(())
    }

    fn flush_versions(&mut self) -> Result<()> {
        if self.new_versions.is_empty() {
            return Ok(());
        }
        let mut entity = Vec::new();
        let mut id = Vec::new();
        let mut field = Vec::new();
        let mut wall = Vec::new();
        let mut count = Vec::new();
        let mut device = Vec::new();
        for key in std::mem::take(&mut self.new_versions) {
            let Some(Some((hlc, by))) = self.versions.get(&key) else {
                continue;
            };
            wall.push(hlc.wall_ms);
            count.push(i64::from(hlc.counter));
            device.push(by.clone());
            entity.push(key.0);
            id.push(key.1);
            field.push(key.2);
        }
        self.send(
            "INSERT INTO field_versions (entity, id, field, hlc_wall, hlc_count, device_id)
             SELECT * FROM UNNEST($1::text[], $2::uuid[], $3::text[], $4::int8[], $5::int8[], $6::text[])
             ON CONFLICT (entity, id, field) DO UPDATE SET hlc_wall = excluded.hlc_wall,
                 hlc_count = excluded.hlc_count, device_id = excluded.device_id",
            &[&entity, &id, &field, &wall, &count, &device],
        )?;
        Ok(())
    }

    fn flush_conflicts(&mut self) -> Result<()> {
        if self.conflicts.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.conflicts);
        let entity: Vec<&str> = rows.iter().map(|c| c.entity).collect();
        let id: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
        let grid: Vec<Option<Uuid>> = rows.iter().map(|c| c.grid_id).collect();
        let field: Vec<&str> = rows.iter().map(|c| c.field.as_str()).collect();
        let part = |side: fn(&NewConflict) -> &[String; 3], i: usize| -> Vec<&str> {
            rows.iter().map(|c| side(c)[i].as_str()).collect()
        };
        let (kv, kh, kd) = (
            part(|c| &c.kept, 0),
            part(|c| &c.kept, 1),
            part(|c| &c.kept, 2),
        );
        let (lv, lh, ld) = (
            part(|c| &c.lost, 0),
            part(|c| &c.lost, 1),
            part(|c| &c.lost, 2),
        );
        let mutation: Vec<Uuid> = rows.iter().map(|c| c.mutation_id).collect();
        let at: Vec<i64> = rows.iter().map(|c| c.at_ms).collect();
        // In the order they were logged: the conflict log's seq reads as their order.
        self.send(
            "INSERT INTO conflicts (entity, id, grid_id, field, kept_value, kept_hlc, kept_device, lost_value, lost_hlc, lost_device, mutation_id, at)
             SELECT entity, id, grid_id, field, kv, kh, kd, lv, lh, ld, mutation_id, at
               FROM UNNEST($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
                           $8::text[], $9::text[], $10::text[], $11::uuid[], $12::int8[])
                    WITH ORDINALITY AS c(entity, id, grid_id, field, kv, kh, kd, lv, lh, ld, mutation_id, at, n)
              ORDER BY n",
            &[
                &entity, &id, &grid, &field, &kv, &kh, &kd, &lv, &lh, &ld, &mutation, &at,
            ],
        )?;
        Ok(())
    }

    fn flush_blob_refs(&mut self) -> Result<()> {
        if self.blob_refs.is_empty() {
            return Ok(());
        }
        let mut sha = Vec::new();
        let mut entity = Vec::new();
        let mut id = Vec::new();
        for (s, e, i) in std::mem::take(&mut self.blob_refs) {
            sha.push(s);
            entity.push(e.code());
            id.push(i);
        }
        self.send(
            "INSERT INTO blob_refs (sha256, entity, id)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::uuid[]) ON CONFLICT DO NOTHING",
            &[&sha, &entity, &id],
        )?;
        Ok(())
    }

    fn flush_digests(&mut self) -> Result<()> {
        if self.dirty.is_empty() {
            return Ok(());
        }
        let mut grid = Vec::new();
        let mut count = Vec::new();
        let mut digest = Vec::new();
        for g in std::mem::take(&mut self.dirty) {
            let d = self.digests[&g];
            grid.push(g);
            count.push(d.count);
            digest.push(d.digest.to_vec());
        }
        self.send(
            "INSERT INTO grid_digests (grid_id, count, digest)
             SELECT * FROM UNNEST($1::uuid[], $2::int8[], $3::bytea[])
             ON CONFLICT (grid_id) DO UPDATE SET count = excluded.count, digest = excluded.digest",
            &[&grid, &count, &digest],
        )?;
        Ok(())
    }

    /// Write everything this transaction holds: before commit, and before any read that is not
    /// by key (it must see them).
    pub fn flush(&mut self) -> Result<()> {
        self.flush_records()?;
        self.flush_outcomes()?;
        self.flush_versions()?;
        self.flush_conflicts()?;
        self.flush_blob_refs()?;
        self.flush_facts()?;
        self.flush_digests()
    }

    /// Send the held writes if there are many of them.
    fn spill(&mut self) -> Result<()> {
        if self.held() >= HOLD_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn settle(&mut self) -> Result<()> {
        if self.held() > 0 || !self.dirty.is_empty() {
            self.flush()?;
        }
        Ok(())
    }

    fn query(&mut self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
        self.settle()?;
        self.fetch(sql, params)
    }

    fn opt(&mut self, sql: &str, params: &Params<'_>) -> Result<Option<Row>> {
        self.settle()?;
        self.fetch_opt(sql, params)
    }

    /// A query over a scope condition: its first three parameters typed (a condition may use
    /// only some of them, and PostgreSQL cannot infer the type of one it does not see).
    fn scoped(&mut self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
        self.settle()?;
        let st = self.rt.block_on(
            self.client
                .prepare_typed_cached(sql, &[Type::UUID_ARRAY, Type::UUID_ARRAY, Type::UUID]),
        )?;
        Ok(self.rt.block_on(self.client.query(&st, params))?)
    }

    fn exec(&mut self, sql: &str, params: &Params<'_>) -> Result<u64> {
        self.settle()?;
        self.send(sql, params)
    }

    /// A read by key, which the waiting writes cannot change (they are answered first).
    fn fetch(&self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
        let st = self.rt.block_on(self.client.prepare_cached(sql))?;
        Ok(self.rt.block_on(self.client.query(&st, params))?)
    }

    fn fetch_opt(&self, sql: &str, params: &Params<'_>) -> Result<Option<Row>> {
        let st = self.rt.block_on(self.client.prepare_cached(sql))?;
        Ok(self.rt.block_on(self.client.query_opt(&st, params))?)
    }

    fn send(&self, sql: &str, params: &Params<'_>) -> Result<u64> {
        let st = self.rt.block_on(self.client.prepare_cached(sql))?;
        Ok(self.rt.block_on(self.client.execute(&st, params))?)
    }
}

fn prior(r: &Row, at: usize) -> PriorOutcome {
    PriorOutcome {
        error: r.get::<_, Option<String>>(at).map(|code| ErrorDetail {
            code,
            message: r.get::<_, Option<String>>(at + 1).unwrap_or_default(),
        }),
        seq: r.get::<_, Option<i64>>(at + 2).map(|s| s as u64),
    }
}

/// A [`Scope`] as a PostgreSQL condition over `records` columns prefixed by `t`, with
/// $1 the grids, $2 the buildings (uuid arrays) and $3 the owner, to be prepared with
/// [`PgTx::scoped`]. Entity codes are the protocol's fixed words, never user input.
fn condition(scope: &Scope, t: &str) -> String {
    scope.to_sql(
        t,
        |c| format!("{c} = ANY($1)"),
        |c| format!("{c} = ANY($2)"),
        |c| format!("{c} = $3"),
    )
}

fn roles_from(s: &str) -> Vec<Role> {
    s.split(',').filter_map(Role::from_code).collect()
}

fn stored(r: &Row) -> Result<StoredRecord> {
    Ok(StoredRecord {
        seq: r.get::<_, i64>(0) as u64,
        grid_id: r.get(1),
        building_id: r.get(2),
        owner_id: r.get(3),
        deleted: r.get(4),
        data: serde_json::from_str(r.get(5)).map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}

impl ReadTx for PgTx<'_> {
    fn record(&mut self, entity: Entity, id: Uuid) -> Result<Option<StoredRecord>> {
        if let Some(w) = self.written.get(&(entity, id)) {
            return w.stored().map(Some);
        }
        if let Some(known) = self.known.get(&(entity, id)) {
            return Ok(known.clone());
        }
        let found = self
            .fetch_opt(
                "SELECT seq, grid_id, building_id, owner_id, deleted, data FROM records WHERE entity = $1 AND id = $2",
                &[&entity.code(), &id],
            )?
            .map(|r| stored(&r))
            .transpose()?;
        self.known.insert((entity, id), found.clone());
        Ok(found)
    }

    fn prefetch(&mut self, records: &[(Entity, Uuid)], outcomes: &[Uuid]) -> Result<()> {
        let wanted: HashSet<(Entity, Uuid)> = records
            .iter()
            .filter(|k| !self.known.contains_key(k) && !self.written.contains_key(k))
            .copied()
            .collect();
        if !wanted.is_empty() {
            let (entities, ids): (Vec<&str>, Vec<Uuid>) =
                wanted.iter().map(|(e, i)| (e.code(), *i)).unzip();
            for r in self.fetch(
                "SELECT r.seq, r.grid_id, r.building_id, r.owner_id, r.deleted, r.data, r.entity, r.id
                   FROM UNNEST($1::text[], $2::uuid[]) AS k(entity, id)
                   JOIN records r ON r.entity = k.entity AND r.id = k.id",
                &[&entities, &ids],
            )? {
                let key = (Entity::from_code(r.get(6)), r.get::<_, Uuid>(7));
                self.known.insert(key, Some(stored(&r)?));
            }
            for key in wanted {
                self.known.entry(key).or_insert(None);
            }
        }
        let ids: Vec<Uuid> = outcomes
            .iter()
            .filter(|id| !self.outcomes.contains_key(id))
            .copied()
            .collect();
        if !ids.is_empty() {
            for r in self.fetch(
                // A join on the unnested ids, not `id = ANY($1)`: with a few hundred ids the
                // planner scanned the whole table through a hashed filter (7 ms a group at
                // 15,000 mutations, and growing with the table); the join probes the key.
                "SELECT m.id, m.error_code, m.error_msg, m.seq
                   FROM UNNEST($1::uuid[]) AS k(id) JOIN mutations m ON m.id = k.id",
                &[&ids],
            )? {
                self.outcomes.insert(r.get(0), Some(prior(&r, 1)));
            }
            for id in ids {
                self.outcomes.entry(id).or_insert(None);
            }
        }
        Ok(())
    }

    fn grids_changed_after(&mut self, after: u64) -> Result<Vec<Option<Uuid>>> {
        Ok(self
            .query(
                "SELECT DISTINCT grid_id FROM records WHERE seq > $1",
                &[&(after as i64)],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn head(&mut self) -> Result<u64> {
        if let Some(head) = self.head {
            return Ok(head);
        }
        let r = self
            .opt("SELECT COALESCE(MAX(seq), 0) FROM records", &[])?
            .ok_or_else(|| StoreError::Corrupt("no head".into()))?;
        let head = r.get::<_, i64>(0) as u64;
        self.head = Some(head);
        Ok(head)
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self
            .opt("SELECT value FROM meta WHERE key = $1", &[&key])?
            .map(|r| r.get(0)))
    }

    fn feed_page(
        &mut self,
        scope: &Scope,
        after: u64,
        hide_tombstones_through: u64,
        limit: u32,
    ) -> Result<Vec<FeedRow>> {
        let (after, hide, limit) = (
            after as i64,
            hide_tombstones_through as i64,
            i64::from(limit),
        );
        // Whole grids: each grid's slice comes ordered off (grid_id, seq) and the slices are
        // merged, whatever the number of grids; a city's records are never scanned in seq
        // order for one grid's rows.
        let rows = if scope.is_whole_grids() {
            self.query(
                "SELECT r.seq, r.entity, r.id, r.deleted, r.data
                   FROM unnest($1::uuid[]) AS g(grid),
                   LATERAL (SELECT seq, entity, id, deleted, data FROM records
                             WHERE grid_id = g.grid AND seq > $2 AND NOT (deleted AND seq <= $3)
                             ORDER BY seq LIMIT $4) r
                  ORDER BY r.seq LIMIT $4",
                &[&scope.grids, &after, &hide, &limit],
            )?
        } else {
            let sql = format!(
                "SELECT seq, entity, id, deleted, data FROM records
                  WHERE seq > $4 AND NOT (deleted AND seq <= $6) AND {}
                  ORDER BY seq LIMIT $5",
                condition(scope, "")
            );
            self.scoped(
                &sql,
                &[
                    &scope.grids,
                    &scope.buildings,
                    &scope.owner,
                    &after,
                    &limit,
                    &hide,
                ],
            )?
        };
        Ok(rows
            .iter()
            .map(|r| FeedRow {
                seq: r.get::<_, i64>(0) as u64,
                entity: Entity::from_code(r.get(1)),
                id: r.get(2),
                deleted: r.get(3),
                data: r.get(4),
            })
            .collect())
    }

    fn live_keys(&mut self, scope: &Scope, through: u64) -> Result<Vec<(Entity, Uuid, u64)>> {
        let sql = format!(
            "SELECT entity, id, seq FROM records WHERE NOT deleted AND seq <= $4 AND {}",
            condition(scope, "")
        );
        let rows = self.scoped(
            &sql,
            &[
                &scope.grids,
                &scope.buildings,
                &scope.owner,
                &(through as i64),
            ],
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    Entity::from_code(r.get(0)),
                    r.get(1),
                    r.get::<_, i64>(2) as u64,
                )
            })
            .collect())
    }

    fn grid_digests(&mut self, grids: &[Uuid]) -> Result<Vec<GridDigest>> {
        let missing: Vec<Uuid> = grids
            .iter()
            .filter(|g| !self.digests.contains_key(g))
            .copied()
            .collect();
        if !missing.is_empty() {
            for r in self.fetch(
                "SELECT grid_id, count, digest FROM grid_digests WHERE grid_id = ANY($1)",
                &[&missing],
            )? {
                let bytes: &[u8] = r.get(2);
                let digest = bytes
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("a grid digest is not 16 bytes".into()))?;
                self.digests.insert(
                    r.get(0),
                    GridDigest {
                        count: r.get(1),
                        digest,
                    },
                );
            }
        }
        // A grid with no row has no digest, as in the table.
        Ok(grids
            .iter()
            .filter_map(|g| self.digests.get(g).copied())
            .collect())
    }

    fn live_data(&mut self, entity: Entity) -> Result<Vec<String>> {
        Ok(self
            .query(
                "SELECT data FROM records WHERE entity = $1 AND NOT deleted ORDER BY seq",
                &[&entity.code()],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn live_in_grids(&mut self, entity: Entity, grids: &[Uuid]) -> Result<Vec<String>> {
        Ok(self
            .query(
                "SELECT data FROM records WHERE entity = $1 AND NOT deleted AND grid_id = ANY($2) ORDER BY seq",
                &[&entity.code(), &grids],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn live_with_status(
        &mut self,
        entity: Entity,
        grids: &[Uuid],
        statuses: &[&str],
    ) -> Result<Vec<String>> {
        Ok(self
            .query(
                "SELECT r.data FROM facts f JOIN records r ON r.entity = f.entity AND r.id = f.id
                 WHERE f.entity = $1 AND f.status = ANY($3) AND f.grid_id = ANY($2)
                 ORDER BY r.seq",
                &[&entity.code(), &grids, &statuses],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn late(
        &mut self,
        entity: Entity,
        kind: Option<&str>,
        statuses: &[&str],
        before_ms: i64,
    ) -> Result<Vec<String>> {
        Ok(self
            .query(
                "SELECT r.data FROM facts f JOIN records r ON r.entity = f.entity AND r.id = f.id
                 WHERE f.entity = $1 AND f.until < $2 AND ($3::text IS NULL OR f.kind = $3)
                   AND (cardinality($4::text[]) = 0 OR f.status = ANY($4))
                 ORDER BY r.seq",
                &[&entity.code(), &before_ms, &kind, &statuses],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn live_between(
        &mut self,
        entity: Entity,
        grids: &[Uuid],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<String>> {
        Ok(self
            .query(
                "SELECT r.data FROM facts f JOIN records r ON r.entity = f.entity AND r.id = f.id
                 WHERE f.entity = $1 AND f.grid_id = ANY($2) AND f.at >= $3 AND f.at < $4",
                &[&entity.code(), &grids, &from_ms, &to_ms],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn live_between_kinds(
        &mut self,
        entity: Entity,
        grids: &[Uuid],
        kinds: &[&str],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<String>> {
        Ok(self
            .query(
                "SELECT r.data FROM facts f JOIN records r ON r.entity = f.entity AND r.id = f.id
                 WHERE f.entity = $1 AND f.grid_id = ANY($2) AND f.at >= $3 AND f.at < $4
                   AND f.kind = ANY($5)",
                &[&entity.code(), &grids, &from_ms, &to_ms, &kinds],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn live_page(&mut self, entity: Entity, after: u64, limit: u32) -> Result<Vec<PlacedRow>> {
        Ok(self
            .query(
                "SELECT seq, id, grid_id, building_id, data FROM records
                 WHERE entity = $1 AND NOT deleted AND seq > $2 ORDER BY seq LIMIT $3",
                &[&entity.code(), &(after as i64), &i64::from(limit)],
            )?
            .iter()
            .map(|r| PlacedRow {
                seq: r.get::<_, i64>(0) as u64,
                id: r.get(1),
                grid_id: r.get(2),
                building_id: r.get(3),
                data: r.get(4),
            })
            .collect())
    }

    fn tally(&mut self, q: &facts::TallyQuery<'_>) -> Result<Vec<facts::Tally>> {
        Ok(self
            .query(
                "SELECT grid_id, building_id, subject_id, actor_id, kind, status, COUNT(*),
                        COUNT(*) FILTER (WHERE until < $5), COALESCE(SUM(amount), 0),
                        COUNT(*) FILTER (WHERE seen >= $6)
                 FROM facts
                 WHERE entity = $1 AND grid_id = ANY($2) AND at >= $3 AND at < $4
                 GROUP BY grid_id, building_id, subject_id, actor_id, kind, status",
                &[
                    &q.entity.code(),
                    &q.grids,
                    &q.from_ms,
                    &q.to_ms,
                    &q.now_ms,
                    &q.seen_from_ms,
                ],
            )?
            .iter()
            .map(|r| facts::Tally {
                grid_id: r.get(0),
                building_id: r.get(1),
                subject_id: r.get(2),
                actor_id: r.get(3),
                kind: r.get(4),
                status: r.get(5),
                count: r.get::<_, i64>(6) as u64,
                late: r.get::<_, i64>(7) as u64,
                amount: r.get(8),
                seen: r.get::<_, i64>(9) as u64,
            })
            .collect())
    }

    fn visit_months(
        &mut self,
        grids: &[Uuid],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<facts::VisitMonth>> {
        Ok(self
            .query(
                "SELECT grid_id, actor_id, month, visits FROM visit_months
                 WHERE grid_id = ANY($1) AND month >= $2 AND month < $3 AND visits != 0",
                &[&grids, &from_ms, &to_ms],
            )?
            .iter()
            .map(|r| facts::VisitMonth {
                grid_id: r.get(0),
                actor_id: r.get(1),
                month_ms: r.get(2),
                visits: r.get(3),
            })
            .collect())
    }

    fn live_page_in_grids(
        &mut self,
        entity: Entity,
        grids: &[Uuid],
        after: u64,
        limit: u32,
    ) -> Result<Vec<(u64, String)>> {
        Ok(self
            .query(
                "SELECT seq, data FROM records WHERE entity = $1 AND NOT deleted AND grid_id = ANY($2) AND seq > $3 ORDER BY seq LIMIT $4",
                &[&entity.code(), &grids, &(after as i64), &i64::from(limit)],
            )?
            .iter()
            .map(|r| (r.get::<_, i64>(0) as u64, r.get(1)))
            .collect())
    }

    fn people(&mut self) -> Result<Vec<(UserRow, Vec<AssignmentRow>)>> {
        // Two statements whatever the number of people: the office reads this on every page.
        let mut by_user: HashMap<Uuid, Vec<AssignmentRow>> = HashMap::new();
        for r in self.query(
            "SELECT user_id, role, grid_id, building_id FROM assignments",
            &[],
        )? {
            if let Some(role) = Role::from_code(r.get(1)) {
                by_user.entry(r.get(0)).or_default().push(AssignmentRow {
                    role,
                    grid_id: r.get(2),
                    building_id: r.get(3),
                });
            }
        }
        Ok(self
            .query(
                "SELECT id, phone, name, roles, password_hash, scope_epoch FROM users ORDER BY name",
                &[],
            )?
            .iter()
            .map(|r| {
                let id: Uuid = r.get(0);
                (
                    UserRow {
                        id,
                        phone: r.get(1),
                        name: r.get(2),
                        roles: roles_from(r.get(3)),
                        password_hash: r.get(4),
                        scope_epoch: r.get::<_, i64>(5) as u64,
                    },
                    by_user.remove(&id).unwrap_or_default(),
                )
            })
            .collect())
    }

    fn devices_of(&mut self, user: Uuid) -> Result<Vec<DeviceRow>> {
        Ok(self
            .query(
                "SELECT device_id, device_name, created_at, expires_at, revoked_at FROM sessions WHERE user_id = $1 ORDER BY created_at DESC",
                &[&user],
            )?
            .iter()
            .map(|r| DeviceRow {
                device_id: r.get(0),
                device_name: r.get(1),
                signed_in_at_ms: r.get(2),
                expires_at_ms: r.get(3),
                revoked_at_ms: r.get(4),
            })
            .collect())
    }

    fn audit_log(&mut self, limit: u32) -> Result<Vec<AuditRow>> {
        Ok(self
            .query(
                "SELECT at, actor_id, action, target, detail FROM audit_log ORDER BY seq DESC LIMIT $1",
                &[&i64::from(limit)],
            )?
            .iter()
            .map(|r| AuditRow {
                at_ms: r.get(0),
                actor_id: r.get(1),
                action: r.get(2),
                target: r.get(3),
                detail: r.get(4),
            })
            .collect())
    }

    fn residents_of(&mut self, household: Uuid) -> Result<Vec<Uuid>> {
        Ok(self
            .query(
                "SELECT id FROM records WHERE entity = 'resident' AND NOT deleted AND (data::jsonb ->> 'household_id') = $1",
                &[&household.to_string()],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn newest_tombstone_before(&mut self, changed_before_ms: i64) -> Result<Option<u64>> {
        Ok(self
            .opt(
                "SELECT MAX(seq) FROM records WHERE deleted AND changed_at < $1",
                &[&changed_before_ms],
            )?
            .and_then(|r| r.get::<_, Option<i64>>(0))
            .map(|s| s as u64))
    }

    fn conflicts(&mut self, grids: &[Uuid], after: i64, limit: u32) -> Result<Vec<ConflictEntry>> {
        let rows = self.query(
            "SELECT seq, entity, id, field, kept_value, kept_hlc, kept_device, lost_value, lost_hlc, lost_device, mutation_id, at
               FROM conflicts WHERE seq > $1 AND grid_id = ANY($2) ORDER BY seq LIMIT $3",
            &[&after, &grids, &i64::from(limit)],
        )?;
        let json = |s: &str| serde_json::from_str(s).unwrap_or(serde_json::Value::Null);
        Ok(rows
            .iter()
            .map(|r| ConflictEntry {
                seq: r.get(0),
                entity: r.get(1),
                id: r.get(2),
                field: r.get(3),
                kept_value: json(r.get(4)),
                kept_hlc: r.get(5),
                kept_device: r.get(6),
                lost_value: json(r.get(7)),
                lost_hlc: r.get(8),
                lost_device: r.get(9),
                mutation_id: r.get(10),
                at: DateTime::from_timestamp_millis(r.get(11)).unwrap_or_default(),
            })
            .collect())
    }

    fn blob_in_scope(&mut self, scope: &Scope, sha256: &str) -> Result<bool> {
        let sql = format!(
            "SELECT 1 FROM blob_refs b JOIN records r ON r.entity = b.entity AND r.id = b.id
              WHERE b.sha256 = $4 AND NOT r.deleted AND {} LIMIT 1",
            condition(scope, "r.")
        );
        Ok(!self
            .scoped(
                &sql,
                &[&scope.grids, &scope.buildings, &scope.owner, &sha256],
            )?
            .is_empty())
    }

    fn blob_known(&mut self, sha256: &str) -> Result<bool> {
        Ok(self
            .opt("SELECT 1 FROM blobs WHERE sha256 = $1", &[&sha256])?
            .is_some())
    }

    fn user_by_phone(&mut self, phone: &str) -> Result<Option<UserRow>> {
        Ok(self
            .opt(
                "SELECT id, phone, name, roles, password_hash, scope_epoch FROM users WHERE phone = $1",
                &[&phone],
            )?
            .map(|r| UserRow {
                id: r.get(0),
                phone: r.get(1),
                name: r.get(2),
                roles: roles_from(r.get(3)),
                password_hash: r.get(4),
                scope_epoch: r.get::<_, i64>(5) as u64,
            }))
    }

    fn user_count(&mut self) -> Result<u64> {
        Ok(self
            .opt("SELECT COUNT(*) FROM users", &[])?
            .map_or(0, |r| r.get::<_, i64>(0) as u64))
    }

    fn assignments(&mut self, user: Uuid) -> Result<Vec<AssignmentRow>> {
        Ok(self
            .query(
                "SELECT role, grid_id, building_id FROM assignments WHERE user_id = $1",
                &[&user],
            )?
            .iter()
            .filter_map(|r| {
                Some(AssignmentRow {
                    role: Role::from_code(r.get(0))?,
                    grid_id: r.get(1),
                    building_id: r.get(2),
                })
            })
            .collect())
    }

    fn session(&mut self, token_hash: &str) -> Result<Option<SessionRow>> {
        Ok(self
            .opt(
                "SELECT s.user_id, s.device_id, s.expires_at, s.revoked_at, u.name, u.roles, u.scope_epoch
                   FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
                &[&token_hash],
            )?
            .map(|r| SessionRow {
                user_id: r.get(0),
                device_id: r.get(1),
                expires_at_ms: r.get(2),
                revoked: r.get::<_, Option<i64>>(3).is_some(),
                name: r.get(4),
                roles: roles_from(r.get(5)),
                scope_epoch: r.get::<_, i64>(6) as u64,
            }))
    }

    fn outcome(&mut self, mutation: Uuid) -> Result<Option<PriorOutcome>> {
        if let Some(known) = self.outcomes.get(&mutation) {
            return Ok(known.clone());
        }
        let found = self
            .fetch_opt(
                "SELECT error_code, error_msg, seq FROM mutations WHERE id = $1",
                &[&mutation],
            )?
            .map(|r| prior(&r, 0));
        self.outcomes.insert(mutation, found.clone());
        Ok(found)
    }

    fn field_version(
        &mut self,
        entity: &'static str,
        id: Uuid,
        field: &str,
    ) -> Result<Option<(Hlc, String)>> {
        let key = (entity, id, field.to_string());
        if let Some(known) = self.versions.get(&key) {
            return Ok(known.clone());
        }
        let found = self
            .fetch_opt(
                "SELECT hlc_wall, hlc_count, device_id FROM field_versions WHERE entity = $1 AND id = $2 AND field = $3",
                &[&entity, &id, &field],
            )?
            .map(|r| {
                let counter = u32::try_from(r.get::<_, i64>(1)).unwrap_or(u32::MAX);
                (Hlc::new(r.get(0), counter), r.get(2))
            });
        self.versions.insert(key, found.clone());
        Ok(found)
    }

    fn schema_version(&mut self) -> Result<u32> {
        Ok(self
            .opt(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )?
            .map_or(0, |r| r.get::<_, i32>(0) as u32))
    }

    fn login_failures(&mut self, key: &str, since_ms: i64) -> Result<Vec<i64>> {
        Ok(self
            .query(
                "SELECT at FROM login_failures WHERE key = $1 AND at > $2",
                &[&key, &since_ms],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn messages(&mut self, f: &MessageFilter) -> Result<Vec<MessageRow>> {
        // One statement for every filter: an absent condition is a NULL parameter.
        let state = f.state.map(MessageState::code);
        self.query(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE ($1::uuid[] IS NULL OR grid_id = ANY($1))
                   AND ($2::uuid IS NULL OR recipient_id = $2) AND ($3::text IS NULL OR state = $3)
                 ORDER BY created_at DESC, id DESC LIMIT $4"
            ),
            &[&f.grids, &f.recipient, &state, &i64::from(f.limit)],
        )?
        .iter()
        .map(message_row)
        .collect()
    }

    fn messages_keyed(&mut self, keys: &[String]) -> Result<Vec<MessageRow>> {
        self.query(
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE trigger_key = ANY($1)"),
            &[&keys],
        )?
        .iter()
        .map(message_row)
        .collect()
    }

    fn messages_sent_since(&mut self, recipient: Uuid, since_ms: i64) -> Result<u64> {
        let n: i64 = self.query(
            "SELECT count(*) FROM messages WHERE recipient_id = $1 AND NOT urgent
                 AND state IN ('sent', 'delivered') AND settled_at >= $2",
            &[&recipient, &since_ms],
        )?[0]
            .get(0);
        Ok(n as u64)
    }
    fn resident_account(&mut self, id: Uuid) -> Result<Option<ResidentAccountRow>> {
        Ok(self
            .opt(
                &format!("SELECT {RESIDENT_ACCOUNT_COLUMNS} FROM resident_accounts WHERE id = $1"),
                &[&id],
            )?
            .map(|r| resident_account(&r)))
    }

    fn resident_account_by_phone(&mut self, phone: &str) -> Result<Option<ResidentAccountRow>> {
        Ok(self
            .opt(
                &format!(
                    "SELECT {RESIDENT_ACCOUNT_COLUMNS} FROM resident_accounts WHERE phone = $1"
                ),
                &[&phone],
            )?
            .map(|r| resident_account(&r)))
    }

    fn resident_code(&mut self, phone_key: &str) -> Result<Option<ResidentCodeRow>> {
        Ok(self
            .opt(
                "SELECT code_hash, expires_at, tries FROM resident_codes WHERE phone_key = $1",
                &[&phone_key],
            )?
            .map(|r| ResidentCodeRow {
                phone_key: phone_key.to_string(),
                code_hash: r.get(0),
                expires_at_ms: r.get(1),
                tries: r.get::<_, i32>(2) as u32,
            }))
    }

    fn resident_session(&mut self, token_hash: &str) -> Result<Option<ResidentSessionRow>> {
        Ok(self
            .opt(
                "SELECT account_id, created_at, expires_at, revoked_at
                   FROM resident_sessions WHERE token_hash = $1",
                &[&token_hash],
            )?
            .map(|r| ResidentSessionRow {
                token_hash: token_hash.to_string(),
                account_id: r.get(0),
                created_at_ms: r.get(1),
                expires_at_ms: r.get(2),
                revoked: r.get::<_, Option<i64>>(3).is_some(),
            }))
    }
}

impl WriteTx for PgTx<'_> {
    fn insert_message(&mut self, m: &MessageRow) -> Result<bool> {
        let n = self.exec(
            "INSERT INTO messages (id, trigger_key, recipient_id, address, notice, params, link, urgent,
                 grid_id, created_at, state, attempts, next_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (trigger_key) DO NOTHING",
            &[
                &m.id,
                &m.trigger_key,
                &m.recipient_id,
                &m.address,
                &m.notice,
                &m.params_json(),
                &m.link,
                &m.urgent,
                &m.grid_id,
                &m.created_at_ms,
                &m.state.code(),
                &(m.attempts as i32),
                &m.next_at_ms,
            ],
        )?;
        Ok(n == 1)
    }

    fn claim_messages(
        &mut self,
        worker: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<MessageRow>> {
        // The writer lock makes this the only claim running, so no row can be taken twice; the
        // rows are read as they were, then marked, in one transaction.
        let rows = self
            .query(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages
                     WHERE state IN ('queued', 'sending') AND next_at <= $1
                     ORDER BY urgent DESC, next_at LIMIT $2"
                ),
                &[&now_ms, &i64::from(limit)],
            )?
            .iter()
            .map(message_row)
            .collect::<Result<Vec<_>>>()?;
        let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
        self.exec(
            "UPDATE messages SET state = 'sending', claimed_by = $2, next_at = $3,
                 attempts = attempts + 1 WHERE id = ANY($1)",
            &[&ids, &worker, &lease_until_ms],
        )?;
        Ok(rows)
    }

    fn settle_message(&mut self, s: &MessageSettlement) -> Result<bool> {
        let n = self.exec(
            "UPDATE messages SET state = $2, next_at = $3, provider = coalesce($4, provider),
                 provider_ref = $5, words = $6, settled_at = $7
             WHERE id = $1 AND state = 'sending'",
            &[
                &s.id,
                &s.state.code(),
                &s.next_at_ms,
                &s.provider,
                &s.provider_ref,
                &s.words,
                &s.settled_at_ms,
            ],
        )?;
        Ok(n == 1)
    }

    fn write_record(&mut self, row: &LogRow<'_>) -> Result<()> {
        self.head = self.head.map(|h| h.max(row.seq));
        self.known.remove(&(row.entity, row.id));
        self.written.insert(
            (row.entity, row.id),
            WrittenRecord {
                seq: row.seq as i64,
                grid_id: row.grid_id,
                building_id: row.building_id,
                owner_id: row.owner_id,
                deleted: row.deleted,
                changed_at_ms: row.changed_at_ms,
                data: row.data.to_string(),
            },
        );
        self.spill()
    }

    fn set_fact(&mut self, entity: Entity, id: Uuid, fact: Option<&facts::Fact>) -> Result<()> {
        self.facts.insert((entity, id), fact.cloned());
        self.spill()
    }

    fn clear_facts(&mut self) -> Result<()> {
        self.facts.clear();
        self.visit_months.clear();
        self.exec("DELETE FROM facts", &[])?;
        self.exec("DELETE FROM visit_months", &[])?;
        Ok(())
    }

    fn count_visits(&mut self, m: &facts::VisitMonth) -> Result<()> {
        *self
            .visit_months
            .entry((m.grid_id, m.month_ms, m.actor_id))
            .or_default() += m.visits;
        self.spill()
    }

    fn set_grid_digest(&mut self, grid: Uuid, d: &GridDigest) -> Result<()> {
        self.digests.insert(grid, *d);
        self.dirty.insert(grid);
        Ok(())
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.exec(
            "INSERT INTO meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    // The series are a table of their own that no held write touches: sent at once, without
    // flushing what waits.
    fn next_in_series(&mut self, series: &str) -> Result<u64> {
        let rows = self.fetch(
            "INSERT INTO case_series (series, last) VALUES ($1, 1)
             ON CONFLICT (series) DO UPDATE SET last = case_series.last + 1
             RETURNING last",
            &[&series],
        )?;
        let last: i64 = rows
            .first()
            .map(|r| r.get(0))
            .ok_or_else(|| StoreError::Corrupt("no number returned".into()))?;
        Ok(last as u64)
    }

    fn raise_series(&mut self, series: &str, last: u64) -> Result<()> {
        self.send(
            "INSERT INTO case_series (series, last) VALUES ($1, $2)
             ON CONFLICT (series) DO UPDATE SET last = GREATEST(case_series.last, excluded.last)",
            &[&series, &(last as i64)],
        )?;
        Ok(())
    }

    fn delete_tombstones_through(&mut self, seq: u64) -> Result<usize> {
        let n = self.exec(
            "DELETE FROM records WHERE deleted AND seq <= $1",
            &[&(seq as i64)],
        )? as usize;
        self.head = None;
        self.known.clear();
        Ok(n)
    }

    fn save_outcome(&mut self, o: &OutcomeRow<'_>) -> Result<()> {
        let status = if o.status == PushStatus::Merged {
            "merged"
        } else {
            "applied"
        };
        self.outcomes.insert(
            o.mutation.id,
            Some(PriorOutcome {
                error: o.error.cloned(),
                seq: o.seq,
            }),
        );
        self.new_outcomes.push(NewOutcome {
            id: o.mutation.id,
            user_id: o.user_id,
            device_id: o.device_id.to_string(),
            kind: o.mutation.kind.clone(),
            status,
            error_code: o.error.map(|e| e.code.clone()),
            error_msg: o.error.map(|e| e.message.clone()),
            seq: o.seq.map(|s| s as i64),
            recorded_at_ms: o.mutation.recorded_at.timestamp_millis(),
            received_at_ms: o.received_at_ms,
            clock_skew_ms: o.clock_skew_ms,
        });
        self.spill()
    }

    fn set_field_version(
        &mut self,
        entity: &'static str,
        id: Uuid,
        field: &str,
        hlc: Hlc,
        device: &str,
    ) -> Result<()> {
        let key = (entity, id, field.to_string());
        self.versions
            .insert(key.clone(), Some((hlc, device.to_string())));
        self.new_versions.insert(key);
        Ok(())
    }

    fn log_conflict(&mut self, c: &ConflictRow, now_ms: i64) -> Result<()> {
        self.conflicts.push(NewConflict {
            entity: c.entity,
            id: c.id,
            grid_id: c.grid_id,
            field: c.field.clone(),
            kept: [c.kept.0.to_string(), c.kept.1.to_string(), c.kept.2.clone()],
            lost: [c.lost.0.to_string(), c.lost.1.to_string(), c.lost.2.clone()],
            mutation_id: c.mutation_id,
            at_ms: now_ms,
        });
        Ok(())
    }

    fn add_blob_refs(&mut self, shas: &[String], entity: Entity, id: Uuid) -> Result<()> {
        self.blob_refs.extend(
            shas.iter()
                .map(|sha| (sha.to_ascii_lowercase(), entity, id)),
        );
        Ok(())
    }

    fn blob_received(&mut self, sha256: &str, bytes: u64, now_ms: i64) -> Result<()> {
        self.exec(
            "INSERT INTO blobs (sha256, bytes, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&sha256, &(bytes as i64), &now_ms],
        )?;
        Ok(())
    }

    fn insert_user(&mut self, u: &UserRow, created_at_ms: i64) -> Result<()> {
        let roles: Vec<&str> = u.roles.iter().map(|r| r.code()).collect();
        self.exec(
            "INSERT INTO users (id, phone, name, roles, password_hash, scope_epoch, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &u.id,
                &u.phone,
                &u.name,
                &roles.join(","),
                &u.password_hash,
                &(u.scope_epoch as i64),
                &created_at_ms,
            ],
        )?;
        Ok(())
    }

    fn insert_assignment(&mut self, user: Uuid, a: &AssignmentRow) -> Result<()> {
        self.exec(
            "INSERT INTO assignments (user_id, role, grid_id, building_id) VALUES ($1, $2, $3, $4)",
            &[&user, &a.role.code(), &a.grid_id, &a.building_id],
        )?;
        Ok(())
    }

    fn delete_assignments(&mut self, user: Uuid) -> Result<()> {
        self.exec("DELETE FROM assignments WHERE user_id = $1", &[&user])?;
        Ok(())
    }

    fn bump_scope_epoch(&mut self, user: Uuid) -> Result<()> {
        self.exec(
            "UPDATE users SET scope_epoch = scope_epoch + 1 WHERE id = $1",
            &[&user],
        )?;
        Ok(())
    }

    fn insert_session(&mut self, s: &NewSession) -> Result<()> {
        self.exec(
            "INSERT INTO sessions (token_hash, user_id, device_id, device_name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &s.token_hash,
                &s.user_id,
                &s.device_id,
                &s.device_name,
                &s.created_at_ms,
                &s.expires_at_ms,
            ],
        )?;
        Ok(())
    }

    fn revoke_session(&mut self, token_hash: &str, now_ms: i64) -> Result<bool> {
        Ok(self.exec(
            "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
            &[&token_hash, &now_ms],
        )? > 0)
    }

    fn revoke_sessions_of(&mut self, user: Uuid, now_ms: i64) -> Result<usize> {
        Ok(self.exec(
            "UPDATE sessions SET revoked_at = $2 WHERE revoked_at IS NULL AND user_id = $1",
            &[&user, &now_ms],
        )? as usize)
    }

    fn set_password_hash(&mut self, user: Uuid, hash: &str) -> Result<()> {
        self.exec(
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            &[&user, &hash],
        )?;
        Ok(())
    }

    fn revoke_device(&mut self, user: Uuid, device_id: &str, now_ms: i64) -> Result<usize> {
        Ok(self.exec(
            "UPDATE sessions SET revoked_at = $3 WHERE revoked_at IS NULL AND user_id = $1 AND device_id = $2",
            &[&user, &device_id, &now_ms],
        )? as usize)
    }

    fn add_audit(&mut self, row: &AuditRow) -> Result<()> {
        self.exec(
            "INSERT INTO audit_log (at, actor_id, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
            &[&row.at_ms, &row.actor_id, &row.action, &row.target, &row.detail],
        )?;
        Ok(())
    }

    fn add_login_failure(&mut self, key: &str, at_ms: i64) -> Result<()> {
        self.exec(
            "INSERT INTO login_failures (key, at) VALUES ($1, $2)",
            &[&key, &at_ms],
        )?;
        Ok(())
    }

    fn clear_login_failures(&mut self, key: &str) -> Result<()> {
        self.exec("DELETE FROM login_failures WHERE key = $1", &[&key])?;
        Ok(())
    }

    fn forget_login_failures_before(&mut self, before_ms: i64) -> Result<()> {
        self.exec("DELETE FROM login_failures WHERE at <= $1", &[&before_ms])?;
        Ok(())
    }
    fn put_resident_account(&mut self, a: &ResidentAccountRow) -> Result<()> {
        self.exec(
            "INSERT INTO resident_accounts (id, phone, household_id, resident_id, grid_id,
                                            verified_at, blocked_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO UPDATE SET phone = excluded.phone,
               household_id = excluded.household_id, resident_id = excluded.resident_id,
               grid_id = excluded.grid_id, verified_at = excluded.verified_at,
               blocked_at = excluded.blocked_at",
            &[
                &a.id,
                &a.phone,
                &a.household_id,
                &a.resident_id,
                &a.grid_id,
                &a.verified_at_ms,
                &a.blocked_at_ms,
                &a.created_at_ms,
            ],
        )?;
        Ok(())
    }

    fn put_resident_code(&mut self, c: &ResidentCodeRow) -> Result<()> {
        self.exec(
            "INSERT INTO resident_codes (phone_key, code_hash, expires_at, tries)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (phone_key) DO UPDATE SET code_hash = excluded.code_hash,
               expires_at = excluded.expires_at, tries = excluded.tries",
            &[
                &c.phone_key,
                &c.code_hash,
                &c.expires_at_ms,
                &(c.tries as i32),
            ],
        )?;
        Ok(())
    }

    fn delete_resident_code(&mut self, phone_key: &str) -> Result<()> {
        self.exec(
            "DELETE FROM resident_codes WHERE phone_key = $1",
            &[&phone_key],
        )?;
        Ok(())
    }

    fn insert_resident_session(&mut self, s: &ResidentSessionRow) -> Result<()> {
        self.exec(
            "INSERT INTO resident_sessions (token_hash, account_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
            &[
                &s.token_hash,
                &s.account_id,
                &s.created_at_ms,
                &s.expires_at_ms,
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
        Ok(self.exec(
            "UPDATE resident_sessions SET revoked_at = $3
              WHERE account_id = $1 AND revoked_at IS NULL
                AND ($2::TEXT IS NULL OR token_hash = $2)",
            &[&account, &token_hash, &now_ms],
        )? as usize)
    }
}

/// The columns [`resident_account`] reads, in its order.
const RESIDENT_ACCOUNT_COLUMNS: &str =
    "id, phone, household_id, resident_id, grid_id, verified_at, blocked_at, created_at";

fn resident_account(r: &Row) -> ResidentAccountRow {
    ResidentAccountRow {
        id: r.get(0),
        phone: r.get(1),
        household_id: r.get(2),
        resident_id: r.get(3),
        grid_id: r.get(4),
        verified_at_ms: r.get(5),
        blocked_at_ms: r.get(6),
        created_at_ms: r.get(7),
    }
}
