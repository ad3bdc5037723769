#pragma once
// The floorwatch-sim server: serves the configured devices over Modbus TCP (many clients, one
// poll loop) or RTU (one serial line, every configured unit id), applies faults, and answers the
// control socket. See README.md.

#include <iosfwd>
#include <memory>
#include <string>

#include "tests/sim/sim_config.hpp"

namespace fw::sim {

struct SimulatorOptions {
    std::string ready_file;    // written (atomically) with the TCP port or RTU device once serving
    std::string control_path;  // Unix socket for control commands; empty = none
};

class Simulator {
  public:
    // Opens the listening socket or serial line and the control socket. Throws std::runtime_error
    // with an actionable message when it cannot (port in use, no such serial device).
    Simulator(SimConfig config, SimulatorOptions options);
    ~Simulator();
    Simulator(const Simulator&) = delete;
    Simulator& operator=(const Simulator&) = delete;

    // Serves until SIGTERM or SIGINT (returns 0) or until the serial line goes away (returns 1).
    // The caller blocks those signals in every thread before constructing the simulator.
    int run();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Executes one control command (a line without the newline) against the simulator behind
// `control_path`, prints the answer lines to `out` and returns true when it ended with "ok".
// Connection problems are reported as "error: ..." lines too.
bool send_control_command(const std::string& control_path, const std::string& command,
                          std::ostream& out);

// Modbus RTU CRC-16 (polynomial 0xA001, initial 0xFFFF); sent low byte first.
std::uint16_t modbus_crc16(const std::uint8_t* data, std::size_t length);

}  // namespace fw::sim
