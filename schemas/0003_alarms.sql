-- Schema v3: alarms. Every state change of every alarm is a row of alarm_events (the history,
-- never pruned with the samples); `alarms` holds each alarm's current state for `floorwatch
-- alarms`; engine_state is the rules engine's snapshot (delays in progress, windows, shelving)
-- so that a restart neither loses nor re-raises anything.

CREATE TABLE alarm_events (
    id INTEGER PRIMARY KEY,           -- increases in the order the engine emitted the events
    time_ms INTEGER NOT NULL,         -- wall time of the change
    rule_id TEXT NOT NULL,            -- '' for area-wide flood events
    rule_version TEXT NOT NULL,
    equipment TEXT NOT NULL,
    area TEXT NOT NULL,
    action TEXT NOT NULL,             -- activate, clear, acknowledge, shelve, ..., flood
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    severity TEXT NOT NULL,
    condition INTEGER NOT NULL,       -- the rule's condition after the change
    value REAL,                       -- the triggering value; NULL when there is none
    detail TEXT NOT NULL,             -- "above 4.5", "stale", "3 in 30d", ...
    chattering INTEGER NOT NULL,
    flood INTEGER NOT NULL,
    escalation INTEGER NOT NULL,      -- raised by a recurrence rule
    actor TEXT NOT NULL,              -- operator actions; 'system' for automatic ones
    reason TEXT NOT NULL,
    shelved_until_ms INTEGER NOT NULL
);

CREATE INDEX alarm_events_by_alarm ON alarm_events (rule_id, equipment, id);
CREATE INDEX alarm_events_by_time ON alarm_events (time_ms);

CREATE TABLE alarms (
    rule_id TEXT NOT NULL,
    equipment TEXT NOT NULL,
    rule_version TEXT NOT NULL,
    area TEXT NOT NULL,
    state TEXT NOT NULL,              -- normal, unack_active, ack_active, rtn_unack, shelved, ...
    condition INTEGER NOT NULL,
    severity TEXT NOT NULL,
    value REAL,
    detail TEXT NOT NULL,
    chattering INTEGER NOT NULL,
    shelved_until_ms INTEGER NOT NULL,
    shelved_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    last_event_id INTEGER NOT NULL,
    last_change_ms INTEGER NOT NULL,
    PRIMARY KEY (rule_id, equipment)
) WITHOUT ROWID;

-- One row: the latest snapshot of the rules engine (JSON, rules/engine.hpp Engine::snapshot).
CREATE TABLE engine_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    saved_ms INTEGER NOT NULL,
    snapshot TEXT NOT NULL
);
