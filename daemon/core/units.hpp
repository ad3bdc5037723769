#pragma once
// Durations ("250ms", "30s", "5m", "12h", "7d") and sizes ("512MiB", "64KiB", "1GB", "4096") as
// written in the config file, the CLI (--since 10m) and the simulator's profiles.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fw {

using Millis = std::chrono::milliseconds;

// Accepts a non-negative integer or decimal number followed by a unit: ms, s, m (minutes), h, d.
// "1.5s" = 1500 ms. No unit, negative values, overflow and unknown units give nullopt.
std::optional<Millis> parse_duration(std::string_view text);
// Shortest exact form: 1500 ms -> "1500ms", 30000 -> "30s", 604800000 -> "7d".
std::string format_duration(Millis duration);

// Accepts an integer followed by an optional unit: B, KiB, MiB, GiB, TiB (powers of 1024) and
// kB, MB, GB, TB (powers of 1000). Plain numbers are bytes.
std::optional<std::uint64_t> parse_size(std::string_view text);
std::string format_size(std::uint64_t bytes);

}  // namespace fw
