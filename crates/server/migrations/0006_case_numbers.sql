-- The office's numbers for issues and orders (2026-000123): the last number handed out in each
-- series (kind, community, year), taken and raised inside the write transaction that creates
-- the record, so numbers are never given twice.
CREATE TABLE case_series (
    series TEXT PRIMARY KEY,
    last   INTEGER NOT NULL
) STRICT;
