#pragma once
// floorwatchd with `role: central` (README.md): the central store, the central broker link and the
// control socket on one core io_context; no devices, no pipeline, no alarms. main.cpp hands over
// here once the config says role: central.

#include <string>

#include "daemon/config/config.hpp"

namespace fw::central {

// Runs until SIGTERM or SIGINT; SIGHUP reloads the workflow section of `config_path`. Returns the
// process's exit code (0 after a clean stop). Throws, with a message for plant IT, when the
// central store cannot be opened or the control socket cannot be bound.
int run_central_daemon(const std::string& config_path, Config config);

}  // namespace fw::central
