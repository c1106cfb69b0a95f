-- The residents' door (issue 26). A resident is not a user of the phones or the console: they
-- sign in on the resident page with a text-message code, so they live in tables of their own
-- and no staff route can ever see one as a user. `household_id` is set once they are matched
-- to the community's roll (verified); until then they may only report in public places.
CREATE TABLE resident_accounts (
    id           TEXT PRIMARY KEY,
    phone        TEXT NOT NULL UNIQUE,
    household_id TEXT,
    resident_id  TEXT,
    grid_id      TEXT,
    verified_at  INTEGER,
    blocked_at   INTEGER,
    created_at   INTEGER NOT NULL
) STRICT;
-- One live sign-in code per phone (keyed by the phone's digest): its hash, when it lapses and
-- how many wrong tries it has had. A used code is deleted, so it cannot be replayed.
CREATE TABLE resident_codes (
    phone_key  TEXT PRIMARY KEY,
    code_hash  TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    tries      INTEGER NOT NULL
) STRICT;
-- A resident page's session cookie, stored as its SHA-256 like the phones' tokens.
CREATE TABLE resident_sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES resident_accounts(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX resident_sessions_account ON resident_sessions(account_id);
