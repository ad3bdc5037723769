-- Schema v2: plant events (from MQTT and, later, other drivers) and per-input message counters.

-- Discrete happenings: "material_arrival", "commissioning_started". Attributes are a JSON object
-- copied from the message. Pruned by age with the samples (store.samples.max_age).
CREATE TABLE plant_events (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    equipment TEXT NOT NULL DEFAULT '',
    area TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    attributes TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX plant_events_by_time ON plant_events (time_ms);
CREATE INDEX plant_events_by_name_time ON plant_events (name, time_ms);

-- What arrived on each input of a message driver and what became of it (`floorwatch mqtt`).
-- input = '' is the row of messages that matched no input.
CREATE TABLE input_health (
    driver TEXT NOT NULL,
    connection TEXT NOT NULL,
    input TEXT NOT NULL,
    topic TEXT NOT NULL,
    received INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    rejected_by_reason TEXT NOT NULL,
    last_rejection TEXT NOT NULL,
    last_rejection_ms INTEGER NOT NULL,
    last_accepted_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (driver, connection, input)
) WITHOUT ROWID;
