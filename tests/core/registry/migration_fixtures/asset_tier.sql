-- Test-only later migration (the test gives it the next number): adds a column with a default and a new table,
-- the way a later release (e.g. the notification outbox) extends the schema.

ALTER TABLE assets ADD COLUMN tier TEXT NOT NULL DEFAULT 'bronze';

CREATE TABLE asset_notes (
    id INTEGER PRIMARY KEY,
    asset_id INTEGER NOT NULL REFERENCES assets (id),
    note TEXT NOT NULL -- may contain ';' like this one
);

INSERT INTO asset_notes (asset_id, note) SELECT id, 'migrated; kept' FROM assets;
