-- The year's statistics at a street's size (a million visits) without grouping a million facts
-- (see store/facts.rs): each fact may be "seen" at a time (a household: its last visit), and
-- the visits per grid, person and month are kept as they are written. The facts are rebuilt at
-- the next open (their version changes with this), which fills both.
ALTER TABLE facts ADD COLUMN seen INTEGER;
CREATE TABLE visit_months (
    grid_id  BLOB NOT NULL,
    month    INTEGER NOT NULL,
    actor_id BLOB NOT NULL,
    visits   INTEGER NOT NULL,
    PRIMARY KEY (grid_id, month, actor_id)
) STRICT, WITHOUT ROWID;
