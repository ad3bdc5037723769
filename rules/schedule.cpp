#include "rules/schedule.hpp"

#include <fmt/format.h>

#include <array>
#include <string_view>

namespace fw::rules {
namespace {

constexpr std::array<std::string_view, 7> kDayNames{"mon", "tue", "wed", "thu",
                                                    "fri", "sat", "sun"};

std::optional<int> day_index(std::string_view name) {
    for (std::size_t i = 0; i < kDayNames.size(); ++i) {
        if (kDayNames[i] == name) return static_cast<int>(i);
    }
    return std::nullopt;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    return text;
}

std::optional<int> parse_clock(std::string_view text, bool allow_24) {
    if (text.size() != 5 || text[2] != ':') return std::nullopt;
    for (const std::size_t i : {0U, 1U, 3U, 4U}) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
    }
    const int hours = (text[0] - '0') * 10 + (text[1] - '0');
    const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
    if (minutes > 59) return std::nullopt;
    if (hours == 24 && minutes == 0 && allow_24) return 24 * 60;
    if (hours > 23) return std::nullopt;
    return hours * 60 + minutes;
}

}  // namespace

bool Schedule::active_at(const LocalTime& local) const {
    const auto day_bit = [this](int weekday) { return (days >> weekday) & 1U; };
    if (!crosses_midnight()) {
        return day_bit(local.weekday) && local.minute_of_day >= from_minute &&
               local.minute_of_day < to_minute;
    }
    if (day_bit(local.weekday) && local.minute_of_day >= from_minute) return true;
    const int previous_day = (local.weekday + 6) % 7;
    return day_bit(previous_day) && local.minute_of_day < to_minute;
}

Result<Schedule> parse_schedule(const ScheduleConfig& config) {
    Schedule schedule;
    schedule.days = 0;
    std::string_view days = config.days;
    while (!days.empty()) {
        const auto comma = days.find(',');
        const std::string_view item = trim(days.substr(0, comma));
        days = comma == std::string_view::npos ? std::string_view() : days.substr(comma + 1);
        const auto dash = item.find('-');
        const std::string_view first_name = trim(item.substr(0, dash));
        const std::string_view last_name =
            dash == std::string_view::npos ? first_name : trim(item.substr(dash + 1));
        const auto first = day_index(first_name);
        const auto last = day_index(last_name);
        if (!first || !last) {
            return Error{
                fmt::format("days: unknown day '{}' in '{}' (expected mon, tue, wed, thu, "
                            "fri, sat, sun; ranges like tue-thu, lists like mon,wed)",
                            first ? last_name : first_name, config.days)};
        }
        // A range wraps past Sunday: sat-mon is Saturday, Sunday and Monday.
        for (int day = *first;; day = (day + 1) % 7) {
            schedule.days = static_cast<std::uint8_t>(schedule.days | (1U << day));
            if (day == *last) break;
        }
    }
    if (schedule.days == 0) {
        return Error{"days: no day given (e.g. mon-fri)"};
    }
    const auto from = parse_clock(config.from, false);
    if (!from) {
        return Error{
            fmt::format("from: '{}' is not a time of day HH:MM (00:00 to 23:59)", config.from)};
    }
    const auto to = parse_clock(config.to, true);
    if (!to) {
        return Error{
            fmt::format("to: '{}' is not a time of day HH:MM (00:00 to 24:00)", config.to)};
    }
    if (*from == *to) {
        return Error{
            fmt::format("to: the window {}-{} is empty; use from: 00:00, to: 24:00 for whole "
                        "days",
                        config.from, config.to)};
    }
    schedule.from_minute = *from;
    schedule.to_minute = *to;
    return schedule;
}

std::string describe_schedule(const Schedule& schedule) {
    std::string days;
    for (int day = 0; day < 7; ++day) {
        if ((schedule.days >> day) & 1U) {
            if (!days.empty()) days += ',';
            days += kDayNames[static_cast<std::size_t>(day)];
        }
    }
    return fmt::format("{} {:02}:{:02}-{:02}:{:02}", days, schedule.from_minute / 60,
                       schedule.from_minute % 60, schedule.to_minute / 60, schedule.to_minute % 60);
}

}  // namespace fw::rules
