#include "rules/time_zone.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fw::rules {
namespace {

constexpr std::int64_t kSecondsPerDay = 86400;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

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

// Local seconds since the epoch at which "Mm.w.d/time" falls in `year` (d: 0 = Sunday).
std::int64_t rule_local_seconds(int year, int month, int week, int weekday, std::int64_t time_s) {
    const std::int64_t first = days_from_civil(year, month, 1);
    // 1970-01-01 was a Thursday (4 with 0 = Sunday).
    const std::int64_t first_weekday = ((first % 7) + 11) % 7;
    std::int64_t day = first + ((weekday - first_weekday) % 7 + 7) % 7 + (week - 1) * 7;
    if (week == 5) {
        const int next_month = month == 12 ? 1 : month + 1;
        const int next_year = month == 12 ? year + 1 : year;
        while (day >= days_from_civil(next_year, next_month, 1)) day -= 7;
    }
    return day * kSecondsPerDay + time_s;
}

std::int64_t posix_offset_at(const TimeZone::PosixRule& rule, std::int64_t utc_s) {
    if (!rule.has_dst) return rule.std_offset_s;
    int year = 0, month = 0, day = 0;
    civil_from_days(floor_div(utc_s + rule.std_offset_s, kSecondsPerDay), year, month, day);
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

std::int64_t days_from_civil(int year, int month, int day) {
    // Howard Hinnant's days_from_civil.
    const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
    const std::int64_t era = floor_div(y, 400);
    const std::int64_t yoe = y - era * 400;
    const std::int64_t mp = (month + 9) % 12;
    const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil_from_days(std::int64_t days, int& year, int& month, int& day) {
    const std::int64_t z = days + 719468;
    const std::int64_t era = floor_div(z, 146097);
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
}

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
    const std::int64_t utc_s = floor_div(utc_ms, 1000);
    local.utc_offset_s = offset_at(utc_s);
    const std::int64_t local_s = utc_s + local.utc_offset_s;
    const std::int64_t days = floor_div(local_s, kSecondsPerDay);
    civil_from_days(days, local.year, local.month, local.day);
    local.weekday = static_cast<int>(((days % 7) + 10) % 7);  // 1970-01-01 was a Thursday (3)
    local.minute_of_day = static_cast<int>((local_s - days * kSecondsPerDay) / 60);
    return local;
}

bool parse_iso_time(std::string_view text, std::int64_t& utc_ms) {
    // YYYY-MM-DDTHH:MM:SS[.mmm](Z|+HH:MM|-HH:MM)
    const auto digits = [&](std::size_t at, std::size_t width, int& out) {
        if (at + width > text.size()) return false;
        out = 0;
        for (std::size_t i = at; i < at + width; ++i) {
            if (text[i] < '0' || text[i] > '9') return false;
            out = out * 10 + (text[i] - '0');
        }
        return true;
    };
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
    if (!digits(0, 4, year) || text.size() < 20 || text[4] != '-' || !digits(5, 2, month) ||
        text[7] != '-' || !digits(8, 2, day) || (text[10] != 'T' && text[10] != ' ') ||
        !digits(11, 2, hour) || text[13] != ':' || !digits(14, 2, minute) || text[16] != ':' ||
        !digits(17, 2, second)) {
        return false;
    }
    std::size_t at = 19;
    if (at < text.size() && text[at] == '.') {
        if (!digits(at + 1, 3, millis)) return false;
        at += 4;
    }
    std::int64_t offset_s = 0;
    if (at < text.size() && text[at] == 'Z') {
        ++at;
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        int offset_h = 0, offset_m = 0;
        if (!digits(at + 1, 2, offset_h) || at + 3 >= text.size() || text[at + 3] != ':' ||
            !digits(at + 4, 2, offset_m)) {
            return false;
        }
        offset_s = (text[at] == '+' ? 1 : -1) * (offset_h * 3600 + offset_m * 60);
        at += 6;
    } else {
        return false;
    }
    if (at != text.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
        minute > 59 || second > 60) {
        return false;
    }
    const std::int64_t seconds =
        days_from_civil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 + second;
    utc_ms = (seconds - offset_s) * 1000 + millis;
    return true;
}

std::string format_iso_time(std::int64_t utc_ms) {
    const std::int64_t seconds = floor_div(utc_ms, 1000);
    const std::int64_t millis = utc_ms - seconds * 1000;
    const std::int64_t days = floor_div(seconds, kSecondsPerDay);
    const std::int64_t in_day = seconds - days * kSecondsPerDay;
    int year = 0, month = 0, day = 0;
    civil_from_days(days, year, month, day);
    if (millis != 0) {
        return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", year, month, day,
                           in_day / 3600, in_day / 60 % 60, in_day % 60, millis);
    }
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", year, month, day, in_day / 3600,
                       in_day / 60 % 60, in_day % 60);
}

}  // namespace fw::rules
