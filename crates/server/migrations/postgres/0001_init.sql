-- The server's PostgreSQL schema: the same tables as the SQLite one (migrations 0001 and 0002
-- there), in PostgreSQL's types: ids as uuid, times as Unix milliseconds, record data as the
-- JSON text it arrived as (pulls pass it through unparsed).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE records (
    entity      TEXT NOT NULL,
    id          UUID NOT NULL,
    seq         BIGINT NOT NULL UNIQUE,
    grid_id     UUID,
    building_id UUID,
    owner_id    UUID,
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    changed_at  BIGINT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (entity, id)
);
CREATE INDEX records_grid_seq ON records(grid_id, seq);
CREATE INDEX records_building_seq ON records(building_id, seq);
CREATE INDEX records_owner_seq ON records(owner_id, seq);

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    phone         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    roles         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    scope_epoch   BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL
);

CREATE TABLE assignments (
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    grid_id     UUID,
    building_id UUID
);
CREATE INDEX assignments_user ON assignments(user_id);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_id   TEXT NOT NULL,
    device_name TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE mutations (
    id            UUID PRIMARY KEY,
    user_id       UUID NOT NULL,
    device_id     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    status        TEXT NOT NULL,
    error_code    TEXT,
    error_msg     TEXT,
    seq           BIGINT,
    recorded_at   BIGINT NOT NULL,
    received_at   BIGINT NOT NULL,
    clock_skew_ms BIGINT
);

CREATE TABLE field_versions (
    entity    TEXT NOT NULL,
    id        UUID NOT NULL,
    field     TEXT NOT NULL,
    hlc_wall  BIGINT NOT NULL,
    hlc_count BIGINT NOT NULL,
    device_id TEXT NOT NULL,
    PRIMARY KEY (entity, id, field)
);

CREATE TABLE conflicts (
    seq         BIGSERIAL PRIMARY KEY,
    entity      TEXT NOT NULL,
    id          UUID NOT NULL,
    grid_id     UUID,
    field       TEXT NOT NULL,
    kept_value  TEXT NOT NULL,
    kept_hlc    TEXT NOT NULL,
    kept_device TEXT NOT NULL,
    lost_value  TEXT NOT NULL,
    lost_hlc    TEXT NOT NULL,
    lost_device TEXT NOT NULL,
    mutation_id UUID NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX conflicts_grid ON conflicts(grid_id, seq);

CREATE TABLE blob_refs (
    sha256 TEXT NOT NULL,
    entity TEXT NOT NULL,
    id     UUID NOT NULL,
    PRIMARY KEY (sha256, entity, id)
);

CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY,
    bytes       BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE TABLE grid_digests (
    grid_id UUID PRIMARY KEY,
    count   BIGINT NOT NULL,
    digest  BYTEA NOT NULL
);

-- Failed sign-ins, shared by every server process. `key` is the SHA-256 (hex) of "phone:…" or
-- "addr:…": tried phone numbers are not kept.
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, at);
CREATE INDEX login_failures_at ON login_failures(at);
