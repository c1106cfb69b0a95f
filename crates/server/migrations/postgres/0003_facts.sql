-- Facts: the counting columns of the records the office counts (store::facts), one row per live
-- record, written in the same transaction as the record; built from the records at the next
-- open (the facts_version meta key is absent until then).
CREATE TABLE facts (
    entity      TEXT NOT NULL,
    id          UUID NOT NULL,
    grid_id     UUID NOT NULL,
    at          BIGINT NOT NULL,
    building_id UUID,
    subject_id  UUID,
    actor_id    UUID,
    kind        TEXT,
    status      TEXT,
    until       BIGINT,
    amount      DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (entity, id)
);
CREATE INDEX facts_grid_at ON facts(entity, grid_id, at)
    INCLUDE (building_id, subject_id, actor_id, kind, status, until, amount);
CREATE INDEX facts_status ON facts(entity, status, grid_id);
