#pragma once
// Hazard work orders on the command line. Actions (`orders act`, `report`, `incidents record`)
// ask the daemon over the control socket, which checks who may do what; what only reads
// (`orders list/show`, `verify`, `kpi`, `report weekly`, `incidents list`) opens the store
// read-only, so it works while floorwatchd is down.

namespace fw::cli {

int run_orders_command(int argc, char** argv);     // orders list|show|act|attachment
int run_report_command(int argc, char** argv);     // report (a hazard) | report weekly
int run_verify_command(int argc, char** argv);     // verify
int run_kpi_command(int argc, char** argv);        // kpi
int run_incidents_command(int argc, char** argv);  // incidents record|hours|list

}  // namespace fw::cli
