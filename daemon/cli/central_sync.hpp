#pragma once
// `floorwatch sync` on a centre: one row per gateway, read from the central store (SQLite or
// PostgreSQL; works with the daemon down): incarnation, up cursor and backlog, down cursor, last
// hello, verdict, quarantined events and integrity alarms (daemon/central/README.md).

#include "daemon/cli/common.hpp"

namespace fw::cli {

// Whether the command reads a central store: the config's role is central, or the store file
// holds gateways that have sent it events.
bool is_central_store(const CommonOptions& options);

// Prints every gateway's state (text table, or --json an array); returns the exit code.
int show_central_sync(const CommonOptions& options);

}  // namespace fw::cli
