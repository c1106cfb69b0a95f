-- Each grid's base map (底图) as pulled: one row per grid, its features kept as the record's JSON
-- (the map reads a grid's whole base map at once; nothing queries inside it).
CREATE TABLE base_maps (
    id       BLOB PRIMARY KEY,
    grid_id  BLOB NOT NULL UNIQUE,
    features TEXT NOT NULL
) STRICT;

-- Base maps were skipped as unknown before this version: pull the scope again from the start.
DELETE FROM device_state WHERE key = 'sync_cursor';
