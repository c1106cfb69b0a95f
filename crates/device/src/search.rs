//! One search box for everything a worker types at a door: a name ("张三", "张"), pinyin
//! initials ("zs"), full pinyin ("zhangsan", "zhangs"), or building-unit-room ("12-2-301",
//! "12栋2单元"). Every branch is a prefix range scan on an index, bounded by `limit`, so a
//! keystroke costs well under a millisecond even on a community-wide cache.

use crate::Result;
use crate::store::Store;
use gridmate_model::address;
use gridmate_model::search_keys::is_pinyin_query;
use gridmate_model::{HouseholdId, ResidentId};
use rusqlite::params;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchMatch {
    Name,
    Initials,
    Pinyin,
    Address,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub household_id: HouseholdId,
    /// The matching resident; `None` for an address match (the household itself).
    pub resident_id: Option<ResidentId>,
    pub name: String,
    pub relation: Option<String>,
    /// "12-2-301"
    pub short_address: String,
    pub estate: String,
    pub vulnerable: bool,
    pub matched: SearchMatch,
}

/// The smallest string greater than every string starting with `prefix` (BINARY collation).
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

const RESIDENT_HIT: &str =
    "SELECT r.household_id, r.id, r.name, r.relation, b.number, h.unit, h.room,
        b.estate, h.vulnerable
   FROM residents r
   JOIN households h ON h.id = r.household_id
   JOIN buildings b ON b.id = h.building_id";

impl Store {
    /// Results as you type; at most `limit`, best matches first.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let q = query.trim();
        if q.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        if let Some(addr) = address::parse(q) {
            return self.search_address(&addr, limit);
        }
        if is_pinyin_query(q) {
            let key = q.to_ascii_lowercase();
            let mut hits =
                self.search_residents("name_initials", &key, limit, SearchMatch::Initials)?;
            if hits.len() < limit {
                for h in self.search_residents("name_pinyin", &key, limit, SearchMatch::Pinyin)? {
                    if hits.len() >= limit {
                        break;
                    }
                    if !hits.iter().any(|x| x.resident_id == h.resident_id) {
                        hits.push(h);
                    }
                }
            }
            return Ok(hits);
        }
        self.search_residents("name", q, limit, SearchMatch::Name)
    }

    fn search_residents(
        &self,
        column: &'static str,
        prefix: &str,
        limit: usize,
        matched: SearchMatch,
    ) -> Result<Vec<SearchHit>> {
        let mut st = self.conn.prepare_cached(&format!(
            "{RESIDENT_HIT} WHERE r.{column} >= ?1 AND r.{column} < ?2
              ORDER BY r.{column}, r.name LIMIT ?3"
        ))?;
        let rows = st.query_map(params![prefix, prefix_end(prefix), limit as i64], |r| {
            Ok(SearchHit {
                household_id: HouseholdId(r.get(0)?),
                resident_id: Some(ResidentId(r.get(1)?)),
                name: r.get(2)?,
                relation: Some(r.get(3)?),
                short_address: format!(
                    "{}-{}-{}",
                    r.get::<_, String>(4)?,
                    r.get::<_, u16>(5)?,
                    r.get::<_, String>(6)?
                ),
                estate: r.get(7)?,
                vulnerable: r.get(8)?,
                matched,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn search_address(&self, a: &address::RoomAddress, limit: usize) -> Result<Vec<SearchHit>> {
        let room = a.room.as_deref();
        let mut st = self.conn.prepare_cached(
            "SELECT h.id, h.head_name, b.number, h.unit, h.room, b.estate, h.vulnerable
               FROM buildings b JOIN households h ON h.building_id = b.id
              WHERE b.number = ?1
                AND (?2 IS NULL OR h.unit = ?2)
                AND (?3 IS NULL OR (h.room >= ?3 AND h.room < ?4))
              ORDER BY h.room = ?3 DESC, h.unit, length(h.room), h.room
              LIMIT ?5",
        )?;
        let rows = st.query_map(
            params![
                a.building.to_ascii_uppercase(),
                a.unit,
                room,
                room.map(prefix_end),
                limit as i64
            ],
            |r| {
                Ok(SearchHit {
                    household_id: HouseholdId(r.get(0)?),
                    resident_id: None,
                    name: r.get(1)?,
                    relation: None,
                    short_address: format!(
                        "{}-{}-{}",
                        r.get::<_, String>(2)?,
                        r.get::<_, u16>(3)?,
                        r.get::<_, String>(4)?
                    ),
                    estate: r.get(5)?,
                    vulnerable: r.get(6)?,
                    matched: SearchMatch::Address,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
