#pragma once
// `floorwatch alarms [history]` (read the store) and `floorwatch alarm ...` (ask the daemon).

namespace CLI {
class App;
}

namespace fw::cli {

class CommandTable;

// alarms [history], alarm ack|shelve|unshelve|disable|enable
void add_alarms_commands(CLI::App& root, CommandTable& commands);

}  // namespace fw::cli
