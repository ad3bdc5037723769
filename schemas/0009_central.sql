-- Schema v8: the central store (daemon/central/README.md). A central floorwatch on SQLite keeps
-- every gateway's orders in the normal store file, with every gateway migration applied, so
-- `floorwatch orders --db central.db` reads it unchanged; these tables add the sync cursors and
-- what the centre needs people to look at. The same tables, with PostgreSQL's types, are in
-- schemas/postgresql/0001_central.sql: the central store's SQL runs on both.

-- Which gateway's up topic delivered an event (NULL: made on this node), and when this node
-- stored it (NULL for events written before this migration, or made here by a gateway).
ALTER TABLE order_events ADD COLUMN gateway TEXT;
ALTER TABLE order_events ADD COLUMN received_ms INTEGER;

-- One row per order held centrally: the row a central action writes first (on SQLite the write
-- transaction already holds the file), and a cache of the order's fold for lists, rewritten by
-- each transaction that adds events to the order. The events are the truth.
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
    reported_ms INTEGER NOT NULL,
    closed_ms INTEGER,                -- closed or dismissed; NULL while open
    event_count INTEGER NOT NULL,     -- applied events (superseded ones not counted)
    superseded INTEGER NOT NULL,      -- events kept as superseded
    updated_ms INTEGER NOT NULL       -- this centre's clock at the last change
) WITHOUT ROWID;

CREATE INDEX central_orders_by_gateway ON central_orders (gateway, order_id);
CREATE INDEX central_orders_by_number ON central_orders (upper(number));

-- Gateway -> centre, one row per gateway: the up cursor and what its last hello said.
CREATE TABLE central_gateways (
    gateway TEXT PRIMARY KEY,         -- the gateway's origin, "<site>.<node>"
    incarnation TEXT,                 -- of the gateway's store, from its last accepted hello
    received INTEGER NOT NULL DEFAULT 0,       -- highest contiguous sequence of this origin
                                               -- stored (or quarantined): what the ack says
    next_sequence INTEGER NOT NULL DEFAULT 0,  -- the gateway's writer cursor (last hello)
    acked INTEGER NOT NULL DEFAULT 0,          -- what the gateway had seen acked (last hello)
    verdict TEXT NOT NULL DEFAULT 'ok' CHECK (verdict IN ('ok', 'reseed')),
    message TEXT NOT NULL DEFAULT '',          -- why 'reseed', for `floorwatch sync`
    first_seen_ms INTEGER NOT NULL,
    last_hello_ms INTEGER,
    hello_wall_ms INTEGER,                     -- the gateway's own clock in that hello
    hello_clock_synced INTEGER,
    last_message_ms INTEGER,                   -- any message from it
    last_ack_ms INTEGER                        -- when this centre last acked it
) WITHOUT ROWID;

-- Centre -> gateway, one row per gateway: the down cursor, apart from central_gateways so that
-- ingest and central actions never take the same locks in opposite orders (PostgreSQL).
CREATE TABLE central_down_cursor (
    gateway TEXT PRIMARY KEY,
    down_next INTEGER NOT NULL DEFAULT 1,   -- the down sequence the next queued event gets
    down_acked INTEGER NOT NULL DEFAULT 0,  -- highest contiguous down sequence applied there
    last_down_ack_ms INTEGER
) WITHOUT ROWID;

-- The down queue: events made here on a gateway's orders, numbered per gateway. Kept after the
-- ack, so that a gateway restored from a backup gets them again.
CREATE TABLE central_down (
    gateway TEXT NOT NULL,
    down INTEGER NOT NULL,            -- per gateway, from 1, no gaps
    event_row INTEGER NOT NULL REFERENCES order_events (id),
    queued_ms INTEGER NOT NULL,
    PRIMARY KEY (gateway, down)
) WITHOUT ROWID;

-- Events from a gateway that could not be applied (content not matching its hash, a foreign
-- origin, a time far ahead, ...): kept with the reason and the raw text, and counted as received
-- so that the gateway's queue moves on.
CREATE TABLE central_quarantine (
    id INTEGER PRIMARY KEY,
    gateway TEXT NOT NULL,            -- whose up topic delivered it
    sequence INTEGER,                 -- its place in the gateway's stream; NULL if unknowable
    reason TEXT NOT NULL,
    raw TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    UNIQUE (gateway, sequence)        -- a resent event is quarantined once
);

-- An event key (origin, sequence) stored with one hash and received again with another. The
-- stored event stays; this row is the integrity alarm, shown until people look into it.
CREATE TABLE central_integrity (
    id INTEGER PRIMARY KEY,
    gateway TEXT NOT NULL,
    origin TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    stored_hash TEXT NOT NULL,
    received_hash TEXT NOT NULL,
    raw TEXT NOT NULL,                -- the event as received
    first_detected_ms INTEGER NOT NULL,
    last_detected_ms INTEGER NOT NULL,
    detections INTEGER NOT NULL DEFAULT 1,
    UNIQUE (origin, sequence, received_hash)
);

-- Attachments this centre wants from a gateway: a row from the moment an event names a sha256 the
-- store lacks; the bytes arrive in order as chunks and move to order_attachments once the whole
-- matches its sha256.
CREATE TABLE central_wanted (
    gateway TEXT NOT NULL,            -- asked from
    sha256 TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    name TEXT NOT NULL,
    received_bytes INTEGER NOT NULL DEFAULT 0,  -- the offset the next chunk must have
    wanted_ms INTEGER NOT NULL,
    last_asked_ms INTEGER,            -- a need unanswered for ack_timeout is asked again
    PRIMARY KEY (gateway, sha256)
) WITHOUT ROWID;

CREATE TABLE central_wanted_chunks (
    gateway TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    start_byte INTEGER NOT NULL,      -- where the chunk goes in the file
    data BLOB NOT NULL,
    PRIMARY KEY (gateway, sha256, start_byte)
) WITHOUT ROWID;
