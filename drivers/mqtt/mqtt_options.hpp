#pragma once
// The `mqtt:` section of floorwatch.yaml, declared once (daemon/config/README.md): the loader
// reads and checks the file with it, and the JSON Schema is derived from it. Every key is
// documented in README.md.

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "daemon/config/option_table.hpp"
#include "drivers/mqtt/mqtt_config.hpp"

namespace fw::mqtt {

// Every per-value check, and the checks within the section: topic filters and the templates that
// name their levels, keys that apply to the input's kind, TLS pairs, backoff limits, unique
// broker and input names. Nothing is filled in that depends on another section: the default
// client id comes from the running gateway where the client is made (with_default_client_id).
config_table::Section<MqttConfig> mqtt_section();

// How to reach one broker (uri, client id, credentials, TLS, keep-alive, reconnect backoff) with
// the same checks as mqtt.brokers[]: sync.broker is declared with it (daemon/sync).
config_table::Section<BrokerConfig> broker_connection_section();

// Checks against the rest of the file, once everything is read: every literal equipment id of an
// input is declared. `path` is where the section is in the document ("mqtt").
void check_mqtt_equipment(const MqttConfig& mqtt, const std::string& path,
                          const std::set<std::string, std::less<>>& declared_equipment,
                          config_table::Reader& reader);

// Every input's channel that is not a template, and where it is written, for the check that
// channel names are unique in the whole file.
std::vector<config_table::NamedAt> mqtt_channels(const MqttConfig& mqtt, const std::string& path);

}  // namespace fw::mqtt
