-- The count and XOR-digest of each grid's live records, kept up to date by every write, so a
-- pull that reaches the head answers its scope's count and digest without scanning the scope.
CREATE TABLE grid_digests (
    grid_id TEXT PRIMARY KEY,
    count   INTEGER NOT NULL,
    digest  BLOB NOT NULL
) STRICT;

-- Existing records are folded in by the server at start-up (see sqlite::rebuild_grid_digests).
INSERT INTO meta (key, value) VALUES ('grid_digests_stale', '1')
    ON CONFLICT(key) DO UPDATE SET value = '1';
