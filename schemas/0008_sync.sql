-- Schema v7: sync with the central store (daemon/sync/README.md). The gateway side: who this
-- store is, where its exchange with the centre stands, what could not be applied, and the
-- attachments it is fetching. Events from the centre go into order_events like any event (their
-- origin is the centre's); order_outbox keeps holding only this node's own events.

-- This store's identity: made once, when the store is created or migrated to v7, and never
-- changed. A re-imaged gateway (a new store under the same origin) has a new incarnation, which
-- is how the centre tells it from a gateway that lost nothing.
CREATE TABLE store_identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    incarnation TEXT NOT NULL,        -- 32 lowercase hex digits (128 random bits)
    created_ms INTEGER NOT NULL
);
INSERT INTO store_identity (id, incarnation, created_ms)
    VALUES (1, lower(hex(randomblob(16))), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));

-- The exchange with the centre (one row, written by the sync agent). `acked`: the highest
-- sequence of this origin the centre has confirmed (order_outbox.synced_ms is set up to it);
-- `down_applied`: the highest down sequence applied durably, contiguously. Times in ms since the
-- epoch, NULL = never.
CREATE TABLE sync_peer (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    central_incarnation TEXT,          -- the centre store's, from its last welcome
    known_incarnation TEXT,            -- this store's incarnation as the centre had it on record
    acked INTEGER NOT NULL DEFAULT 0,
    down_applied INTEGER NOT NULL DEFAULT 0,
    last_hello_ms INTEGER,
    last_welcome_ms INTEGER,
    last_ack_ms INTEGER,
    last_down_ms INTEGER,
    verdict TEXT NOT NULL DEFAULT '', -- '' (no welcome yet), 'ok' or 'reseed'
    message TEXT NOT NULL DEFAULT ''  -- the centre's words with its verdict
);
INSERT INTO sync_peer (id) VALUES (1);

-- Down events that could not be applied (bad hash, not a centre's origin, not this gateway's
-- order, a time too far ahead): kept with the reason and the text as received, and counted as
-- applied so that the stream from the centre never stalls on them.
CREATE TABLE sync_quarantine (
    id INTEGER PRIMARY KEY,
    received_ms INTEGER NOT NULL,
    down INTEGER NOT NULL,            -- the down sequence it came with
    event_id TEXT NOT NULL,           -- "<origin>:<sequence>" as far as it could be read; '' if not
    reason TEXT NOT NULL,
    raw TEXT NOT NULL
);

-- Attachments named by events from the centre that this store lacks: wanted from the moment the
-- event is applied (received = 0, data empty), filled chunk by chunk in order, moved to
-- order_attachments when the last chunk arrives and the whole matches its sha256.
CREATE TABLE sync_attachment_parts (
    sha256 TEXT PRIMARY KEY,
    media_type TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL DEFAULT '',
    received INTEGER NOT NULL DEFAULT 0,   -- bytes held so far, = length(data)
    data BLOB NOT NULL DEFAULT x'',
    wanted_ms INTEGER NOT NULL,
    asked_ms INTEGER                       -- the last `need` sent for it; NULL = not yet
) WITHOUT ROWID;

-- The agent reads the backlog by sequence; once synced a row is never read for sending again.
CREATE INDEX order_outbox_unsynced ON order_outbox (origin, sequence) WHERE synced_ms IS NULL;
