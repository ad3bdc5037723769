#include "drivers/mqtt/topic.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using fw::mqtt::check_topic_filter;
using fw::mqtt::NameTemplate;
using fw::mqtt::topic_matches;

TEST_CASE("topic filters match as brokers match them") {
    CHECK(topic_matches("plant/+/+/vibration", "plant/stamping/press-4/vibration"));
    CHECK_FALSE(topic_matches("plant/+/+/vibration", "plant/stamping/vibration"));
    CHECK_FALSE(topic_matches("plant/+/+/vibration", "plant/stamping/press-4/vibration/x"));
    CHECK(topic_matches("plant/#", "plant/stamping/press-4"));
    CHECK(topic_matches("plant/#", "plant"));  // '#' also matches the parent level
    CHECK(topic_matches("#", "anything/at/all"));
    CHECK_FALSE(topic_matches("#", "$SYS/broker/uptime"));
    CHECK_FALSE(topic_matches("+/broker/uptime", "$SYS/broker/uptime"));
    CHECK(topic_matches("$SYS/#", "$SYS/broker/uptime"));
    CHECK(topic_matches("a//c", "a//c"));
    CHECK(topic_matches("a/+/c", "a//c"));
    CHECK_FALSE(topic_matches("a/b", "a/B"));
}

TEST_CASE("malformed topic filters are explained") {
    CHECK(check_topic_filter("plant/+/vibration").ok());
    CHECK(check_topic_filter("#").ok());
    CHECK(check_topic_filter("plant/#/x").error().find("last level") != std::string::npos);
    CHECK(check_topic_filter("plant/press#").error().find("whole level") != std::string::npos);
    CHECK(check_topic_filter("plant/press+").error().find("whole level") != std::string::npos);
    CHECK_FALSE(check_topic_filter("").ok());
}

TEST_CASE("name templates: topic levels, payload fields and literals") {
    const auto channel = NameTemplate::parse("{2}.vibration");
    REQUIRE(channel.parts().size() == 2);
    CHECK(channel.max_topic_level() == 2);
    CHECK_FALSE(channel.uses_payload());
    CHECK_FALSE(channel.is_literal());

    const auto mixed = NameTemplate::parse("line{1}:{data.cell}");
    CHECK(mixed.uses_payload());
    CHECK(mixed.max_topic_level() == 1);

    CHECK(NameTemplate::parse("material_arrival").is_literal());
    CHECK(NameTemplate::parse("").empty());

    CHECK_THROWS_AS(NameTemplate::parse("{2"), std::invalid_argument);
    CHECK_THROWS_AS(NameTemplate::parse("2}"), std::invalid_argument);
    CHECK_THROWS_AS(NameTemplate::parse("{}"), std::invalid_argument);
    CHECK_THROWS_AS(NameTemplate::parse("{a..b}"), std::invalid_argument);
}
