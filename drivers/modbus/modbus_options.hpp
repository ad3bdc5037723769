#pragma once
// The `modbus:` section of floorwatch.yaml, declared once (daemon/config/README.md): the loader
// reads and checks the file with it, and the JSON Schema is derived from it. Every key is
// documented in README.md.

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "daemon/config/option_table.hpp"
#include "drivers/modbus/modbus_config.hpp"

namespace fw::modbus {

// Every per-value check, and the checks within the section: one transport per bus, unique bus
// names, unique device names and unit ids on a bus, RTU unit ids, backoff limits, bit tables.
config_table::Section<ModbusConfig> modbus_section();

// Checks against the rest of the file, once everything is read: every point's equipment is
// declared. `path` is where the section is in the document ("modbus").
void check_modbus_equipment(const ModbusConfig& modbus, const std::string& path,
                            const std::set<std::string, std::less<>>& declared_equipment,
                            config_table::Reader& reader);

// Every point's channel and where it is written, for the check that channel names are unique in
// the whole file.
std::vector<config_table::NamedAt> modbus_channels(const ModbusConfig& modbus,
                                                   const std::string& path);

}  // namespace fw::modbus
