#pragma once
// Hazard work orders on the command line. Actions (`orders act`, `report`, `incidents record`)
// ask the daemon over the control socket, which checks who may do what; what only reads
// (`orders list/show`, `verify`, `kpi`, `report weekly`, `incidents list`) opens the store
// read-only, so it works while floorwatchd is down.

namespace CLI {
class App;
}

namespace fw::cli {

class CommandTable;

// orders [list|show|act|attachment], report [weekly], verify, kpi, incidents [list|record|hours]
void add_orders_commands(CLI::App& root, CommandTable& commands);

}  // namespace fw::cli
