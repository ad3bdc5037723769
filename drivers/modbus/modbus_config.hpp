#pragma once
// The Modbus part of the config, as the loader (daemon/config) produces it, already validated:
// the driver can trust every field (ranges, cross-references, widths within the read limits).

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "drivers/modbus/types.hpp"

namespace fw::modbus {

using Millis = std::chrono::milliseconds;

struct PointConfig {
    std::string channel;    // unique across the whole config, e.g. "press1.vibration"
    std::string equipment;  // an id declared under `equipment:`
    Table table = Table::holding_register;
    std::uint16_t address = 0;  // 0-based protocol address
    ValueType type = ValueType::uint16;
    ByteOrder order = ByteOrder::abcd;
    double scale = 1.0;  // engineering value = raw * scale + offset
    double offset = 0.0;
    std::string unit;  // "mm/s", "degC"
};

struct DeviceConfig {
    std::string name;  // unique on its bus, used in logs: [modbus:line1/press-1-sensors]
    int unit_id = 1;   // 0–247 on RTU; 0–255 on TCP (gateways use 255 for "this device")
    Millis poll_interval{1000};
    Millis timeout{500};
    std::vector<PointConfig> points;
};

struct TcpTransport {
    std::string host;  // name or address; resolved at each (re)connect
    std::uint16_t port = 502;
};

enum class Parity { none, even, odd };

struct RtuTransport {
    std::string device;  // /dev/ttyUSB0, /dev/ttyS1, a pty
    int baud = 19200;
    Parity parity = Parity::even;
    int data_bits = 8;
    int stop_bits = 1;
    bool rs485 = false;  // switch the UART to RS-485 mode (TIOCSRS485) where the driver supports it
};

struct BusConfig {
    std::string name;  // unique, used in logs and health
    std::variant<TcpTransport, RtuTransport> transport;
    // Points of one device and table are read in one request when the gap of unread addresses
    // between them is at most this (reading a few unused registers beats another round trip).
    std::uint16_t max_gap = 16;
    // Reconnect backoff after a lost or refused connection: doubles from min to max.
    Millis reconnect_min{500};
    Millis reconnect_max{30000};
    // A device that keeps failing is polled less often: its interval doubles per failed cycle up to
    // this, and returns to its configured interval on the first good reply.
    Millis failing_poll_max{30000};
    std::vector<DeviceConfig> devices;
};

struct ModbusConfig {
    std::vector<BusConfig> buses;
};

}  // namespace fw::modbus
