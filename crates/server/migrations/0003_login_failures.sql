-- Failed sign-ins, kept in the database so that every server process counts the same ones.
-- `key` is the SHA-256 (hex) of "phone:…" or "addr:…": tried phone numbers are not kept.
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_key ON login_failures(key, at);
CREATE INDEX login_failures_at ON login_failures(at);
