// Schedules on the plant's local time: weekdays, windows crossing midnight, daylight saving time.

#include "rules/schedule.hpp"

#include <doctest/doctest.h>

#include <string>

#include "daemon/core/time.hpp"
#include "daemon/core/time_zone.hpp"

using namespace fw::rules;
using fw::TimeZone;

namespace {

std::int64_t at(const char* iso) {
    const auto ms = fw::parse_iso_time(iso);
    REQUIRE(ms);
    return *ms;
}

}  // namespace

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
