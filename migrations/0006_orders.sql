-- The v1 additions the phone holds: departments to escalate to, residents' requests (三单制
-- orders) and their steps, on issues who they are assigned to, the department they went to
-- and when they are due, and residents who moved out. Times are Unix milliseconds; ids 16-byte UUID blobs.

CREATE TABLE departments (
    id    BLOB PRIMARY KEY,
    name  TEXT NOT NULL,
    phone TEXT
) STRICT;

CREATE TABLE orders (
    id           BLOB PRIMARY KEY,
    grid_id      BLOB NOT NULL,
    building_id  BLOB,
    household_id BLOB,
    kind         TEXT NOT NULL,
    source       TEXT NOT NULL,
    status       TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    requester    TEXT NOT NULL,
    address      TEXT NOT NULL,
    recorded_by  BLOB NOT NULL,
    recorded_at  INTEGER NOT NULL,
    due_at       INTEGER NOT NULL,
    -- Dispatched to this person; NULL while posted, or once dispatched: open to the grid.
    assignee     BLOB,
    taker        BLOB,
    satisfaction TEXT,
    photos       TEXT NOT NULL
) STRICT;
CREATE INDEX orders_grid_status ON orders(grid_id, status, due_at);
CREATE INDEX orders_assignee ON orders(assignee, status);
CREATE INDEX orders_taker ON orders(taker, status);
CREATE INDEX orders_household ON orders(household_id);

CREATE TABLE order_events (
    id            BLOB PRIMARY KEY,
    order_id      BLOB NOT NULL,
    action        TEXT NOT NULL,
    actor         BLOB NOT NULL,
    note          TEXT NOT NULL,
    at            INTEGER NOT NULL,
    photos        TEXT NOT NULL,
    assignee      BLOB,
    satisfaction  TEXT,
    merged_reason TEXT
) STRICT;
CREATE INDEX order_events_order ON order_events(order_id, at);

ALTER TABLE issues ADD COLUMN assignee BLOB;
ALTER TABLE issues ADD COLUMN department_id BLOB;
ALTER TABLE issues ADD COLUMN due_at INTEGER;
CREATE INDEX issues_assignee ON issues(assignee, status);

ALTER TABLE service_records ADD COLUMN order_id BLOB;

-- A resident who moved away stays on the roll, marked.
ALTER TABLE residents ADD COLUMN moved_out INTEGER NOT NULL DEFAULT 0;

-- Issues cached before this version lack the new columns, and departments and orders were
-- skipped as unknown: pull the scope again from the start (upserts; the outbox is untouched).
DELETE FROM device_state WHERE key = 'sync_cursor';
