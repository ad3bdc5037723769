#include "daemon/core/units.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <utility>

namespace fw {
namespace {

// Splits "250ms" into (250, "ms"); the number may have a fractional part.
std::optional<std::pair<double, std::string_view>> split_number_unit(std::string_view text) {
    std::size_t end = 0;
    bool seen_digit = false;
    bool seen_point = false;
    while (end < text.size()) {
        const char c = text[end];
        if (c >= '0' && c <= '9') {
            seen_digit = true;
        } else if (c == '.' && !seen_point) {
            seen_point = true;
        } else {
            break;
        }
        ++end;
    }
    if (!seen_digit) return std::nullopt;
    double number = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, number);
    if (ec != std::errc() || ptr != text.data() + end) return std::nullopt;
    std::string_view unit = text.substr(end);
    while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
    return std::make_pair(number, unit);
}

struct UnitFactor {
    std::string_view unit;
    double factor;
};

constexpr std::array<UnitFactor, 5> kDurationUnits{{
    {"ms", 1.0},
    {"s", 1000.0},
    {"m", 60.0 * 1000.0},
    {"h", 3600.0 * 1000.0},
    {"d", 86400.0 * 1000.0},
}};

constexpr std::array<UnitFactor, 10> kSizeUnits{{
    {"", 1.0},
    {"B", 1.0},
    {"KiB", 1024.0},
    {"MiB", 1024.0 * 1024.0},
    {"GiB", 1024.0 * 1024.0 * 1024.0},
    {"TiB", 1024.0 * 1024.0 * 1024.0 * 1024.0},
    {"kB", 1e3},
    {"MB", 1e6},
    {"GB", 1e9},
    {"TB", 1e12},
}};

}  // namespace

std::optional<Millis> parse_duration(std::string_view text) {
    const auto parsed = split_number_unit(text);
    if (!parsed) return std::nullopt;
    const auto [number, unit] = *parsed;
    for (const auto& candidate : kDurationUnits) {
        if (candidate.unit != unit) continue;
        const double millis = std::round(number * candidate.factor);
        // 100 years is far beyond any sensible interval and keeps every later sum from overflowing.
        if (!std::isfinite(millis) || millis > 100.0 * 365 * 86400 * 1000) return std::nullopt;
        return Millis(static_cast<std::int64_t>(millis));
    }
    return std::nullopt;
}

std::string format_duration(Millis duration) {
    const std::int64_t millis = duration.count();
    if (millis == 0) return "0s";
    for (auto it = kDurationUnits.rbegin(); it != kDurationUnits.rend(); ++it) {
        const auto factor = static_cast<std::int64_t>(it->factor);
        if (millis % factor == 0) return fmt::format("{}{}", millis / factor, it->unit);
    }
    return fmt::format("{}ms", millis);
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
    const auto parsed = split_number_unit(text);
    if (!parsed) return std::nullopt;
    const auto [number, unit] = *parsed;
    for (const auto& candidate : kSizeUnits) {
        if (candidate.unit != unit) continue;
        const double bytes = std::round(number * candidate.factor);
        if (!std::isfinite(bytes) || bytes > 1.8e19) return std::nullopt;
        return static_cast<std::uint64_t>(bytes);
    }
    return std::nullopt;
}

std::string format_size(std::uint64_t bytes) {
    constexpr std::array<std::string_view, 4> kBinary{"TiB", "GiB", "MiB", "KiB"};
    std::uint64_t factor = 1ULL << 40;
    for (const auto unit : kBinary) {
        if (bytes >= factor && bytes % factor == 0)
            return fmt::format("{}{}", bytes / factor, unit);
        factor >>= 10;
    }
    return fmt::format("{}B", bytes);
}

}  // namespace fw
