-- The year's statistics at a street's size (a million visits) without grouping a million facts
-- (see store/facts.rs): each fact may be "seen" at a time (a household: its last visit), and
-- the visits per grid, person and month are kept as they are written. The facts are rebuilt at
-- the next open (their version changes with this), which fills both. The tally's covering
-- index carries the new column, so a tally still reads the index alone.
ALTER TABLE facts ADD COLUMN seen BIGINT;
DROP INDEX facts_grid_at;
CREATE INDEX facts_grid_at ON facts(entity, grid_id, at)
    INCLUDE (building_id, subject_id, actor_id, kind, status, until, amount, seen);
CREATE TABLE visit_months (
    grid_id  UUID NOT NULL,
    month    BIGINT NOT NULL,
    actor_id UUID NOT NULL,
    visits   BIGINT NOT NULL,
    PRIMARY KEY (grid_id, month, actor_id)
);
