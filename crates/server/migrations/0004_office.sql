-- The office: its lists read one entity of a set of grids at a time.
CREATE INDEX records_entity_grid ON records(entity, grid_id) WHERE deleted = 0;

-- Who did what in the office (people, passwords, devices, imports): never updated, never deleted.
CREATE TABLE audit_log (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    actor_id TEXT NOT NULL,
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    detail   TEXT NOT NULL
) STRICT;
