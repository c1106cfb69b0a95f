-- Patrols (巡查): finished ones (this device's and, for whole-grid roles, the grid's), and the
-- fixes of the one under way, which never leave the phone until it ends (then as one simplified
-- track). Times are Unix milliseconds; tracks JSON [[lon, lat], ...].

CREATE TABLE patrols (
    id          BLOB PRIMARY KEY,
    grid_id     BLOB NOT NULL,
    user_id     BLOB NOT NULL,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER NOT NULL,
    track       TEXT NOT NULL,
    distance_m  REAL NOT NULL,
    notes       TEXT NOT NULL,
    issues      TEXT NOT NULL
) STRICT;
CREATE INDEX patrols_user ON patrols(user_id, started_at);

CREATE TABLE patrol_fixes (
    seq         INTEGER PRIMARY KEY,
    patrol_id   BLOB NOT NULL,
    at          INTEGER NOT NULL,
    lat         REAL NOT NULL,
    lon         REAL NOT NULL,
    accuracy_m  REAL NOT NULL,
    mock        INTEGER NOT NULL
) STRICT;

-- Patrols were skipped as unknown before this version: pull the scope again from the start.
DELETE FROM device_state WHERE key = 'sync_cursor';
