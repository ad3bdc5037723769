#pragma once
// A plant's time zone read from the system's TZif files (/usr/share/zoneinfo, package tzdata),
// because GCC 12's libstdc++ has no std::chrono::tzdb. Rule schedules and the plant-local day of
// order numbers run on local wall time in it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fw {

// Calendar fields of a local time.
struct LocalTime {
    int year = 1970;
    int month = 1;    // 1-12
    int day = 1;      // 1-31
    int weekday = 3;  // 0 = Monday ... 6 = Sunday
    int minute_of_day = 0;
    std::int64_t utc_offset_s = 0;
};

class TimeZone {
  public:
    // UTC: no file needed.
    TimeZone();
    // Loads `name` ("Europe/Berlin", "UTC") from `zoneinfo_dir`. Throws std::runtime_error with a
    // message naming the file and what to do when it is missing or not a TZif file.
    static TimeZone load(const std::string& name,
                         const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
    // The zone order numbers are dated in: `name`, or UTC with a warning logged under `instance`
    // when it cannot be loaded (a missing zone must not stop work orders).
    static TimeZone load_or_utc(const std::string& name, std::string_view instance);
    // Parses TZif bytes (exposed for tests).
    static TimeZone from_tzif(std::string_view bytes, const std::string& name);

    const std::string& name() const { return name_; }
    // Offset from UTC in seconds at the UTC instant `utc_s` (Unix seconds).
    std::int64_t offset_at(std::int64_t utc_s) const;
    LocalTime local_time(std::int64_t utc_ms) const;

    // A POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3") for times after the last transition.
    struct PosixRule {
        bool valid = false;
        std::int64_t std_offset_s = 0;  // seconds east of UTC
        bool has_dst = false;
        std::int64_t dst_offset_s = 0;
        // Mm.w.d/time, for the start and the end of daylight saving time.
        int start_month = 0, start_week = 0, start_weekday = 0;
        std::int64_t start_time_s = 7200;
        int end_month = 0, end_week = 0, end_weekday = 0;
        std::int64_t end_time_s = 7200;
    };

  private:
    std::string name_ = "UTC";
    std::vector<std::int64_t> transitions_;   // UTC seconds, ascending
    std::vector<std::int64_t> offset_after_;  // offset in force from each transition on
    std::int64_t offset_before_first_ = 0;
    PosixRule footer_;
};

}  // namespace fw
