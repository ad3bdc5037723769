#pragma once
// Per-device health as drivers report it: kept by the driver, logged on change, stored by the
// store writer (table device_health) so `floorwatch devices` can show it without the daemon.

#include <cstdint>
#include <string>

namespace fw {

struct DeviceHealth {
    std::string driver;  // "modbus"
    std::string bus;     // "line1"
    std::string device;  // "press-1-sensors"
    bool online = false;
    std::string last_error;            // empty while the last poll succeeded
    std::int64_t last_change_ms = 0;   // wall time of the last online/offline change
    std::int64_t last_success_ms = 0;  // wall time of the last fully good poll, 0 = never
    std::int64_t poll_interval_ms =
        0;                           // current interval, longer than configured while backing off
    std::uint64_t polls = 0;         // poll cycles attempted
    std::uint64_t polls_failed = 0;  // cycles with at least one failed request
    std::uint64_t requests = 0;      // Modbus requests sent
    std::uint64_t timeouts = 0;
    std::uint64_t exceptions = 0;  // Modbus exception replies
    std::uint64_t reconnects = 0;  // connection (re-)opens after a loss
    std::uint64_t samples = 0;     // samples produced, any quality
};

// One MQTT broker connection as its client reports it: kept by the client, stored by the store
// writer (table broker_health) so `floorwatch mqtt` can show it without the daemon.
struct BrokerHealth {
    std::string broker;  // the broker's name in the config, "plant"
    bool connected = false;
    std::string last_error;           // why it is not connected; empty while connected
    std::int64_t last_change_ms = 0;  // wall time of the last connect or disconnect
    std::uint64_t connect_attempts = 0;
    std::uint64_t reconnects = 0;         // connections made again after a loss, as for devices
    std::uint64_t thread_restarts = 0;    // the client's loop failed unexpectedly and started again
    std::uint64_t messages_received = 0;  // every message, matched by an input or not
    std::uint64_t messages_accepted = 0;  // became a sample or a plant event
    std::uint64_t messages_rejected = 0;  // dropped by an input's decoder or matched no input
    std::int64_t last_accepted_ms = 0;    // 0 = never
};

// Message counters of one input of a message-based driver (an MQTT subscription): what arrived and
// what became of it. Stored in table input_health; `floorwatch mqtt` shows it.
struct InputHealth {
    std::string driver;      // "mqtt"
    std::string connection;  // the broker's name
    std::string input;       // the input's name; empty for messages that matched no input
    std::string topic;       // the input's topic filter
    std::uint64_t received = 0;
    std::uint64_t accepted = 0;
    std::uint64_t rejected = 0;
    std::string rejected_by_reason;  // JSON object, e.g. {"invalid_json":3,"not_numeric":1}
    std::string last_rejection;      // reason and one example, for people
    std::int64_t last_rejection_ms = 0;
    std::int64_t last_accepted_ms = 0;
};

}  // namespace fw
