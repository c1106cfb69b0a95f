-- The device's cache of the user's scope: what the server sent down, plus what this device has
-- recorded and not yet seen come back. Ids are 16-byte UUID blobs; times are Unix milliseconds
-- (UTC); lists of codes and photo hashes are comma-separated text.

CREATE TABLE community (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL,
    district    TEXT NOT NULL
) STRICT;

CREATE TABLE grids (
    id           BLOB PRIMARY KEY,
    community_id BLOB NOT NULL,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('resident', 'reserved', 'dedicated')),
    -- GeoJSON MultiPolygon coordinates, WGS-84.
    boundary     TEXT NOT NULL
) STRICT;

CREATE TABLE buildings (
    id       BLOB PRIMARY KEY,
    grid_id  BLOB NOT NULL REFERENCES grids(id) ON DELETE CASCADE,
    number   TEXT NOT NULL,
    estate   TEXT NOT NULL,
    units    INTEGER NOT NULL,
    floors   INTEGER NOT NULL,
    lat      REAL NOT NULL,
    lon      REAL NOT NULL
) STRICT;
CREATE INDEX buildings_grid ON buildings(grid_id, number);
CREATE INDEX buildings_number ON buildings(number);

CREATE TABLE households (
    id                 BLOB PRIMARY KEY,
    grid_id            BLOB NOT NULL,
    building_id        BLOB NOT NULL REFERENCES buildings(id) ON DELETE CASCADE,
    unit               INTEGER NOT NULL,
    room               TEXT NOT NULL,
    address            TEXT NOT NULL,
    head_name          TEXT NOT NULL,
    tags               TEXT NOT NULL,
    vulnerable         INTEGER NOT NULL,
    visit_cadence_days INTEGER NOT NULL,
    -- Latest visit start known here, from the server or from this device.
    last_visit_at      INTEGER,
    -- last_visit_at + cadence, or 0 when never visited: the due-visit worklist's sort key.
    due_at             INTEGER NOT NULL
) STRICT;
CREATE INDEX households_building ON households(building_id, unit, room);
CREATE INDEX households_grid ON households(grid_id);
CREATE INDEX households_due ON households(vulnerable, due_at);

CREATE TABLE residents (
    id               BLOB PRIMARY KEY,
    household_id     BLOB NOT NULL REFERENCES households(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    -- Search keys: "zhangsan" and "zs" for 张三.
    name_pinyin      TEXT NOT NULL,
    name_initials    TEXT NOT NULL,
    relation         TEXT NOT NULL,
    birth_year       INTEGER,
    -- Full number only for roles that call residents; the masked form always.
    phone            TEXT,
    phone_masked     TEXT,
    id_number_masked TEXT,
    tags             TEXT NOT NULL
) STRICT;
CREATE INDEX residents_household ON residents(household_id);
CREATE INDEX residents_name ON residents(name);
CREATE INDEX residents_pinyin ON residents(name_pinyin);
CREATE INDEX residents_initials ON residents(name_initials);

CREATE TABLE issues (
    id           BLOB PRIMARY KEY,
    grid_id      BLOB NOT NULL,
    building_id  BLOB,
    household_id BLOB,
    category     TEXT NOT NULL,
    severity     TEXT NOT NULL,
    source       TEXT NOT NULL,
    status       TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    lat          REAL,
    lon          REAL,
    reported_by  BLOB NOT NULL,
    reported_at  INTEGER NOT NULL,
    photos       TEXT NOT NULL
) STRICT;
CREATE INDEX issues_grid_status ON issues(grid_id, status);
CREATE INDEX issues_status ON issues(status, reported_at);
CREATE INDEX issues_building ON issues(building_id);
CREATE INDEX issues_household ON issues(household_id);

CREATE TABLE issue_events (
    id            BLOB PRIMARY KEY,
    issue_id      BLOB NOT NULL,
    action        TEXT NOT NULL,
    actor         BLOB NOT NULL,
    note          TEXT NOT NULL,
    at            INTEGER NOT NULL,
    photos        TEXT NOT NULL,
    -- Set when the server kept the event as a comment: why it did not apply.
    merged_reason TEXT
) STRICT;
CREATE INDEX issue_events_issue ON issue_events(issue_id, at);

CREATE TABLE visits (
    id            BLOB PRIMARY KEY,
    household_id  BLOB NOT NULL,
    visitor       BLOB NOT NULL,
    started_at    INTEGER NOT NULL,
    ended_at      INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    notes         TEXT NOT NULL,
    people_served INTEGER NOT NULL,
    lat           REAL,
    lon           REAL,
    accuracy_m    REAL,
    photos        TEXT NOT NULL
) STRICT;
CREATE INDEX visits_household ON visits(household_id, started_at);
CREATE INDEX visits_started ON visits(started_at);

CREATE TABLE checkins (
    id                  BLOB PRIMARY KEY,
    user_id             BLOB NOT NULL,
    grid_id             BLOB NOT NULL,
    at                  INTEGER NOT NULL,
    lat                 REAL NOT NULL,
    lon                 REAL NOT NULL,
    accuracy_m          REAL NOT NULL,
    mock_location       INTEGER NOT NULL,
    verdict             TEXT NOT NULL,
    boundary_distance_m REAL NOT NULL
) STRICT;
CREATE INDEX checkins_user ON checkins(user_id, at);

CREATE TABLE service_records (
    id            BLOB PRIMARY KEY,
    user_id       BLOB NOT NULL,
    grid_id       BLOB NOT NULL,
    issue_id      BLOB,
    title         TEXT NOT NULL,
    at            INTEGER NOT NULL,
    hours_tenths  INTEGER NOT NULL,
    people_served INTEGER NOT NULL,
    photos        TEXT NOT NULL
) STRICT;
CREATE INDEX service_records_user ON service_records(user_id, at);
