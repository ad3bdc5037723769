#pragma once
// `floorwatch user passwd|sessions|revoke`: web page passwords and sessions. The password is
// hashed here (Argon2id) and only the hash goes to the daemon, which stores it.

namespace CLI {
class App;
}

namespace fw::cli {

class CommandTable;

void add_user_commands(CLI::App& root, CommandTable& commands);

}  // namespace fw::cli
