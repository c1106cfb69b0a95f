-- Party members' public commitments (承诺践诺) of the user's grids, and the steps on them.

CREATE TABLE commitments (
    id          BLOB PRIMARY KEY,
    grid_id     BLOB NOT NULL,
    user_id     BLOB NOT NULL,
    user_name   TEXT NOT NULL,
    year        INTEGER NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('promised', 'fulfilled', 'dropped')),
    progress    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX commitments_grid ON commitments(grid_id, year);

CREATE TABLE commitment_events (
    id            BLOB PRIMARY KEY,
    commitment_id BLOB NOT NULL,
    action        TEXT NOT NULL,
    note          TEXT NOT NULL,
    at            INTEGER NOT NULL,
    photos        TEXT NOT NULL,
    service_id    BLOB
) STRICT;
CREATE INDEX commitment_events_commitment ON commitment_events(commitment_id, at);

-- Commitments were skipped as unknown before this version: pull the scope again from the start.
DELETE FROM device_state WHERE key = 'sync_cursor';
