-- What the device owes the server, and what it needs to remember between runs.

-- One row per mutation, written in the same transaction as the record it describes. Rows are
-- never deleted before the server has answered; a rejected row stays, marked failed, for the
-- user to see.
CREATE TABLE outbox (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    mutation_id   BLOB NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    -- The record the mutation creates or changes, for "what is pending on this household".
    subject_id    BLOB NOT NULL,
    recorded_at   INTEGER NOT NULL,
    hlc           TEXT NOT NULL,
    data          TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'acked', 'merged', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    error_code    TEXT,
    error_message TEXT,
    server_seq    INTEGER,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_state ON outbox(state, seq);
CREATE INDEX outbox_subject ON outbox(subject_id);

-- Photos processed on this device: files under the app's data folder, named by content hash.
CREATE TABLE photos (
    sha256      TEXT PRIMARY KEY,
    path        TEXT NOT NULL,
    thumb_path  TEXT NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    -- Set when the server confirms it holds the blob; only then may the file go.
    uploaded_at INTEGER
) STRICT;

-- Small named values: device id, the HLC, the signed-in user, the sync cursor, last sync.
CREATE TABLE device_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
