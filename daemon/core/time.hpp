#pragma once
// Wall-clock time as floorwatch stores and shows it: Unix epoch milliseconds in UTC, written and
// read as ISO 8601 ("2026-11-29T08:00:00Z"). The one formatter and the one parser every part uses
// (store rows, CLI output and --since, MQTT payload times, log lines, scenario files). Local time
// in the plant's zone is daemon/core/time_zone.hpp.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fw {

// Wall time now, Unix epoch milliseconds.
std::int64_t wall_now_ms();

enum class IsoFraction {
    // "2026-11-29T08:00:00Z", and "2026-11-29T08:00:00.250Z" when there are milliseconds: rows
    // and messages that people compare by eye.
    when_nonzero,
    // Always "2026-11-29T08:00:00.000Z": columns that line up (CLI tables, log lines).
    milliseconds,
};

// UTC in ISO 8601 with a "Z"; times before 1970 work too.
std::string format_iso_time(std::int64_t utc_ms, IsoFraction fraction = IsoFraction::when_nonzero);
// The UTC calendar day, "2026-11-29".
std::string format_iso_date(std::int64_t utc_ms);

enum class IsoZone {
    // The zone must be written: a machine's time without one would be a guess (MQTT payloads).
    required,
    // A time without a zone is UTC, and its seconds may be left out: what people type
    // (`floorwatch samples --since 2026-11-29T08:00`).
    utc_if_absent,
};

// Reads `YYYY-MM-DD(T|t| )HH:MM:SS[(.|,)fraction](Z|z|+HH:MM|-HH:MM|+HHMM|-HHMM)` into Unix
// milliseconds; digits of the fraction beyond milliseconds are dropped. With IsoZone::utc_if_absent
// the zone and the seconds are optional. Second 60 (a leap second) reads as the next second, as in
// POSIX time. Anything else, including a day the month does not have (2026-02-30) and an offset
// beyond 23:59, gives nullopt.
std::optional<std::int64_t> parse_iso_time(std::string_view text, IsoZone zone = IsoZone::required);

}  // namespace fw
