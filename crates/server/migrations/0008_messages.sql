-- The server's outbox (issue 25). Every notice the server decides to send is a row here, written
-- in the transaction of the fact that caused it (a call-up, a dispatch…), then delivered by a
-- worker (`crate::reach`). `trigger_key` names the rule and its subject, so a rule that fires
-- twice for one fact (a retried push, a sweep in two processes) queues one message; `id` is the
-- message's idempotency key at the provider (Alibaba's OutId, Tencent's SessionContext).
-- `next_at` is when a worker may take the row next: a queued row's due time, a claimed row's
-- lease end (a row still `sending` past it was being sent by a process that died: in doubt).
CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    trigger_key   TEXT NOT NULL UNIQUE,
    recipient_id  TEXT NOT NULL,
    address       TEXT NOT NULL,
    notice        TEXT NOT NULL,
    params        TEXT NOT NULL,
    link          TEXT NOT NULL,
    urgent        INTEGER NOT NULL,
    grid_id       TEXT,
    created_at    INTEGER NOT NULL,
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL,
    claimed_by    TEXT,
    provider      TEXT,
    provider_ref  TEXT,
    words         TEXT,
    settled_at    INTEGER
) STRICT;
CREATE INDEX messages_due ON messages(next_at) WHERE state IN ('queued', 'sending');
CREATE INDEX messages_recipient ON messages(recipient_id, created_at);
CREATE INDEX messages_grid ON messages(grid_id, created_at);
