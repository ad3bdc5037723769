#pragma once
// What a failed libmodbus call means for the poller: which quality its points get and whether the
// connection has to be reopened. Kept apart from the poller so the mapping is unit-tested.

#include <string>

#include "daemon/core/sample.hpp"

namespace fw::modbus {

enum class FailureKind {
    timeout,          // no reply in time: flush, skip the device's other requests this cycle
    exception,        // the device replied with a Modbus exception code
    bad_reply,        // CRC error, malformed or unexpected frame: flush and go on
    connection_lost,  // the socket or serial port is gone: close and reconnect with backoff
};

struct RequestFailure {
    FailureKind kind;
    Quality quality;
};

// `error_number` is errno right after the failed libmodbus call; `serial` is true on RTU buses,
// where EIO means the port itself went away (a USB adapter unplugged).
RequestFailure classify_request_error(int error_number, bool serial);

// Readable text for errno values and libmodbus's own codes (thread-safe, unlike strerror).
std::string describe_error(int error_number);

}  // namespace fw::modbus
