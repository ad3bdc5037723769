#pragma once
// Coalesces a device's points into the fewest read requests: per table, neighbours are merged when
// the gap of unread addresses between them is at most max_gap, a request never exceeds 125
// registers / 2000 bits, and a multi-register value is never split across requests.

#include <cstdint>
#include <vector>

#include "drivers/modbus/modbus_config.hpp"

namespace fw::modbus {

struct PlannedPoint {
    std::size_t point_index;  // index into the device's points
    std::uint16_t offset;     // first register/bit of the value within the request
};

struct ReadRequest {
    Table table;
    std::uint16_t address;  // first register/bit
    std::uint16_t count;    // registers or bits
    std::vector<PlannedPoint> points;
};

// Points are those of one device (one unit id). Order of requests: by table, then address.
std::vector<ReadRequest> plan_requests(const std::vector<PointConfig>& points,
                                       std::uint16_t max_gap);

}  // namespace fw::modbus
