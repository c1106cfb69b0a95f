-- What the device holds of the server's records, and at which sequence number each arrived: the
-- device's side of the scope digest, and the list a repair sweeps. `seen` marks records met
-- during a repair's re-pull; those not met are gone from the scope.
CREATE TABLE synced (
    entity TEXT NOT NULL,
    id     BLOB NOT NULL,
    seq    INTEGER NOT NULL,
    seen   INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (entity, id)
) STRICT;
