// The TZif reader against the system's tzdata: offsets around the switches, the POSIX rule after
// the file's last transition, and the refusals.

#include "daemon/core/time_zone.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "daemon/core/time.hpp"

using fw::LocalTime;
using fw::TimeZone;

namespace {

std::int64_t at(const char* iso) {
    const auto ms = fw::parse_iso_time(iso);
    REQUIRE(ms);
    return *ms;
}

}  // namespace

TEST_CASE("local calendar fields: date, ISO weekday and minute of the day, before 1970 too") {
    const TimeZone utc;
    const LocalTime leap_day = utc.local_time(at("2024-02-29T23:59:59.999Z"));
    CHECK(leap_day.year == 2024);
    CHECK(leap_day.month == 2);
    CHECK(leap_day.day == 29);
    CHECK(leap_day.weekday == 3);  // Thursday
    CHECK(leap_day.minute_of_day == 23 * 60 + 59);
    const LocalTime before_epoch = utc.local_time(-1);
    CHECK(before_epoch.year == 1969);
    CHECK(before_epoch.month == 12);
    CHECK(before_epoch.day == 31);
    CHECK(before_epoch.weekday == 2);  // Wednesday
    CHECK(before_epoch.minute_of_day == 23 * 60 + 59);
}

TEST_CASE("Europe/Berlin switches at 01:00 UTC on the last Sundays of March and October") {
    const TimeZone berlin = TimeZone::load("Europe/Berlin");
    // 2026: 29 March and 25 October.
    CHECK(berlin.local_time(at("2026-03-29T00:59:59Z")).utc_offset_s == 3600);
    CHECK(berlin.local_time(at("2026-03-29T01:00:00Z")).utc_offset_s == 7200);
    CHECK(berlin.local_time(at("2026-10-25T00:59:59Z")).utc_offset_s == 7200);
    CHECK(berlin.local_time(at("2026-10-25T01:00:00Z")).utc_offset_s == 3600);
    const LocalTime local = berlin.local_time(at("2026-03-29T01:30:00Z"));
    CHECK(local.minute_of_day == 3 * 60 + 30);
    CHECK(local.weekday == 6);  // Sunday
    CHECK(local.day == 29);
}

TEST_CASE("after the last transition in the file the POSIX rule of its footer applies") {
    const TimeZone berlin = TimeZone::load("Europe/Berlin");
    // 2100: last Sunday of March is the 28th, of October the 31st.
    CHECK(berlin.local_time(at("2100-03-28T00:59:59Z")).utc_offset_s == 3600);
    CHECK(berlin.local_time(at("2100-03-28T01:00:00Z")).utc_offset_s == 7200);
    CHECK(berlin.local_time(at("2100-10-31T00:59:59Z")).utc_offset_s == 7200);
    CHECK(berlin.local_time(at("2100-10-31T01:00:00Z")).utc_offset_s == 3600);
    // Southern hemisphere: daylight time spans the new year.
    const TimeZone sydney = TimeZone::load("Australia/Sydney");
    CHECK(sydney.local_time(at("2100-01-15T00:00:00Z")).utc_offset_s == 11LL * 3600);
    CHECK(sydney.local_time(at("2100-07-15T00:00:00Z")).utc_offset_s == 10LL * 3600);
    // A rule on the n-th weekday (CST6CDT,M3.2.0,M11.1.0): 2100-03-14 and 2100-11-07 are the
    // second Sunday of March and the first of November, at 02:00 local time.
    const TimeZone chicago = TimeZone::load("America/Chicago");
    CHECK(chicago.local_time(at("2100-03-14T07:59:59Z")).utc_offset_s == -6LL * 3600);
    CHECK(chicago.local_time(at("2100-03-14T08:00:00Z")).utc_offset_s == -5LL * 3600);
    CHECK(chicago.local_time(at("2100-11-07T06:59:59Z")).utc_offset_s == -5LL * 3600);
    CHECK(chicago.local_time(at("2100-11-07T07:00:00Z")).utc_offset_s == -6LL * 3600);
}

TEST_CASE("a missing or malformed zone is refused with a message that says what to do") {
    CHECK_THROWS_WITH_AS(TimeZone::load("Europe/Atlantis"), doctest::Contains("check the name"),
                         std::runtime_error);
    CHECK_THROWS_AS(TimeZone::load("../etc/passwd"), std::runtime_error);
    CHECK_THROWS_WITH_AS(
        TimeZone::from_tzif("not a zone file at all, not even close......", "Bad/Zone"),
        doctest::Contains("not a TZif file"), std::runtime_error);
    CHECK(TimeZone::load("UTC").offset_at(0) == 0);
}
