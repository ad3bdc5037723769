#pragma once
// floorwatch-sim's config file (see README.md) and the fault vocabulary shared by the config and
// the control socket.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "drivers/modbus/types.hpp"
#include "tests/sim/profile.hpp"

namespace fw::sim {

using Millis = std::chrono::milliseconds;

// What a device does with a request while the fault is set. Decided when the request arrives.
struct DeviceFault {
    enum class Kind { none, no_reply, delay, exception };
    Kind kind = Kind::none;
    Millis delay{0};                  // delay
    std::uint8_t exception_code = 0;  // exception, 1..11

    bool operator==(const DeviceFault&) const = default;
};

// "none", "no_reply", "delay 800ms", "exception 2".
std::string describe(const DeviceFault& fault);

// Pins one configured value (overrides its profile); no value = back to the profile.
struct PinValue {
    modbus::Table table = modbus::Table::input_register;
    std::uint16_t address = 0;
    std::optional<double> value;
};

// Closes every TCP client connection; new ones are accepted again.
struct DisconnectClients {};

using FaultAction = std::variant<DeviceFault, PinValue, DisconnectClients>;

struct FaultParseResult {
    std::optional<FaultAction> action;
    std::string error;  // set when action is empty
};

// Parses the words after "fault <device>": none | no_reply | delay <duration> | exception <1..11>
// | disconnect | value <table> <address> <number>|profile.
FaultParseResult parse_fault(std::span<const std::string> words);

// Splits a line on blanks.
std::vector<std::string> split_words(const std::string& line);

struct ValueSpec {
    modbus::Table table = modbus::Table::input_register;
    std::uint16_t address = 0;
    modbus::ValueType type = modbus::ValueType::float32;
    modbus::ByteOrder order = modbus::ByteOrder::abcd;
    double scale = 1.0;  // register holds (value - offset) / scale
    double offset = 0.0;
    Profile profile;
};

struct DeviceSpec {
    std::string name;
    std::uint8_t unit_id = 1;
    std::string fault_text = "none";  // as written; `fault` is what it says
    DeviceFault fault;
    std::vector<ValueSpec> values;
};

struct TcpSpec {
    std::string host = "127.0.0.1";
    std::uint16_t port = 1502;  // 0 = any free port, reported in the ready file
};

struct RtuSpec {
    std::string device;
    int baud = 19200;
    char parity = 'N';  // 'N', 'E', 'O' as libmodbus takes it
    int data_bits = 8;
    int stop_bits = 1;
};

struct SimConfig {
    std::string source_path;
    std::optional<TcpSpec> tcp;  // exactly one of tcp and rtu
    std::optional<RtuSpec> rtu;
    double time_scale = 1.0;
    std::uint64_t seed = 1;
    std::vector<DeviceSpec> devices;

    const DeviceSpec* find_device(std::string_view name) const;
};

// Thrown by load_sim_config with every problem found; what() holds one line per problem, each
// "file:line:col: path: message" (the daemon's config framework finds them, daemon/config).
class SimConfigError : public std::runtime_error {
  public:
    explicit SimConfigError(std::vector<std::string> lines);
    const std::vector<std::string>& lines() const { return lines_; }

  private:
    std::vector<std::string> lines_;
};

SimConfig load_sim_config(const std::string& path);
// Same, from text (tests); `name` stands for the file in messages.
SimConfig parse_sim_config(const std::string& text, const std::string& name);

}  // namespace fw::sim
