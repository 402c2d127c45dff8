-- The notification outbox (tessera_core.notify).
--
-- notify_notices: what one team must be told about one registry event. The
-- registry inserts these rows in the same transaction as the event, so a
-- notice exists exactly when its event committed.
--
-- notify_deliveries: one row per (notice, channel), created by the first
-- flush that reads the notice (from the team's channels in the notify config
-- at that moment; routed_to records them, [] when the team had none). The id
-- is the delivery id sent as X-Tessera-Delivery: it never changes across
-- retries, so a receiver can drop a repeat (delivery is at least once).

CREATE TABLE notify_notices (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL CHECK (event <> ''),
    team TEXT NOT NULL CHECK (team <> ''),
    asset_fqn TEXT NOT NULL,
    proposal_id TEXT,
    subject TEXT NOT NULL,
    data TEXT NOT NULL CHECK (json_valid(data)),
    occurred_at TEXT NOT NULL,
    routed_at TEXT,
    routed_to TEXT CHECK (routed_to IS NULL OR json_valid(routed_to))
);

CREATE INDEX notify_notices_unrouted ON notify_notices (occurred_at) WHERE routed_at IS NULL;

-- status: pending | delivered | dead. A pending row is sent when next_attempt_at
-- has passed; claiming it for an attempt counts the attempt and moves
-- next_attempt_at past the attempt's lease, so two flushes never send it at once.
CREATE TABLE notify_deliveries (
    id TEXT PRIMARY KEY,
    notice_id TEXT NOT NULL REFERENCES notify_notices (id),
    channel TEXT NOT NULL CHECK (channel <> ''),
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TEXT NOT NULL,
    last_attempt_at TEXT,
    last_error TEXT,
    delivered_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (notice_id, channel)
);

CREATE INDEX notify_deliveries_due ON notify_deliveries (next_attempt_at) WHERE status = 'pending';
