#include "daemon/core/time_zone.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "daemon/core/log.hpp"

namespace fw {
namespace {

// Seconds on the local wall clock, counted as if it were UTC: the calendar of a local time.
using LocalSeconds = std::chrono::sys_seconds;

std::int64_t read_be(std::string_view bytes, std::size_t at, std::size_t width) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < width; ++i) {
        value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
    }
    if (width == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
    return static_cast<std::int64_t>(value);
}

// Reads the POSIX TZ string in the TZif footer. Only the forms tzdata writes are accepted:
// names (alphabetic or <...>), offsets [+-]hh[:mm[:ss]], and Mm.w.d[/time] rules.
class PosixParser {
  public:
    explicit PosixParser(std::string_view text) : text_(text) {}

    TimeZone::PosixRule parse() {
        TimeZone::PosixRule rule;
        if (!skip_name()) return rule;
        std::int64_t std_west = 0;
        if (!read_offset(std_west)) return rule;
        rule.std_offset_s = -std_west;
        if (at_end()) {
            rule.valid = true;
            return rule;
        }
        if (!skip_name()) return rule;
        rule.has_dst = true;
        rule.dst_offset_s = rule.std_offset_s + 3600;
        if (!at_end() && text_[pos_] != ',') {
            std::int64_t dst_west = 0;
            if (!read_offset(dst_west)) return rule;
            rule.dst_offset_s = -dst_west;
        }
        if (!eat(',') ||
            !read_date(rule.start_month, rule.start_week, rule.start_weekday, rule.start_time_s)) {
            return rule;
        }
        if (!eat(',') ||
            !read_date(rule.end_month, rule.end_week, rule.end_weekday, rule.end_time_s)) {
            return rule;
        }
        rule.valid = at_end();
        return rule;
    }

  private:
    bool at_end() const { return pos_ >= text_.size(); }
    bool eat(char c) {
        if (at_end() || text_[pos_] != c) return false;
        ++pos_;
        return true;
    }
    bool skip_name() {
        if (eat('<')) {
            const auto close = text_.find('>', pos_);
            if (close == std::string_view::npos) return false;
            pos_ = close + 1;
            return true;
        }
        const std::size_t start = pos_;
        while (!at_end() && ((text_[pos_] >= 'A' && text_[pos_] <= 'Z') ||
                             (text_[pos_] >= 'a' && text_[pos_] <= 'z'))) {
            ++pos_;
        }
        return pos_ - start >= 3;
    }
    bool read_number(std::int64_t& value) {
        const char* begin = text_.data() + pos_;
        const auto [end, error] = std::from_chars(begin, text_.data() + text_.size(), value);
        if (error != std::errc() || end == begin) return false;
        pos_ += static_cast<std::size_t>(end - begin);
        return true;
    }
    // [+-]hh[:mm[:ss]] in seconds (POSIX offsets are positive west of Greenwich).
    bool read_offset(std::int64_t& seconds) {
        std::int64_t sign = 1;
        if (eat('-')) {
            sign = -1;
        } else {
            eat('+');
        }
        std::int64_t hours = 0, minutes = 0, secs = 0;
        if (!read_number(hours)) return false;
        if (eat(':')) {
            if (!read_number(minutes)) return false;
            if (eat(':') && !read_number(secs)) return false;
        }
        seconds = sign * (hours * 3600 + minutes * 60 + secs);
        return true;
    }
    bool read_date(int& month, int& week, int& weekday, std::int64_t& time_s) {
        std::int64_t m = 0, w = 0, d = 0;
        if (!eat('M') || !read_number(m) || !eat('.') || !read_number(w) || !eat('.') ||
            !read_number(d)) {
            return false;
        }
        if (m < 1 || m > 12 || w < 1 || w > 5 || d < 0 || d > 6) return false;
        month = static_cast<int>(m);
        week = static_cast<int>(w);
        weekday = static_cast<int>(d);
        time_s = 7200;
        if (eat('/')) return read_offset(time_s);
        return true;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

// Local seconds since the epoch at which "Mm.w.d/time" falls in `year` (d: 0 = Sunday; week 5
// is the last such weekday of the month).
std::int64_t rule_local_seconds(std::chrono::year year, int month, int week, int weekday,
                                std::int64_t time_s) {
    const std::chrono::year_month month_of_year{year,
                                                std::chrono::month(static_cast<unsigned>(month))};
    const std::chrono::weekday day_of_week{static_cast<unsigned>(weekday)};
    const std::chrono::sys_days day =
        week == 5 ? std::chrono::sys_days(month_of_year / day_of_week[std::chrono::last])
                  : std::chrono::sys_days(month_of_year / day_of_week[static_cast<unsigned>(week)]);
    return (LocalSeconds(day) + std::chrono::seconds(time_s)).time_since_epoch().count();
}

std::int64_t posix_offset_at(const TimeZone::PosixRule& rule, std::int64_t utc_s) {
    if (!rule.has_dst) return rule.std_offset_s;
    const std::chrono::year_month_day local_date{std::chrono::floor<std::chrono::days>(
        LocalSeconds(std::chrono::seconds(utc_s + rule.std_offset_s)))};
    const std::chrono::year year = local_date.year();
    // Start is given in standard local time, end in daylight local time.
    const std::int64_t start_utc = rule_local_seconds(year, rule.start_month, rule.start_week,
                                                      rule.start_weekday, rule.start_time_s) -
                                   rule.std_offset_s;
    const std::int64_t end_utc =
        rule_local_seconds(year, rule.end_month, rule.end_week, rule.end_weekday, rule.end_time_s) -
        rule.dst_offset_s;
    const bool in_dst = start_utc < end_utc ? (utc_s >= start_utc && utc_s < end_utc)
                                            : (utc_s >= start_utc || utc_s < end_utc);
    return in_dst ? rule.dst_offset_s : rule.std_offset_s;
}

}  // namespace

TimeZone::TimeZone() {
    footer_.valid = true;
}

TimeZone TimeZone::from_tzif(std::string_view bytes, const std::string& name) {
    const auto fail = [&name](std::string_view why) {
        return std::runtime_error(fmt::format(
            "time zone '{}': {}; reinstall the tzdata package (apt-get install --reinstall "
            "tzdata) or choose another gateway.timezone",
            name, why));
    };
    if (bytes.size() < 44 || bytes.substr(0, 4) != "TZif") throw fail("not a TZif file");
    const char version = bytes[4];
    std::size_t at = 0;
    std::size_t time_width = 4;
    // Version 2+ files repeat the data with 64-bit times after the 32-bit block; use that one.
    for (int pass = 0; pass < 2; ++pass) {
        if (at + 44 > bytes.size()) throw fail("truncated header");
        const auto count = [&](std::size_t index) {
            return static_cast<std::size_t>(read_be(bytes, at + 20 + index * 4, 4));
        };
        const std::size_t isutcnt = count(0), isstdcnt = count(1), leapcnt = count(2),
                          timecnt = count(3), typecnt = count(4), charcnt = count(5);
        const std::size_t data_size = timecnt * time_width + timecnt + typecnt * 6 + charcnt +
                                      leapcnt * (time_width + 4) + isstdcnt + isutcnt;
        if (at + 44 + data_size > bytes.size()) throw fail("truncated data");
        if (pass == 0 && version >= '2') {
            at += 44 + data_size;
            time_width = 8;
            continue;
        }
        if (typecnt == 0) throw fail("no local time types");
        TimeZone zone;
        zone.name_ = name;
        const std::size_t times_at = at + 44;
        const std::size_t indices_at = times_at + timecnt * time_width;
        const std::size_t types_at = indices_at + timecnt;
        const auto type_offset = [&](std::size_t type) {
            if (type >= typecnt) throw fail("transition to an unknown local time type");
            return read_be(bytes, types_at + type * 6, 4);
        };
        for (std::size_t i = 0; i < timecnt; ++i) {
            zone.transitions_.push_back(read_be(bytes, times_at + i * time_width, time_width));
            zone.offset_after_.push_back(
                type_offset(static_cast<unsigned char>(bytes[indices_at + i])));
        }
        zone.offset_before_first_ = type_offset(0);
        if (time_width == 8) {
            const std::size_t footer_at = at + 44 + data_size;
            if (footer_at < bytes.size() && bytes[footer_at] == '\n') {
                const auto end = bytes.find('\n', footer_at + 1);
                if (end != std::string_view::npos) {
                    zone.footer_ =
                        PosixParser(bytes.substr(footer_at + 1, end - footer_at - 1)).parse();
                }
            }
        }
        return zone;
    }
    throw fail("unreadable");
}

TimeZone TimeZone::load_or_utc(const std::string& name, std::string_view instance) {
    try {
        return load(name);
    } catch (const std::exception& error) {
        log_warning(instance, "{}; order numbers use UTC dates", error.what());
        return TimeZone();
    }
}

TimeZone TimeZone::load(const std::string& name, const std::string& zoneinfo_dir) {
    if (name == "UTC" || name == "Etc/UTC") return TimeZone();
    if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos) {
        throw std::runtime_error(
            fmt::format("time zone '{}' is not a zone name; write it as in the tz database, e.g. "
                        "Europe/Berlin or America/Chicago",
                        name));
    }
    const std::string path = zoneinfo_dir + "/" + name;
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw std::runtime_error(
            fmt::format("time zone '{}': cannot read {}; check the name (e.g. Europe/Berlin, see "
                        "`timedatectl list-timezones`) and that the tzdata package is installed",
                        name, path));
    }
    std::ostringstream bytes;
    bytes << file.rdbuf();
    return from_tzif(bytes.str(), name);
}

std::int64_t TimeZone::offset_at(std::int64_t utc_s) const {
    if (transitions_.empty() || utc_s >= transitions_.back()) {
        if (footer_.valid) return posix_offset_at(footer_, utc_s);
        return transitions_.empty() ? offset_before_first_ : offset_after_.back();
    }
    const auto next = std::upper_bound(transitions_.begin(), transitions_.end(), utc_s);
    if (next == transitions_.begin()) return offset_before_first_;
    return offset_after_[static_cast<std::size_t>(next - transitions_.begin() - 1)];
}

LocalTime TimeZone::local_time(std::int64_t utc_ms) const {
    LocalTime local;
    const std::int64_t utc_s =
        std::chrono::floor<std::chrono::seconds>(std::chrono::milliseconds(utc_ms)).count();
    local.utc_offset_s = offset_at(utc_s);
    const LocalSeconds local_s(std::chrono::seconds(utc_s + local.utc_offset_s));
    const auto day = std::chrono::floor<std::chrono::days>(local_s);
    const std::chrono::year_month_day date{day};
    local.year = static_cast<int>(date.year());
    local.month = static_cast<int>(static_cast<unsigned>(date.month()));
    local.day = static_cast<int>(static_cast<unsigned>(date.day()));
    local.weekday = static_cast<int>(std::chrono::weekday(day).iso_encoding()) - 1;
    local.minute_of_day =
        static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local_s - day).count());
    return local;
}

}  // namespace fw
