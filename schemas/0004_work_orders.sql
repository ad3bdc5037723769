-- Schema v4: hazard work orders (daemon/workorders, daemon/orders). An order is a fold over its
-- immutable events; nothing here is ever updated or pruned except the cursors and counters.

-- Every event of every order, as sealed by the command handler: each field of
-- fw::workorders::Event, its canonical-encoding SHA-256 and the hash of the order's previous
-- event. Rows are inserted in the order they were written (id), which `floorwatch verify` follows.
CREATE TABLE order_events (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,             -- "<site>.<node>" that wrote the event
    sequence INTEGER NOT NULL,        -- per origin, from 1, no gaps
    order_id TEXT NOT NULL,
    type TEXT NOT NULL,               -- reported, approved, ..., occurred
    actor TEXT NOT NULL,              -- user name, 'system' or 'anonymous'
    role TEXT NOT NULL,
    wall_ms INTEGER NOT NULL,
    clock_synced INTEGER NOT NULL,
    hlc_ms INTEGER NOT NULL,
    hlc_logical INTEGER NOT NULL,
    format INTEGER NOT NULL,
    payload TEXT NOT NULL,            -- canonical JSON
    prev_hash TEXT NOT NULL,          -- '' for an order's first event
    hash TEXT NOT NULL,
    UNIQUE (origin, sequence)
);

CREATE INDEX order_events_by_order ON order_events (order_id, id);

-- The future sync agent's queue: every event, written in the same transaction as the event.
-- synced_ms is set when the centre has acknowledged it; until then it is never pruned.
CREATE TABLE order_outbox (
    event_row INTEGER PRIMARY KEY REFERENCES order_events (id),
    origin TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    queued_ms INTEGER NOT NULL,
    synced_ms INTEGER
);

-- The EventWriter's cursor per origin: the next sequence and the last hybrid-clock time issued,
-- so that sequences never repeat and the clock never goes back after a restart.
CREATE TABLE order_writer (
    origin TEXT PRIMARY KEY,
    next_sequence INTEGER NOT NULL,
    hlc_ms INTEGER NOT NULL,
    hlc_logical INTEGER NOT NULL
) WITHOUT ROWID;

-- Anonymous reporters are stored as HMAC-SHA256(key, user name); the key is random, made once
-- with the store (SQLite's randomblob reads the OS's random source) and never leaves the file.
CREATE TABLE order_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO order_keys (name, value) VALUES ('anonymity', lower(hex(randomblob(32))));

-- Human numbers: the last counter used per (prefix, plant-local day "2026-11-29").
CREATE TABLE order_number_counters (
    prefix TEXT NOT NULL,
    day TEXT NOT NULL,
    last_counter INTEGER NOT NULL,
    PRIMARY KEY (prefix, day)
) WITHOUT ROWID;

-- Evidence files, content-addressed: the SHA-256 of the bytes is the key events refer to.
-- Size and media type were checked against workflow.attachments when stored.
CREATE TABLE order_attachments (
    sha256 TEXT PRIMARY KEY,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    name TEXT NOT NULL,               -- file name as first uploaded, for people
    uploaded_by TEXT NOT NULL,
    uploaded_ms INTEGER NOT NULL,
    data BLOB NOT NULL
) WITHOUT ROWID;

-- Recordable incidents and hours worked, for the incident rate KPI (`floorwatch incidents`).
-- kind 'incident': one recordable incident at at_ms; kind 'hours': hours worked in
-- [at_ms, until_ms).
CREATE TABLE recorded_incidents (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('incident', 'hours')),
    at_ms INTEGER NOT NULL,
    until_ms INTEGER NOT NULL,
    area TEXT NOT NULL,               -- '' = the whole site
    hours REAL NOT NULL,              -- 0 for incidents
    description TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_ms INTEGER NOT NULL
);

CREATE INDEX recorded_incidents_by_time ON recorded_incidents (at_ms);

-- The last alarm_events row whose consequences (new order, occurrence, escalation) are written;
-- updated in the same transaction as the order events it caused. It starts after the alarms
-- already stored, so alarms from before this version open no orders.
CREATE TABLE order_alarm_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_alarm_event_id INTEGER NOT NULL
);
INSERT INTO order_alarm_cursor (id, last_alarm_event_id)
    VALUES (1, (SELECT COALESCE(MAX(id), 0) FROM alarm_events));
