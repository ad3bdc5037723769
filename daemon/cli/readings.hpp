#pragma once
// `floorwatch samples`, `channels` and `events`: what the gateway has read, from the store.

namespace CLI {
class App;
}

namespace fw::cli {

class CommandTable;

void add_readings_commands(CLI::App& root, CommandTable& commands);

}  // namespace fw::cli
