-- The registry's first schema: teams, assets, contracts, registrations,
-- proposals, acknowledgments and the append-only audit log.
--
-- Rules for later migrations (one numbered file each, applied in order inside
-- one transaction): add, never drop. New tables, new columns with defaults and
-- new indexes are fine; enum-like columns are TEXT validated in Python, so a
-- new value needs no table rebuild.

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (name <> ''),
    created_at TEXT NOT NULL
);

CREATE TABLE assets (
    id INTEGER PRIMARY KEY,
    fqn TEXT NOT NULL UNIQUE CHECK (fqn <> ''),
    owner_team TEXT REFERENCES teams (name),
    compatibility_mode TEXT NOT NULL DEFAULT 'backward',
    kind TEXT NOT NULL DEFAULT 'table',
    dialect TEXT,
    metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The current contract of an asset is its latest published row (highest id).
CREATE TABLE contracts (
    id INTEGER PRIMARY KEY,
    asset_id INTEGER NOT NULL REFERENCES assets (id),
    version TEXT NOT NULL CHECK (version <> ''),
    schema TEXT NOT NULL CHECK (json_valid(schema)),
    change_class TEXT NOT NULL,
    published_by TEXT,
    published_at TEXT NOT NULL,
    forced_reason TEXT,
    proposal_id TEXT REFERENCES proposals (id),
    UNIQUE (asset_id, version)
);

-- columns: a JSON list of column names, NULL when the consumer reads everything.
-- flows: a JSON list of {"source", "target", "direct"} (ColumnFlow.to_dict), sorted.
CREATE TABLE registrations (
    id INTEGER PRIMARY KEY,
    asset_id INTEGER NOT NULL REFERENCES assets (id),
    team TEXT NOT NULL REFERENCES teams (name),
    consumer TEXT NOT NULL CHECK (consumer <> ''),
    consumer_kind TEXT NOT NULL,
    columns TEXT CHECK (columns IS NULL OR json_valid(columns)),
    dependency_type TEXT NOT NULL,
    pinned_version TEXT,
    source TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(evidence)),
    consumer_asset TEXT,
    flows TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(flows)),
    retired INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (asset_id, team, consumer)
);

CREATE INDEX registrations_by_team ON registrations (team);

CREATE TABLE proposals (
    id TEXT PRIMARY KEY,
    asset_id INTEGER NOT NULL REFERENCES assets (id),
    schema TEXT NOT NULL CHECK (json_valid(schema)),
    changes TEXT NOT NULL CHECK (json_valid(changes)),
    affected TEXT NOT NULL CHECK (json_valid(affected)),
    status TEXT NOT NULL,
    base_version TEXT,
    proposed_by TEXT,
    proposed_at TEXT NOT NULL,
    resolved_at TEXT,
    published_version TEXT,
    reason TEXT
);

-- At most one open (pending or approved) proposal per asset.
CREATE UNIQUE INDEX proposals_one_open_per_asset ON proposals (asset_id)
    WHERE status IN ('pending', 'approved');

CREATE TABLE acknowledgments (
    id INTEGER PRIMARY KEY,
    proposal_id TEXT NOT NULL REFERENCES proposals (id),
    team TEXT NOT NULL REFERENCES teams (name),
    response TEXT NOT NULL,
    note TEXT,
    acknowledged_by TEXT,
    acknowledged_at TEXT NOT NULL,
    UNIQUE (proposal_id, team)
);

-- Append-only: the triggers below abort any UPDATE or DELETE.
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    asset_fqn TEXT,
    actor TEXT,
    details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
);

CREATE INDEX audit_events_by_asset ON audit_events (asset_fqn, seq);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: rows cannot be updated');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: rows cannot be deleted');
END;
