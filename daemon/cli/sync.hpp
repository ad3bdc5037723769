#pragma once
// `floorwatch sync`: where this gateway's exchange with the centre stands, read from the store
// (works with the daemon down): incarnations, cursors, backlog, quarantined events, wanted
// attachments (daemon/sync/README.md "Operations"). On a centre it lists every gateway instead
// (daemon/cli/central_sync.hpp).

namespace CLI {
class App;
}

namespace fw::cli {

class CommandTable;

void add_sync_commands(CLI::App& root, CommandTable& commands);

}  // namespace fw::cli
