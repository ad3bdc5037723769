#pragma once
// The `role:` names and the `sync:` section declared for the config loader
// (daemon/config/config.cpp composes them; option_table.hpp is the framework). Kept apart from
// sync_options.hpp so the plain structs do not pull in the YAML reader.

#include "daemon/config/option_table.hpp"
#include "daemon/sync/sync_options.hpp"

namespace fw::sync {

// `sync:`; `broker_connection` declares the connection keys mqtt.brokers[] has (uri, tls, ...),
// so the two are declared once (mqtt::broker_connection_section).
config_table::Section<SyncConfig> sync_section(
    config_table::Section<mqtt::BrokerConfig> broker_connection);

}  // namespace fw::sync
