#pragma once
// What a process is (`role:`) and how it syncs with the centre (`sync:`), as read from the config
// (README.md "Configuration"). The declarations live in sync_options.cpp and are part of the
// config loader, so the YAML, its checks and the JSON Schema come from one place.

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "drivers/mqtt/mqtt_config.hpp"

namespace fw {

// A gateway polls devices, raises alarms and keeps its orders; a central process holds every
// gateway's events (daemon/central) and polls nothing.
enum class ProcessRole { gateway, central };
std::span<const std::string_view> process_role_names();
std::string_view process_role_name(ProcessRole role);
std::optional<ProcessRole> process_role_from_name(std::string_view name);

}  // namespace fw

namespace fw::sync {

using Millis = std::chrono::milliseconds;

struct SyncConfig {
    // The central broker; the connection keys of mqtt.brokers[] (no name, no inputs). The client
    // id defaults to fw-<site>-<node>-sync.
    mqtt::BrokerConfig broker;
    std::uint64_t batch_events = 500;  // events per message
    std::uint64_t batch_bytes =
        std::uint64_t{256} * 1024;  // text per message (one larger event goes alone)
    // Up messages sent and not yet acknowledged. 16 keeps a long drain moving across a round
    // trip of tens of ms (bench/sync_bench: 4 left the link idle waiting for acks).
    std::uint64_t in_flight = 16;
    Millis ack_timeout{10000};  // no ack by then: resend from the last ack
    std::uint64_t chunk_size =
        std::uint64_t{64} * 1024;  // attachment bytes per message, before base64
    // role: central only. The MQTT shared subscription group ("" = a plain subscription) and the
    // PostgreSQL conninfo of the central store (none: SQLite at store.path).
    std::string share_group = "floorwatch-central";
    std::optional<std::string> postgresql;
    std::string postgresql_conninfo;  // as written; the loader sets `postgresql` from it
};

}  // namespace fw::sync
