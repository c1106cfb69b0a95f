-- Call-ups (一键响应) of the user's grids and the answers to them. Times are Unix milliseconds;
-- ids 16-byte UUID blobs; roles a comma-separated list of codes (empty: everyone of the grid).

CREATE TABLE callups (
    id         BLOB PRIMARY KEY,
    grid_id    BLOB NOT NULL,
    roles      TEXT NOT NULL,
    place      TEXT NOT NULL,
    lat        REAL,
    lon        REAL,
    at         INTEGER NOT NULL,
    message    TEXT NOT NULL,
    created_by BLOB NOT NULL,
    closed_at  INTEGER
) STRICT;

CREATE TABLE callup_responses (
    id          BLOB PRIMARY KEY,
    callup_id   BLOB NOT NULL,
    user_id     BLOB NOT NULL,
    answer      TEXT NOT NULL CHECK (answer IN ('coming', 'cannot', 'arrived')),
    at          INTEGER NOT NULL,
    lat         REAL,
    lon         REAL,
    accuracy_m  REAL,
    distance_m  REAL
) STRICT;
CREATE INDEX callup_responses_callup ON callup_responses(callup_id, user_id, at);

-- Call-ups were skipped as unknown before this version: pull the scope again from the start.
DELETE FROM device_state WHERE key = 'sync_cursor';
