#pragma once
// What every driver produces and every later stage consumes: a reading of one channel at one time,
// with its quality. A bad reading is still a sample, so "no answer" never looks like "all is fine".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fw {

// Stored as an integer in SQLite. Modbus exception codes keep their protocol value (0x01–0x0B) so
// the stored quality reads as the code the device sent.
enum class Quality : std::uint16_t {
    good = 0,
    illegal_function = 0x01,
    illegal_data_address = 0x02,
    illegal_data_value = 0x03,
    server_device_failure = 0x04,
    acknowledge = 0x05,
    server_device_busy = 0x06,
    negative_acknowledge = 0x07,
    memory_parity_error = 0x08,
    exception_not_defined = 0x09,
    gateway_path_unavailable = 0x0A,
    gateway_target_failed = 0x0B,
    timeout = 100,       // no reply within the device's timeout
    disconnected = 101,  // the bus connection is down (TCP refused or lost, serial port gone)
    decode_error =
        102,         // a reply arrived but its value cannot be decoded (e.g. NaN where forbidden)
    stale = 103,     // no fresh value for longer than expected
    io_error = 104,  // any other transport error (bad CRC, malformed frame)
};

// Short snake_case names, used in logs, the CLI and JSON: "good", "timeout",
// "illegal_data_address".
std::string_view quality_name(Quality quality);
std::optional<Quality> quality_from_name(std::string_view name);
// Maps a stored integer back; unknown values are returned as nullopt (a newer writer, a bad file).
std::optional<Quality> quality_from_code(int code);

struct Sample {
    std::string channel;   // e.g. "press1.vibration"
    std::int64_t time_ms;  // wall time, Unix epoch milliseconds
    double value;          // NaN when quality != good
    Quality quality;
};

using SampleBatch = std::vector<Sample>;

// Static description of a channel, from the config; stored so the CLI can show equipment and unit.
struct ChannelInfo {
    std::string name;
    std::string equipment;
    std::string area;
    std::string unit;
    std::string source;  // the instance that produces it, e.g. "modbus:line1/press-1-sensors"
};

}  // namespace fw
