-- The office: its lists read one entity of a set of grids at a time.
CREATE INDEX records_entity_grid ON records(entity, grid_id) WHERE NOT deleted;

-- Who did what in the office (people, passwords, devices, imports): never updated, never deleted.
CREATE TABLE audit_log (
    seq      BIGSERIAL PRIMARY KEY,
    at       BIGINT NOT NULL,
    actor_id UUID NOT NULL,
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    detail   TEXT NOT NULL
);
