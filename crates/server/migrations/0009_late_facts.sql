-- The sweep (reach::sweep) asks every minute which facts fell due: vulnerable households unseen
-- past their cadence among all the households of a city. By kind, then due time, it reads only
-- the late ones.
CREATE INDEX facts_kind_until ON facts(entity, kind, until);
