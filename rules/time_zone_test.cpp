#include "rules/time_zone.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "rules/schedule.hpp"

using namespace fw::rules;

namespace {

std::int64_t at(const char* iso) {
    std::int64_t ms = 0;
    REQUIRE(parse_iso_time(iso, ms));
    return ms;
}

}  // namespace

TEST_CASE("ISO times and civil dates") {
    CHECK(at("1970-01-01T00:00:00Z") == 0);
    CHECK(at("2026-03-29T03:00:00+02:00") == at("2026-03-29T01:00:00Z"));
    CHECK(format_iso_time(at("2026-10-25T00:59:59.250Z")) == "2026-10-25T00:59:59.250Z");
    std::int64_t ignored = 0;
    CHECK_FALSE(parse_iso_time("2026-10-25 00:59", ignored));
    CHECK_FALSE(parse_iso_time("2026-13-01T00:00:00Z", ignored));
    int year = 0, month = 0, day = 0;
    civil_from_days(days_from_civil(2024, 2, 29), year, month, day);
    CHECK(year == 2024);
    CHECK(month == 2);
    CHECK(day == 29);
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
    CHECK(sydney.local_time(at("2100-01-15T00:00:00Z")).utc_offset_s == 11 * 3600);
    CHECK(sydney.local_time(at("2100-07-15T00:00:00Z")).utc_offset_s == 10 * 3600);
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

TEST_CASE("schedules: weekdays, windows crossing midnight, DST") {
    const auto office = parse_schedule({"tue-thu", "09:00", "11:00"});
    REQUIRE(office);
    const TimeZone berlin = TimeZone::load("Europe/Berlin");
    // Tuesday 2026-03-24 (CET, +1) and Tuesday 2026-03-31 (CEST, +2): 09:00 local moves by an hour
    // in UTC.
    CHECK_FALSE(office->active_at(berlin.local_time(at("2026-03-24T07:59:00Z"))));
    CHECK(office->active_at(berlin.local_time(at("2026-03-24T08:00:00Z"))));
    CHECK(office->active_at(berlin.local_time(at("2026-03-31T07:00:00Z"))));
    CHECK_FALSE(office->active_at(berlin.local_time(at("2026-03-31T09:00:00Z"))));
    CHECK_FALSE(office->active_at(berlin.local_time(at("2026-03-30T08:00:00Z"))));  // Monday

    const auto night = parse_schedule({"fri", "22:00", "06:00"});
    REQUIRE(night);
    const TimeZone utc;
    CHECK(night->active_at(utc.local_time(at("2026-03-27T22:00:00Z"))));  // Friday night
    CHECK(night->active_at(utc.local_time(at("2026-03-28T05:59:00Z"))));  // Saturday morning
    CHECK_FALSE(night->active_at(utc.local_time(at("2026-03-28T06:00:00Z"))));
    CHECK_FALSE(night->active_at(utc.local_time(at("2026-03-28T22:00:00Z"))));  // Saturday night
    CHECK_FALSE(night->active_at(utc.local_time(at("2026-03-27T05:00:00Z"))));  // Friday morning

    const auto weekend = parse_schedule({"sat-mon", "00:00", "24:00"});
    REQUIRE(weekend);
    CHECK(describe_schedule(*weekend) == "mon,sat,sun 00:00-24:00");

    CHECK(parse_schedule({"tus", "09:00", "11:00"}).error().find("unknown day 'tus'") !=
          std::string::npos);
    CHECK_FALSE(parse_schedule({"mon", "09:00", "09:00"}));
    CHECK_FALSE(parse_schedule({"mon", "25:00", "09:00"}));
}
