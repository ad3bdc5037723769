-- Schema v5: MQTT broker connections get their own health rows. Until v4 they shared device_health
-- with Modbus devices, in columns that meant other things for them (polls counted messages,
-- reconnects counted retries). The running daemon reports every broker again within 5 s.

CREATE TABLE broker_health (
    broker TEXT NOT NULL PRIMARY KEY,    -- the broker's name in the config
    connected INTEGER NOT NULL,
    last_error TEXT NOT NULL,            -- why it is not connected; '' while connected
    last_change_ms INTEGER NOT NULL,     -- last connect or disconnect
    connect_attempts INTEGER NOT NULL,
    reconnects INTEGER NOT NULL,         -- connections made again after a loss
    thread_restarts INTEGER NOT NULL,    -- the client's loop failed unexpectedly and started again
    messages_received INTEGER NOT NULL,  -- every message, matched by an input or not
    messages_accepted INTEGER NOT NULL,  -- became a sample or a plant event
    messages_rejected INTEGER NOT NULL,  -- dropped by an input's decoder or matched no input
    last_accepted_ms INTEGER NOT NULL,   -- 0 = never
    updated_ms INTEGER NOT NULL
) WITHOUT ROWID;

DELETE FROM device_health WHERE driver = 'mqtt';
