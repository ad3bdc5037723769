#pragma once
// The whole floorwatch config: one YAML file, validated before anything starts (see README
// "Configuration" and schemas/floorwatch.schema.json). Each domain declares its own section beside
// its code; config.cpp composes them with the gateway, store, control and equipment sections
// (README.md in this folder).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config/config_issue.hpp"
#include "daemon/core/log.hpp"
#include "daemon/http/http_config.hpp"
#include "daemon/sync/sync_options.hpp"
#include "daemon/workflow/workflow_config.hpp"
#include "drivers/modbus/modbus_config.hpp"
#include "drivers/mqtt/mqtt_config.hpp"
#include "rules/rule_check.hpp"
#include "rules/rule_config.hpp"

namespace fw {

using Millis = std::chrono::milliseconds;

struct GatewayConfig {
    std::string site;  // e.g. "plant-a"; [a-z0-9-]+, used in MQTT order topics
    std::string node;  // this gateway's id, unique in the site
    LogLevel log_level = LogLevel::info;
    std::string timezone = "UTC";  // the plant's zone (tz database name); rule schedules use it
};

struct SampleRetention {
    Millis max_age{Millis(30LL * 24 * 3600 * 1000)};  // samples older than this are pruned
    std::uint64_t max_size = 512ULL * 1024 * 1024;    // database pages in use by all tables
    Millis prune_interval{60000};
};

struct StoreConfig {
    std::string path = "/var/lib/floorwatch/floorwatch.db";
    // Group commit: samples are committed at most this long after they arrive.
    Millis commit_interval{250};
    // Samples waiting for the writer, in samples; beyond it the oldest are dropped and counted.
    std::size_t queue_capacity = 200000;
    SampleRetention samples;
};

// The local control socket the CLI (and later the web page) sends commands through.
struct ControlConfig {
    std::string socket = "/run/floorwatch/control.sock";
    std::string mode = "0660";  // octal; who may connect at all (roles come from workflow.users)
    std::string group;          // the socket's group; empty: the daemon's own group
    unsigned mode_bits() const { return static_cast<unsigned>(std::stoul(mode, nullptr, 8)); }
};

struct EquipmentConfig {
    std::string id;    // "press-1"
    std::string area;  // "stamping"
    std::string description;
};

struct Config {
    std::string source_path;  // the file it was loaded from, for messages
    ProcessRole role = ProcessRole::gateway;
    std::optional<sync::SyncConfig> sync;  // none: a standalone gateway that syncs nothing
    GatewayConfig gateway;
    StoreConfig store;
    ControlConfig control;
    std::vector<EquipmentConfig> equipment;
    modbus::ModbusConfig modbus;
    mqtt::MqttConfig mqtt;
    std::vector<rules::RuleConfig> rules;  // as written; templates are expanded by the engine
    workflow::WorkflowConfig workflow;     // hazard work orders: review, deadlines, users
    std::optional<http::HttpConfig> http;  // the web page and JSON API; none: no HTTP server

    const EquipmentConfig* find_equipment(const std::string& id) const {
        for (const auto& item : equipment) {
            if (item.id == id) return &item;
        }
        return nullptr;
    }
};

// Reads, parses and validates the file. Throws ConfigError listing every issue.
Config load_config(const std::string& path);
// Same from text already in memory; `name` stands for the file in messages.
Config parse_config(const std::string& text, const std::string& name);

// What rules may refer to: channels with their equipment (modbus points, MQTT inputs with fixed
// names) and equipment with their areas.
rules::RuleCatalog rule_catalog(const Config& config);

// The JSON Schema (draft 2020-12) derived from the same declarations the loader validates with;
// schemas/floorwatch.schema.json is this output, and a test keeps the two equal.
std::string config_json_schema();

}  // namespace fw
