#pragma once
// When a rule is active: weekdays and a daily window in the plant's local time. A window whose end
// is before its start crosses midnight and belongs to the day it starts on ("fri 22:00-06:00" runs
// Friday night into Saturday morning).

#include <cstdint>
#include <optional>
#include <string>

#include "daemon/core/result.hpp"
#include "daemon/core/time_zone.hpp"
#include "rules/rule_config.hpp"

namespace fw::rules {

struct Schedule {
    std::uint8_t days = 0x7F;  // bit 0 = Monday ... bit 6 = Sunday
    int from_minute = 0;       // minutes after local midnight
    int to_minute = 24 * 60;

    bool crosses_midnight() const { return to_minute <= from_minute; }
    bool active_at(const LocalTime& local) const;
};

// Parses and checks a schedule; an error names the key ("days: unknown day 'tus' (expected mon,
// tue, ...)").
Result<Schedule> parse_schedule(const ScheduleConfig& config);
// "mon-fri 09:00-11:00", used in the rule version hash and the README examples.
std::string describe_schedule(const Schedule& schedule);

}  // namespace fw::rules
