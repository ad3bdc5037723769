// The one ISO 8601 formatter and parser: every form the MQTT decoder, the CLI's --since/--until and
// the rule scenario files accepted before they shared it, and what stays refused.

#include "daemon/core/time.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

using fw::format_iso_date;
using fw::format_iso_time;
using fw::IsoFraction;
using fw::IsoZone;
using fw::parse_iso_time;

namespace {

constexpr std::int64_t k0800Ms = 1795939200000;  // 2026-11-29T08:00:00Z

}  // namespace

TEST_CASE("formatting: seconds, milliseconds when there are any or always, dates") {
    CHECK(format_iso_time(0) == "1970-01-01T00:00:00Z");
    CHECK(format_iso_time(k0800Ms) == "2026-11-29T08:00:00Z");
    CHECK(format_iso_time(k0800Ms + 250) == "2026-11-29T08:00:00.250Z");
    CHECK(format_iso_time(k0800Ms, IsoFraction::milliseconds) == "2026-11-29T08:00:00.000Z");
    CHECK(format_iso_time(k0800Ms + 7, IsoFraction::milliseconds) == "2026-11-29T08:00:00.007Z");
    CHECK(format_iso_time(-1) == "1969-12-31T23:59:59.999Z");
    CHECK(format_iso_date(k0800Ms + 16LL * 3600 * 1000 - 1) == "2026-11-29");
    CHECK(format_iso_date(k0800Ms + 16LL * 3600 * 1000) == "2026-11-30");
    CHECK(format_iso_date(-1) == "1969-12-31");
}

TEST_CASE("parsing reads back what formatting writes") {
    for (const std::int64_t ms : {std::int64_t{0}, std::int64_t{-1}, k0800Ms, k0800Ms + 999,
                                  std::int64_t{951782400000} /* 2000-02-29 */}) {
        CHECK(parse_iso_time(format_iso_time(ms)) == ms);
        CHECK(parse_iso_time(format_iso_time(ms, IsoFraction::milliseconds)) == ms);
    }
}

TEST_CASE("complete times: separators, zones and fractions") {
    CHECK(parse_iso_time("2026-11-29T08:00:00Z") == k0800Ms);
    CHECK(parse_iso_time("2026-11-29t08:00:00z") == k0800Ms);
    CHECK(parse_iso_time("2026-11-29 08:00:00Z") == k0800Ms);
    CHECK(parse_iso_time("2026-11-29T09:30:00+01:30") == k0800Ms);
    CHECK(parse_iso_time("2026-11-29T09:30:00+0130") == k0800Ms);
    CHECK(parse_iso_time("2026-11-29T06:00:00-02:00") == k0800Ms);
    CHECK(parse_iso_time("2026-11-29T06:00:00-0200") == k0800Ms);
    CHECK(parse_iso_time("2026-11-29T08:00:00+00:00") == k0800Ms);
    CHECK(parse_iso_time("2026-11-29T08:00:00.5Z") == k0800Ms + 500);
    CHECK(parse_iso_time("2026-11-29T08:00:00,25Z") == k0800Ms + 250);
    CHECK(parse_iso_time("2026-11-29T08:00:00.250Z") == k0800Ms + 250);
    CHECK(parse_iso_time("2026-11-29T08:00:00.123456Z") == k0800Ms + 123);
    CHECK(parse_iso_time("2026-11-29 08:00:00.5z") == k0800Ms + 500);
    CHECK(parse_iso_time("2026-03-29T03:00:00+02:00") == parse_iso_time("2026-03-29T01:00:00Z"));
    // Dates: leap days, the ends of months and years, before 1970.
    CHECK(parse_iso_time("2024-02-29T00:00:00Z") == 1709164800000);
    CHECK(parse_iso_time("2000-02-29T00:00:00Z") == 951782400000);
    CHECK(parse_iso_time("1969-12-31T23:59:59Z") == -1000);
    CHECK(parse_iso_time("1970-01-01T00:00:00Z") == 0);
    // A leap second reads as the second after it.
    CHECK(parse_iso_time("2016-12-31T23:59:60Z") == parse_iso_time("2017-01-01T00:00:00Z"));
}

TEST_CASE("complete times refuse a missing zone or seconds, bad fields and trailing text") {
    for (const char* text : {
             "2026-11-29T08:00:00",        // no zone: the time would be a guess
             "2026-11-29T08:00Z",          // no seconds
             "2026-11-29T08:00",           //
             "2026-11-29",                 // a date alone
             "2026-13-01T00:00:00Z",       // month 13
             "2026-00-10T00:00:00Z",       // month 0
             "2026-02-29T00:00:00Z",       // not a leap year
             "2026-02-30T00:00:00Z",       // no such day
             "2026-04-31T00:00:00Z",       //
             "2026-11-00T00:00:00Z",       // day 0
             "2026-11-29T24:00:00Z",       // hour 24
             "2026-11-29T08:60:00Z",       // minute 60
             "2026-11-29T08:00:61Z",       // second 61
             "2026-11-29T08:00:00Zjunk",   // trailing text
             "2026-11-29T08:00:00.Z",      // a decimal sign without digits
             "2026-11-29T08:00:00+24:00",  // offset beyond 23:59
             "2026-11-29T08:00:00+01:60",  //
             "2026-11-29T08:00:00+1",      // offset too short
             "2026-11-29T08:00:00+01:",    //
             "2026-11-29T08:00:00 Z",      // a space before the zone
             "2026-11-29X08:00:00Z",       // wrong separator
             "2026/11/29T08:00:00Z",       //
             "2026-1-29T08:00:00Z",        // ISO 8601 fields have fixed widths
             "2026-11-29T8:00:00Z",        //
             "26-11-29T08:00:00Z",         //
             " 2026-11-29T08:00:00Z",      // surrounding space
             "2026-11-29T08:00:00Z ",      //
             "yesterday",                  //
             "",                           //
         }) {
        CAPTURE(text);
        CHECK_FALSE(parse_iso_time(text).has_value());
    }
}

TEST_CASE("what people type: the zone and the seconds may be left out, UTC is meant") {
    CHECK(parse_iso_time("2026-11-29T08:00:00Z", IsoZone::utc_if_absent) == k0800Ms);
    CHECK(parse_iso_time("2026-11-29T08:00:00", IsoZone::utc_if_absent) == k0800Ms);
    CHECK(parse_iso_time("2026-11-29T08:00Z", IsoZone::utc_if_absent) == k0800Ms);
    CHECK(parse_iso_time("2026-11-29T08:00", IsoZone::utc_if_absent) == k0800Ms);
    CHECK(parse_iso_time("2026-11-29T08:01:30", IsoZone::utc_if_absent) == k0800Ms + 90000);
    CHECK(parse_iso_time("2026-11-29 09:00+01:00", IsoZone::utc_if_absent) == k0800Ms);
    CHECK(parse_iso_time("2026-11-29T08:00:00.5", IsoZone::utc_if_absent) == k0800Ms + 500);
    for (const char* text : {"2026-11-29", "2026-11-29T08",
                             "2026-11-29T08:", "2026-11-29T08:00:", "2026-11-29T08:00.5",
                             "2026-02-30T08:00", "2026-11-29T08:00junk", "10m"}) {
        CAPTURE(text);
        CHECK_FALSE(parse_iso_time(text, IsoZone::utc_if_absent).has_value());
    }
}

TEST_CASE("the wall clock is Unix milliseconds") {
    const std::int64_t now = fw::wall_now_ms();
    CHECK(now > *parse_iso_time("2024-01-01T00:00:00Z"));
    CHECK(now < *parse_iso_time("2200-01-01T00:00:00Z"));
}
