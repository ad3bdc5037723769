#include "drivers/modbus/planner.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace fw::modbus {
namespace {

PointConfig point_at(Table table, std::uint16_t address, ValueType type = ValueType::uint16) {
    PointConfig point;
    point.channel = fmt::format("{}.{}", table_name(table), address);
    point.table = table;
    point.address = address;
    point.type = type;
    return point;
}

int limit_of(Table table) {
    return is_bit_table(table) ? kMaxBitsPerRead : kMaxRegistersPerRead;
}
int width_of_point(const PointConfig& point) {
    return width_of(point.type, point.table);
}

std::string describe(const std::vector<PointConfig>& points, std::uint16_t max_gap) {
    std::string text = fmt::format("max_gap={} points:", max_gap);
    for (std::size_t i = 0; i < points.size(); ++i) {
        text += fmt::format(" #{}={}@{}/{}", i, table_name(points[i].table), points[i].address,
                            type_name(points[i].type));
    }
    return text;
}

// The smallest number of requests for one table, found by dynamic programming over every way of
// cutting the address-sorted points into consecutive groups. Independent of the planner's greedy
// walk: it tries every cut instead of deciding on the fly.
std::size_t minimum_requests(std::vector<PointConfig> points, Table table, int max_gap) {
    std::erase_if(points, [&](const PointConfig& point) { return point.table != table; });
    std::stable_sort(points.begin(), points.end(),
                     [](const auto& a, const auto& b) { return a.address < b.address; });
    const std::size_t count = points.size();
    const auto group_is_one_request = [&](std::size_t first, std::size_t last) {
        int end = points[first].address + width_of_point(points[first]);
        for (std::size_t k = first + 1; k <= last; ++k) {
            if (points[k].address - end > max_gap) return false;
            end = std::max(end, points[k].address + width_of_point(points[k]));
        }
        return end - points[first].address <= limit_of(table);
    };
    constexpr std::size_t kUnreachable = 1'000'000;
    // fewest[j] = fewest requests for the first j points.
    std::vector<std::size_t> fewest(count + 1, kUnreachable);
    fewest[0] = 0;
    for (std::size_t last = 0; last < count; ++last) {
        for (std::size_t first = 0; first <= last; ++first) {
            if (fewest[first] == kUnreachable || !group_is_one_request(first, last)) continue;
            fewest[last + 1] = std::min(fewest[last + 1], fewest[first] + 1);
        }
    }
    return fewest[count];
}

// Every property a plan must have; returns what is wrong with it (empty when all hold).
std::vector<std::string> plan_violations(const std::vector<PointConfig>& points,
                                         std::uint16_t max_gap,
                                         const std::vector<ReadRequest>& plan) {
    std::vector<std::string> problems;
    std::vector<int> times_covered(points.size(), 0);
    for (std::size_t r = 0; r < plan.size(); ++r) {
        const ReadRequest& request = plan[r];
        const int request_end = request.address + request.count;
        if (request.count == 0 || request.count > limit_of(request.table) || request_end > 65536) {
            problems.push_back(fmt::format("request {} has count {}", r, request.count));
        }
        if (r > 0) {
            const ReadRequest& previous = plan[r - 1];
            if (previous.table > request.table ||
                (previous.table == request.table && previous.address > request.address)) {
                problems.push_back(fmt::format("request {} is out of order", r));
            }
        }
        int tight_first = 65536;
        int tight_end = 0;
        for (const PlannedPoint& planned : request.points) {
            if (planned.point_index >= points.size()) {
                problems.push_back(fmt::format("request {} names a point that does not exist", r));
                continue;
            }
            const PointConfig& point = points[planned.point_index];
            ++times_covered[planned.point_index];
            const int first = request.address + planned.offset;
            const int end = first + width_of_point(point);
            if (point.table != request.table || first != point.address || end > request_end) {
                problems.push_back(fmt::format("point #{} is not wholly inside request {}",
                                               planned.point_index, r));
            }
            tight_first = std::min(tight_first, first);
            tight_end = std::max(tight_end, end);
        }
        if (tight_first != request.address || tight_end != request_end) {
            problems.push_back(fmt::format("request {} reads registers no point needs", r));
        }
        // Gap rule inside a request: walking its points by address, no hole exceeds max_gap.
        std::vector<PlannedPoint> by_address = request.points;
        std::stable_sort(by_address.begin(), by_address.end(),
                         [](const auto& a, const auto& b) { return a.offset < b.offset; });
        int covered_end = -1;
        for (const PlannedPoint& planned : by_address) {
            if (planned.point_index >= points.size()) continue;
            if (covered_end >= 0 && planned.offset - covered_end > max_gap) {
                problems.push_back(fmt::format("request {} has a hole wider than max_gap", r));
            }
            covered_end =
                std::max(covered_end, planned.offset + width_of_point(points[planned.point_index]));
        }
        // Gap rule between requests: the next request of the same table starts where merging
        // was not allowed.
        if (r + 1 < plan.size() && plan[r + 1].table == request.table &&
            !plan[r + 1].points.empty() && plan[r + 1].points.front().point_index < points.size()) {
            const ReadRequest& next = plan[r + 1];
            const PointConfig& first_of_next = points[next.points.front().point_index];
            const int gap = first_of_next.address - request_end;
            const int merged_span =
                std::max(request_end, first_of_next.address + width_of_point(first_of_next)) -
                request.address;
            if (gap <= max_gap && merged_span <= limit_of(request.table)) {
                problems.push_back(
                    fmt::format("requests {} and {} could have been one (gap {})", r, r + 1, gap));
            }
        }
    }
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (times_covered[i] != 1) {
            problems.push_back(fmt::format("point #{} is covered {} times", i, times_covered[i]));
        }
    }
    for (const Table table :
         {Table::coil, Table::discrete_input, Table::input_register, Table::holding_register}) {
        const auto planned = static_cast<std::size_t>(std::count_if(
            plan.begin(), plan.end(), [&](const auto& request) { return request.table == table; }));
        const std::size_t fewest = minimum_requests(points, table, max_gap);
        if (planned != fewest) {
            problems.push_back(fmt::format("{}: {} requests where {} suffice", table_name(table),
                                           planned, fewest));
        }
    }
    return problems;
}

struct RandomLayout {
    std::vector<PointConfig> points;
    std::uint16_t max_gap;
};

RandomLayout random_layout(std::mt19937& random) {
    const auto pick = [&](int low, int high) {
        return std::uniform_int_distribution<int>(low, high)(random);
    };
    RandomLayout layout;
    // Small gaps make the gap rule decide, large ones make the size limit decide.
    constexpr std::array<int, 6> kGapChoices{0, 1, 3, 16, 60, 400};
    layout.max_gap = static_cast<std::uint16_t>(kGapChoices[static_cast<std::size_t>(pick(0, 5))]);
    const int point_count = pick(0, 40);
    // Narrow windows crowd points together (overlaps, shared registers); wide ones spread them
    // beyond one request; some windows end at the top of the address space.
    constexpr std::array<int, 4> kWindows{8, 130, 700, 5000};
    const int window = kWindows[static_cast<std::size_t>(pick(0, 3))];
    const int base = pick(0, 1) == 0 ? 0 : 65536 - window;
    for (int i = 0; i < point_count; ++i) {
        const auto table = static_cast<Table>(pick(0, 3));
        const auto type = static_cast<ValueType>(pick(0, 8));
        const int width = width_of(type, table);
        const int address = std::min(base + pick(0, window - 1), 65536 - width);
        layout.points.push_back(point_at(table, static_cast<std::uint16_t>(address), type));
    }
    return layout;
}

TEST_CASE("planner: properties hold over 10000 random layouts") {
    constexpr std::uint32_t kBaseSeed = 20240611;
    constexpr int kLayouts = 12000;
    int checked = 0;
    for (int iteration = 0; iteration < kLayouts; ++iteration) {
        const std::uint32_t seed = kBaseSeed + static_cast<std::uint32_t>(iteration);
        std::mt19937 random(seed);
        const RandomLayout layout = random_layout(random);
        const auto plan = plan_requests(layout.points, layout.max_gap);
        const auto problems = plan_violations(layout.points, layout.max_gap, plan);
        if (!problems.empty()) {
            FAIL(fmt::format("seed {} (std::mt19937, layout {}): {}\n{}", seed, iteration,
                             fmt::join(problems, "; "), describe(layout.points, layout.max_gap)));
        }
        ++checked;
    }
    CHECK(checked == kLayouts);
}

TEST_CASE("planner: the property checker catches broken plans") {
    const std::vector<PointConfig> points{point_at(Table::holding_register, 0),
                                          point_at(Table::holding_register, 1)};
    const auto good = plan_requests(points, 0);
    REQUIRE(plan_violations(points, 0, good).empty());

    std::vector<ReadRequest> split{{Table::holding_register, 0, 1, {{0, 0}}},
                                   {Table::holding_register, 1, 1, {{1, 0}}}};
    CHECK_FALSE(plan_violations(points, 0, split).empty());

    std::vector<ReadRequest> missing_point{{Table::holding_register, 0, 2, {{0, 0}}}};
    CHECK_FALSE(plan_violations(points, 0, missing_point).empty());

    std::vector<ReadRequest> too_long{{Table::holding_register, 0, 126, {{0, 0}, {1, 1}}}};
    CHECK_FALSE(plan_violations(points, 0, too_long).empty());
}

TEST_CASE("planner: named examples") {
    SUBCASE("no points, no requests") {
        CHECK(plan_requests({}, 16).empty());
    }

    SUBCASE("neighbours share a request, points keep their offsets") {
        const auto plan = plan_requests({point_at(Table::holding_register, 10, ValueType::float32),
                                         point_at(Table::holding_register, 12)},
                                        0);
        REQUIRE(plan.size() == 1);
        CHECK(plan[0].address == 10);
        CHECK(plan[0].count == 3);
        REQUIRE(plan[0].points.size() == 2);
        CHECK(plan[0].points[0].point_index == 0);
        CHECK(plan[0].points[0].offset == 0);
        CHECK(plan[0].points[1].point_index == 1);
        CHECK(plan[0].points[1].offset == 2);
    }

    SUBCASE("a gap of exactly max_gap merges, one more splits") {
        const auto merged = plan_requests(
            {point_at(Table::input_register, 0), point_at(Table::input_register, 5)}, 4);
        REQUIRE(merged.size() == 1);
        CHECK(merged[0].count == 6);
        const auto split = plan_requests(
            {point_at(Table::input_register, 0), point_at(Table::input_register, 6)}, 4);
        CHECK(split.size() == 2);
    }

    SUBCASE("a value is never split across the 125-register limit") {
        const auto plan =
            plan_requests({point_at(Table::holding_register, 0),
                           point_at(Table::holding_register, 123, ValueType::float32),
                           point_at(Table::holding_register, 124, ValueType::float64)},
                          200);
        REQUIRE(plan.size() == 2);
        CHECK(plan[0].address == 0);
        CHECK(plan[0].count == 125);
        CHECK(plan[1].address == 124);
        CHECK(plan[1].count == 4);
    }

    SUBCASE("bool flags and a uint16 on the same register are read once") {
        const auto plan = plan_requests({point_at(Table::holding_register, 7, ValueType::boolean),
                                         point_at(Table::holding_register, 7, ValueType::uint16)},
                                        0);
        REQUIRE(plan.size() == 1);
        CHECK(plan[0].count == 1);
        CHECK(plan[0].points.size() == 2);
    }

    SUBCASE("bit tables allow 2000 bits per request") {
        const auto full =
            plan_requests({point_at(Table::coil, 0), point_at(Table::coil, 1999)}, 2000);
        REQUIRE(full.size() == 1);
        CHECK(full[0].count == 2000);
        const auto over =
            plan_requests({point_at(Table::coil, 0), point_at(Table::coil, 2000)}, 2000);
        CHECK(over.size() == 2);
    }

    SUBCASE("a float32 in a bit table is one bit wide") {
        const auto plan =
            plan_requests({point_at(Table::discrete_input, 3, ValueType::float32)}, 0);
        REQUIRE(plan.size() == 1);
        CHECK(plan[0].count == 1);
    }

    SUBCASE("tables are never mixed; requests come by table, then address") {
        const auto plan =
            plan_requests({point_at(Table::holding_register, 50), point_at(Table::coil, 1),
                           point_at(Table::input_register, 0), point_at(Table::holding_register, 2),
                           point_at(Table::input_register, 1)},
                          0);
        REQUIRE(plan.size() == 4);
        CHECK(plan[0].table == Table::coil);
        CHECK(plan[1].table == Table::input_register);
        CHECK(plan[1].count == 2);
        CHECK(plan[2].table == Table::holding_register);
        CHECK(plan[2].address == 2);
        CHECK(plan[3].address == 50);
    }

    SUBCASE("the last registers of the address space") {
        const auto plan =
            plan_requests({point_at(Table::holding_register, 65532, ValueType::uint64)}, 16);
        REQUIRE(plan.size() == 1);
        CHECK(plan[0].address == 65532);
        CHECK(plan[0].count == 4);
    }
}

}  // namespace
}  // namespace fw::modbus
