-- Forms the user has started but not saved: a visit half typed survives the app being killed.
-- One draft per form and subject (e.g. "visit:<household id>"); the body is the form's own JSON.
CREATE TABLE drafts (
    key        TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
