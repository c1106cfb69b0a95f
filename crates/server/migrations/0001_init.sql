-- The central service's schema. Ids are hyphenated UUID text, times Unix milliseconds.
--
-- `records` holds the CURRENT state of every entity, one row each, with the sequence number of
-- its last change. The change feed is this table ordered by `seq`: a record changed twice shows
-- once, at its latest seq, so a pull from the start is a compacted snapshot by construction, and
-- a deleted record stays as a tombstone (deleted = 1) for the retention window.
-- Sequence numbers are allocated inside the single writer's transaction (SQLite has exactly one
-- writer), so no reader can see seq N+1 committed while N is in flight.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE records (
    entity      TEXT NOT NULL,
    id          TEXT NOT NULL,
    seq         INTEGER NOT NULL UNIQUE,
    -- Scope keys: which grid and building the record belongs to, and whose it is.
    grid_id     TEXT,
    building_id TEXT,
    owner_id    TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0,
    changed_at  INTEGER NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (entity, id)
) STRICT;
CREATE INDEX records_grid_seq ON records(grid_id, seq);
CREATE INDEX records_building_seq ON records(building_id, seq);
CREATE INDEX records_owner_seq ON records(owner_id, seq);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    phone         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    roles         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    scope_epoch   INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE assignments (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    grid_id     TEXT,
    building_id TEXT
) STRICT;
CREATE INDEX assignments_user ON assignments(user_id);

-- Tokens are stored only as SHA-256 hashes; a token is bound to the device it was issued to.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_id   TEXT NOT NULL,
    device_name TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;
CREATE INDEX sessions_user ON sessions(user_id);

-- One row per mutation id that changed something (applied or merged): the idempotency record.
CREATE TABLE mutations (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    error_code  TEXT,
    error_msg   TEXT,
    seq         INTEGER,
    recorded_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    -- Set when the device's wall clock was more than 5 minutes off the server's.
    clock_skew_ms INTEGER
) STRICT;

-- Per-field last-writer-wins state for household and resident patches.
CREATE TABLE field_versions (
    entity    TEXT NOT NULL,
    id        TEXT NOT NULL,
    field     TEXT NOT NULL,
    hlc_wall  INTEGER NOT NULL,
    hlc_count INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    PRIMARY KEY (entity, id, field)
) STRICT;

-- Every overwritten value, readable by grid leaders: nothing a user typed is silently lost.
CREATE TABLE conflicts (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    entity       TEXT NOT NULL,
    id           TEXT NOT NULL,
    grid_id      TEXT,
    field        TEXT NOT NULL,
    kept_value   TEXT NOT NULL,
    kept_hlc     TEXT NOT NULL,
    kept_device  TEXT NOT NULL,
    lost_value   TEXT NOT NULL,
    lost_hlc     TEXT NOT NULL,
    lost_device  TEXT NOT NULL,
    mutation_id  TEXT NOT NULL,
    at           INTEGER NOT NULL
) STRICT;
CREATE INDEX conflicts_grid ON conflicts(grid_id, seq);

-- Which records reference which photo: a blob is served only to users who can see one of them.
CREATE TABLE blob_refs (
    sha256 TEXT NOT NULL,
    entity TEXT NOT NULL,
    id     TEXT NOT NULL,
    PRIMARY KEY (sha256, entity, id)
) STRICT;

CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY,
    bytes       INTEGER NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;
