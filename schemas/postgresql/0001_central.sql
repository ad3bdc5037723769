-- Central store v1 on PostgreSQL (daemon/store/pg, daemon/sync/README.md): every gateway's work
-- orders, their events and attachments, and the sync cursors. The tables and columns follow the
-- gateway's SQLite schema (schemas/0004_work_orders.sql) so that the domain code reads the same
-- names; the types are PostgreSQL's: INTEGER -> BIGINT, 0/1 -> BOOLEAN, BLOB -> BYTEA, REAL ->
-- DOUBLE PRECISION. Times are milliseconds since the Unix epoch (BIGINT), as everywhere.
-- Applied by fw::pg::migrate in one transaction; no BEGIN/COMMIT here.

-- This store's random incarnation id, made once with the store. A centre restored from a backup
-- keeps it but its cursors go back; a new, empty store has a new one (DESIGN.md "Sync").
-- gen_random_uuid() reads the OS's random source: 122 random bits per store.
CREATE TABLE store_identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    incarnation TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
INSERT INTO store_identity (id, incarnation, created_ms)
    VALUES (1, replace(gen_random_uuid()::text, '-', ''),
            (extract(epoch FROM clock_timestamp()) * 1000)::bigint);

-- Every event of every order, from every gateway and from this centre: each field of
-- fw::workflow::Event as in the gateway's order_events, plus where and when it arrived. Rows are
-- inserted in arrival order (id); the fold orders them by (HLC, event id), not by id.
CREATE TABLE order_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    origin TEXT NOT NULL,             -- "<site>.<node>" that wrote the event
    sequence BIGINT NOT NULL,         -- per origin, from 1, no gaps in what the origin wrote
    order_id TEXT NOT NULL,
    type TEXT NOT NULL,               -- reported, approved, ..., occurred
    actor TEXT NOT NULL,              -- user name, 'system' or 'anonymous'
    role TEXT NOT NULL,
    wall_ms BIGINT NOT NULL,
    clock_synced BOOLEAN NOT NULL,
    hlc_ms BIGINT NOT NULL,
    hlc_logical BIGINT NOT NULL,
    format BIGINT NOT NULL,
    payload TEXT NOT NULL,            -- canonical JSON, kept as text: the hash covers its bytes
    prev_hash TEXT NOT NULL,          -- '' for an order's first event
    hash TEXT NOT NULL,
    gateway TEXT,                     -- the gateway whose up topic delivered it; NULL = made here
    received_ms BIGINT,               -- this centre's clock when it was stored
    UNIQUE (origin, sequence)
);

CREATE INDEX order_events_by_order ON order_events (order_id, id);

-- One row per order held centrally: the row a central action locks (SELECT ... FOR UPDATE), and a
-- cache of the order's fold for lists, rewritten by each transaction that adds events to the order.
-- The events are the truth; this row can always be rebuilt from them.
CREATE TABLE central_orders (
    order_id TEXT PRIMARY KEY,
    number TEXT NOT NULL,             -- human number, PRS-20261129-0042
    gateway TEXT,                     -- origin of the gateway the order belongs to; NULL = this
                                      -- centre's own order, sent to no gateway
    equipment TEXT NOT NULL,
    area TEXT NOT NULL,
    hazard_type TEXT NOT NULL,
    status TEXT NOT NULL,
    risk TEXT NOT NULL,
    assignee TEXT NOT NULL,           -- '' when none
    title TEXT NOT NULL,
    reported_ms BIGINT NOT NULL,
    closed_ms BIGINT,                 -- closed or dismissed; NULL while open
    event_count BIGINT NOT NULL,      -- applied events (superseded ones not counted)
    superseded BIGINT NOT NULL,       -- events kept as superseded
    updated_ms BIGINT NOT NULL        -- this centre's clock at the last change
);

CREATE INDEX central_orders_by_gateway ON central_orders (gateway, order_id);
CREATE INDEX central_orders_by_number ON central_orders (upper(number));

-- The EventWriter's cursor per origin for the events this centre makes: the next sequence and the
-- last hybrid-clock time issued. Locked (FOR UPDATE) by the transaction that writes with it.
CREATE TABLE order_writer (
    origin TEXT PRIMARY KEY,
    next_sequence BIGINT NOT NULL,
    hlc_ms BIGINT NOT NULL,
    hlc_logical BIGINT NOT NULL
);

-- Anonymous reporters at the centre are stored as HMAC-SHA256(key, user name), as on a gateway.
-- 64 hex digits like the gateway's key; two v4 UUIDs give 244 random bits.
CREATE TABLE order_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO order_keys (name, value)
    VALUES ('anonymity', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));

-- Human numbers of orders reported at the centre: the last counter per (prefix, plant-local day).
CREATE TABLE order_number_counters (
    prefix TEXT NOT NULL,
    day TEXT NOT NULL,
    last_counter BIGINT NOT NULL,
    PRIMARY KEY (prefix, day)
);

-- Evidence files, content-addressed: the SHA-256 of the bytes is the key events refer to.
CREATE TABLE order_attachments (
    sha256 TEXT PRIMARY KEY,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    name TEXT NOT NULL,               -- file name as first uploaded, for people
    uploaded_by TEXT NOT NULL,
    uploaded_ms BIGINT NOT NULL,
    data BYTEA NOT NULL
);

-- Recordable incidents and hours worked, for the incident rate KPI, as on a gateway.
CREATE TABLE recorded_incidents (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('incident', 'hours')),
    at_ms BIGINT NOT NULL,
    until_ms BIGINT NOT NULL,
    area TEXT NOT NULL,               -- '' = the whole site
    hours DOUBLE PRECISION NOT NULL,  -- 0 for incidents
    description TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_ms BIGINT NOT NULL
);

CREATE INDEX recorded_incidents_by_time ON recorded_incidents (at_ms);

-- Gateway -> centre, one row per gateway: the up cursor and what its last hello said. Locked
-- (FOR UPDATE) by the transaction that ingests an events message from that gateway, which
-- serializes ingest per gateway across central processes.
CREATE TABLE central_gateways (
    gateway TEXT PRIMARY KEY,         -- the gateway's origin, "<site>.<node>"
    incarnation TEXT,                 -- of the gateway's store, from its last accepted hello
    received BIGINT NOT NULL DEFAULT 0,       -- highest contiguous sequence of this origin stored
                                              -- (or quarantined): what the ack says
    next_sequence BIGINT NOT NULL DEFAULT 0,  -- the gateway's writer cursor (last hello)
    acked BIGINT NOT NULL DEFAULT 0,          -- what the gateway had seen acked (last hello)
    verdict TEXT NOT NULL DEFAULT 'ok' CHECK (verdict IN ('ok', 'reseed')),
    message TEXT NOT NULL DEFAULT '',         -- why 'reseed', for `floorwatch sync`
    first_seen_ms BIGINT NOT NULL,
    last_hello_ms BIGINT,
    hello_wall_ms BIGINT,                     -- the gateway's own clock in that hello
    hello_clock_synced BOOLEAN,
    last_message_ms BIGINT,                   -- any message from it
    last_ack_ms BIGINT                        -- when this centre last acked it
);

-- Centre -> gateway, one row per gateway: the down cursor. A table apart from central_gateways so
-- that ingest (which locks the up row) and central actions (which lock this row) never take the
-- same locks in opposite orders.
CREATE TABLE central_down_cursor (
    gateway TEXT PRIMARY KEY,
    down_next BIGINT NOT NULL DEFAULT 1,   -- the down sequence the next queued event gets
    down_acked BIGINT NOT NULL DEFAULT 0,  -- highest contiguous down sequence the gateway applied
    last_down_ack_ms BIGINT
);

-- The down queue: events made here on a gateway's orders, numbered per gateway. Kept after the
-- ack, so that a gateway restored from a backup gets them again.
CREATE TABLE central_down (
    gateway TEXT NOT NULL,
    down BIGINT NOT NULL,             -- per gateway, from 1, no gaps
    event_row BIGINT NOT NULL REFERENCES order_events (id),
    queued_ms BIGINT NOT NULL,
    PRIMARY KEY (gateway, down)
);

-- Events from a gateway that could not be applied (content not matching its hash, a foreign
-- origin, a time far ahead, ...): kept with the reason and the raw text, and counted as received
-- so that the gateway's queue moves on.
CREATE TABLE central_quarantine (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gateway TEXT NOT NULL,            -- whose up topic delivered it
    sequence BIGINT,                  -- its place in the gateway's stream; NULL if unknowable
    reason TEXT NOT NULL,
    raw TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    UNIQUE (gateway, sequence)        -- a resent event is quarantined once
);

-- An event key (origin, sequence) stored with one hash and received again with another: someone
-- rewrote a gateway's history, or a gateway reused its ids. The stored event stays; this row is
-- the integrity alarm, shown until people look into it.
CREATE TABLE central_integrity (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gateway TEXT NOT NULL,
    origin TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    stored_hash TEXT NOT NULL,
    received_hash TEXT NOT NULL,
    raw TEXT NOT NULL,                -- the event as received
    first_detected_ms BIGINT NOT NULL,
    last_detected_ms BIGINT NOT NULL,
    detections BIGINT NOT NULL DEFAULT 1,
    UNIQUE (origin, sequence, received_hash)
);

-- Attachments this centre wants from a gateway: a row from the moment an event names a sha256 the
-- store lacks, with the size and type the event gives; the bytes arrive in order as chunks and
-- move to order_attachments once the whole matches its sha256.
CREATE TABLE central_wanted (
    gateway TEXT NOT NULL,            -- asked from
    sha256 TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    name TEXT NOT NULL,
    received_bytes BIGINT NOT NULL DEFAULT 0,  -- the offset the next chunk must have
    wanted_ms BIGINT NOT NULL,
    last_asked_ms BIGINT,             -- a need unanswered for ack_timeout is asked again
    PRIMARY KEY (gateway, sha256)
);

CREATE TABLE central_wanted_chunks (
    gateway TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    start_byte BIGINT NOT NULL,       -- where the chunk goes in the file
    data BYTEA NOT NULL,
    PRIMARY KEY (gateway, sha256, start_byte)
);
