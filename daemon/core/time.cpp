#include "daemon/core/time.hpp"

#include <fmt/format.h>

#include <chrono>

namespace fw {
namespace {

using std::chrono::days;
using std::chrono::milliseconds;
using std::chrono::sys_days;
using std::chrono::sys_time;

sys_time<milliseconds> time_point_of(std::int64_t utc_ms) {
    return sys_time<milliseconds>(milliseconds(utc_ms));
}

std::string date_text(const std::chrono::year_month_day& date) {
    return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(date.year()),
                       static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
}

// Reads fixed-width fields left to right; every read fails once one has.
class IsoReader {
  public:
    explicit IsoReader(std::string_view text) : text_(text) {}

    bool at_end() const { return at_ >= text_.size(); }
    bool next_is(std::string_view any_of) const {
        return !at_end() && any_of.find(text_[at_]) != std::string_view::npos;
    }
    bool eat(std::string_view any_of) {
        if (!next_is(any_of)) return false;
        ++at_;
        return true;
    }
    std::optional<int> digits(std::size_t count) {
        if (at_ + count > text_.size()) return std::nullopt;
        int value = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const char c = text_[at_ + i];
            if (c < '0' || c > '9') return std::nullopt;
            value = value * 10 + (c - '0');
        }
        at_ += count;
        return value;
    }
    // One or more digits after the decimal sign, as milliseconds (further digits dropped).
    std::optional<int> fraction_ms() {
        const std::size_t first = at_;
        int millis = 0;
        int scale = 100;
        while (next_is("0123456789")) {
            millis += (text_[at_] - '0') * scale;
            scale /= 10;
            ++at_;
        }
        if (at_ == first) return std::nullopt;
        return millis;
    }

  private:
    std::string_view text_;
    std::size_t at_ = 0;
};

// "Z", "+HH:MM", "-HHMM" ... as seconds east of UTC.
std::optional<std::int64_t> read_offset_s(IsoReader& reader) {
    if (reader.eat("Zz")) return 0;
    const bool west = reader.next_is("-");
    if (!reader.eat("+-")) return std::nullopt;
    const auto hours = reader.digits(2);
    reader.eat(":");
    const auto minutes = reader.digits(2);
    if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
    const std::int64_t seconds = *hours * 3600 + *minutes * 60;
    return west ? -seconds : seconds;
}

}  // namespace

std::int64_t wall_now_ms() {
    return std::chrono::duration_cast<milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string format_iso_time(std::int64_t utc_ms, IsoFraction fraction) {
    const auto time = time_point_of(utc_ms);
    const auto day = std::chrono::floor<days>(time);
    const std::chrono::hh_mm_ss clock(time - day);
    std::string text =
        fmt::format("{}T{:02}:{:02}:{:02}", date_text(std::chrono::year_month_day(day)),
                    clock.hours().count(), clock.minutes().count(), clock.seconds().count());
    const auto millis = clock.subseconds().count();
    if (fraction == IsoFraction::milliseconds || millis != 0) text += fmt::format(".{:03}", millis);
    text += 'Z';
    return text;
}

std::string format_iso_date(std::int64_t utc_ms) {
    return date_text(std::chrono::year_month_day(std::chrono::floor<days>(time_point_of(utc_ms))));
}

std::optional<std::int64_t> parse_iso_time(std::string_view text, IsoZone zone) {
    IsoReader reader(text);
    const auto year = reader.digits(4);
    const bool dash1 = reader.eat("-");
    const auto month = reader.digits(2);
    const bool dash2 = reader.eat("-");
    const auto day = reader.digits(2);
    const bool separator = reader.eat("Tt ");
    const auto hour = reader.digits(2);
    const bool colon = reader.eat(":");
    const auto minute = reader.digits(2);
    if (!year || !dash1 || !month || !dash2 || !day || !separator || !hour || !colon || !minute) {
        return std::nullopt;
    }
    int second = 0;
    int millis = 0;
    if (reader.eat(":")) {
        const auto seconds = reader.digits(2);
        if (!seconds) return std::nullopt;
        second = *seconds;
        if (reader.eat(".,")) {
            const auto fraction = reader.fraction_ms();
            if (!fraction) return std::nullopt;
            millis = *fraction;
        }
    } else if (zone == IsoZone::required) {
        return std::nullopt;
    }
    std::int64_t offset_s = 0;
    if (!reader.at_end()) {
        const auto offset = read_offset_s(reader);
        if (!offset) return std::nullopt;
        offset_s = *offset;
    } else if (zone == IsoZone::required) {
        return std::nullopt;
    }
    const std::chrono::year_month_day date{std::chrono::year(*year),
                                           std::chrono::month(static_cast<unsigned>(*month)),
                                           std::chrono::day(static_cast<unsigned>(*day))};
    if (!reader.at_end() || !date.ok() || *hour > 23 || *minute > 59 || second > 60) {
        return std::nullopt;
    }
    const auto local = sys_days(date) + std::chrono::hours(*hour) + std::chrono::minutes(*minute) +
                       std::chrono::seconds(second) + milliseconds(millis);
    return (local - std::chrono::seconds(offset_s)).time_since_epoch().count();
}

}  // namespace fw
