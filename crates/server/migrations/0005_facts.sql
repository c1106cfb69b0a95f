-- Facts: the counting columns of the records the office counts (store::facts), one row per live
-- record, written in the same transaction as the record. Clustered by (entity, grid, time) so a
-- period's statistics read one contiguous range per grid; built from the records at the next
-- open (the facts_version meta key is absent until then). Ids are 16-byte blobs here, not the
-- records' text: a year's visits read in half the bytes, with no text to check and parse.
CREATE TABLE facts (
    entity      TEXT NOT NULL,
    grid_id     BLOB NOT NULL,
    at          INTEGER NOT NULL,
    id          TEXT NOT NULL,
    building_id BLOB,
    subject_id  BLOB,
    actor_id    BLOB,
    kind        TEXT,
    status      TEXT,
    until       INTEGER,
    amount      REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (entity, grid_id, at, id)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX facts_record ON facts(entity, id);
CREATE INDEX facts_status ON facts(entity, status, grid_id);
