#pragma once
// The `role:` and `sync:` declarations for the config loader (daemon/config/config.cpp calls
// these; option_table.hpp is the framework). Kept apart from sync_options.hpp so the plain
// structs do not pull in the YAML reader.

#include "daemon/config/option_table.hpp"
#include "daemon/sync/sync_options.hpp"

namespace fw::sync {

// `sync:`; `broker_connection` declares the connection keys mqtt.brokers[] has (uri, tls, ...),
// so the two are declared once.
config_table::Section<SyncConfig> sync_section(
    config_table::Section<mqtt::BrokerConfig> broker_connection);

// After the whole file is read: the sync client id's default, and what `role: central` refuses
// (devices, inputs and rules: a central floorwatch polls nothing).
void check_role(Config& config, config_table::Reader& reader);

}  // namespace fw::sync
