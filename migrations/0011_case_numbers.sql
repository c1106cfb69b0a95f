-- The office's numbers for issues and orders (2026-000123), as the server hands them out when a
-- record first reaches it; NULL for what this phone made and has not yet sent.
ALTER TABLE issues ADD COLUMN number TEXT;
ALTER TABLE orders ADD COLUMN number TEXT;
