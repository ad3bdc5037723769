#pragma once
// `floorwatch devices` and `mqtt`: how the gateway's Modbus devices and MQTT connections are
// doing, from the health the daemon writes to the store.

namespace CLI {
class App;
}

namespace fw::cli {

class CommandTable;

void add_health_commands(CLI::App& root, CommandTable& commands);

}  // namespace fw::cli
