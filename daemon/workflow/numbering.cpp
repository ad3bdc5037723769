#include "daemon/workflow/numbering.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

namespace fw::workflow {
namespace {

std::optional<std::uint32_t> parse_digits(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::uint32_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

std::string order_id_for(const EventId& report_event) {
    return fmt::format("{}.{}", report_event.origin, report_event.sequence);
}

std::string format_human_number(std::string_view prefix, std::chrono::year_month_day date,
                                std::uint32_t day_counter) {
    return fmt::format("{}-{:04}{:02}{:02}-{:04}", prefix, static_cast<int>(date.year()),
                       static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                       day_counter);
}

std::optional<HumanNumber> parse_human_number(std::string_view text) {
    const auto first_dash = text.find('-');
    if (first_dash == std::string_view::npos || first_dash == 0) return std::nullopt;
    const auto second_dash = text.find('-', first_dash + 1);
    if (second_dash != first_dash + 9) return std::nullopt;
    HumanNumber number;
    for (const char c : text.substr(0, first_dash)) {
        if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
        number.prefix += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    const auto date_text = text.substr(first_dash + 1, 8);
    const auto year = parse_digits(date_text.substr(0, 4));
    const auto month = parse_digits(date_text.substr(4, 2));
    const auto day = parse_digits(date_text.substr(6, 2));
    const auto counter_text = text.substr(second_dash + 1);
    const auto counter = parse_digits(counter_text);
    if (!year || !month || !day || !counter || counter_text.size() < 4 || *counter == 0) {
        return std::nullopt;
    }
    number.date = std::chrono::year_month_day{std::chrono::year(static_cast<int>(*year)),
                                              std::chrono::month(*month), std::chrono::day(*day)};
    if (!number.date.ok()) return std::nullopt;
    number.day_counter = *counter;
    return number;
}

}  // namespace fw::workflow
