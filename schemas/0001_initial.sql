-- Schema v1: channels, samples, device health.

CREATE TABLE channels (
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    equipment TEXT NOT NULL DEFAULT '',
    area TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT ''
);

-- The bulk of the file. Kept narrow: an integer channel id instead of the name, value NULL when the
-- reading is not good, and quality 0 (good) takes no bytes in SQLite's record format. The implicit
-- rowid gives insertion order, which retention uses to delete the oldest rows first.
CREATE TABLE samples (
    channel_id INTEGER NOT NULL REFERENCES channels (id),
    time_ms INTEGER NOT NULL,
    value REAL,
    quality INTEGER NOT NULL
);

-- Serves per-channel time-range queries and the per-channel age pruning.
CREATE INDEX samples_by_channel_time ON samples (channel_id, time_ms);

CREATE TABLE device_health (
    driver TEXT NOT NULL,
    bus TEXT NOT NULL,
    device TEXT NOT NULL,
    online INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    last_change_ms INTEGER NOT NULL,
    last_success_ms INTEGER NOT NULL,
    poll_interval_ms INTEGER NOT NULL,
    polls INTEGER NOT NULL,
    polls_failed INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    timeouts INTEGER NOT NULL,
    exceptions INTEGER NOT NULL,
    reconnects INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (driver, bus, device)
) WITHOUT ROWID;
