#include "drivers/modbus/planner.hpp"

#include <algorithm>
#include <array>

namespace fw::modbus {
namespace {

constexpr std::array<Table, 4> kTablesInRequestOrder{
    Table::coil, Table::discrete_input, Table::input_register, Table::holding_register};

int request_limit(Table table) {
    return is_bit_table(table) ? kMaxBitsPerRead : kMaxRegistersPerRead;
}

struct PlacedPoint {
    std::size_t index;
    int first;  // int, not uint16: address + width may reach 65536
    int end;    // one past the value's last register/bit
};

std::vector<PlacedPoint> sorted_points_of(const std::vector<PointConfig>& points, Table table) {
    std::vector<PlacedPoint> placed;
    for (std::size_t i = 0; i < points.size(); ++i) {
        const PointConfig& point = points[i];
        if (point.table != table) continue;
        const int first = point.address;
        placed.push_back({i, first, first + width_of(point.type, table)});
    }
    std::stable_sort(placed.begin(), placed.end(),
                     [](const PlacedPoint& a, const PlacedPoint& b) { return a.first < b.first; });
    return placed;
}

}  // namespace

std::vector<ReadRequest> plan_requests(const std::vector<PointConfig>& points,
                                       std::uint16_t max_gap) {
    std::vector<ReadRequest> requests;
    for (const Table table : kTablesInRequestOrder) {
        const int limit = request_limit(table);
        std::vector<PlacedPoint> members;
        int start = 0;
        int end = 0;
        const auto close_request = [&] {
            if (members.empty()) return;
            ReadRequest request{table,
                                static_cast<std::uint16_t>(start),
                                static_cast<std::uint16_t>(end - start),
                                {}};
            request.points.reserve(members.size());
            for (const PlacedPoint& member : members) {
                request.points.push_back(
                    {member.index, static_cast<std::uint16_t>(member.first - start)});
            }
            requests.push_back(std::move(request));
            members.clear();
        };
        for (const PlacedPoint& point : sorted_points_of(points, table)) {
            // A negative gap means the point overlaps what the request already reads.
            const int gap = point.first - end;
            const int merged_end = std::max(end, point.end);
            const bool fits = !members.empty() && gap <= max_gap && merged_end - start <= limit;
            if (!fits) {
                close_request();
                start = point.first;
                end = point.end;
            } else {
                end = merged_end;
            }
            members.push_back(point);
        }
        close_request();
    }
    return requests;
}

}  // namespace fw::modbus
