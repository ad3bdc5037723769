// The decoder against the golden cases in testcases/decoding/cases.yaml, plus the parsers it uses.

#include "drivers/mqtt/decoder.hpp"

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <string>

namespace {

using fw::mqtt::InputDecoder;

constexpr std::int64_t kReceiveMs = 1795939200000;  // 2026-11-29T08:00:00Z

std::string text_of(const YAML::Node& node, const char* key) {
    return node[key] ? node[key].as<std::string>() : std::string();
}

fw::mqtt::InputConfig input_from(const YAML::Node& node) {
    fw::mqtt::InputConfig input;
    input.name = "test";
    input.topic = text_of(node, "topic");
    input.kind =
        text_of(node, "kind") == "event" ? fw::mqtt::InputKind::event : fw::mqtt::InputKind::value;
    input.channel = text_of(node, "channel");
    input.value_field = text_of(node, "value_field");
    input.time_field = text_of(node, "time_field");
    input.unit = text_of(node, "unit");
    input.equipment = text_of(node, "equipment");
    input.area = text_of(node, "area");
    input.event = text_of(node, "event");
    if (node["scale"]) input.scale = node["scale"].as<double>();
    if (node["offset"]) input.offset = node["offset"].as<double>();
    for (const auto& attribute : node["attributes"]) {
        input.attributes.push_back({text_of(attribute, "field"), text_of(attribute, "as")});
    }
    return input;
}

std::string from_hex(const std::string& hex) {
    std::string bytes;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    }
    return bytes;
}

std::optional<std::string> area_of(const std::string& equipment) {
    static const std::map<std::string, std::string> kAreas{{"press-4", "stamping"},
                                                           {"dock-2", "logistics"}};
    const auto it = kAreas.find(equipment);
    if (it == kAreas.end()) return std::nullopt;
    return it->second;
}

}  // namespace

TEST_CASE("decoder: golden cases") {
    const char* source_dir = std::getenv("FW_SOURCE_DIR");
    REQUIRE_MESSAGE(source_dir != nullptr, "FW_SOURCE_DIR is not set; run the test through ctest");
    const YAML::Node cases =
        YAML::LoadFile(std::string(source_dir) + "/drivers/mqtt/testcases/decoding/cases.yaml");
    REQUIRE(cases.size() > 20);
    for (const auto& test : cases) {
        const std::string name = test["name"].as<std::string>();
        CAPTURE(name);
        fw::mqtt::DecoderLimits limits;
        limits.max_payload = test["max_payload"] ? test["max_payload"].as<std::uint64_t>() : 256;
        const InputDecoder decoder(input_from(test["input"]), limits, "mqtt:plant/test", &area_of);
        const std::string payload = test["payload_hex"]
                                        ? from_hex(test["payload_hex"].as<std::string>())
                                        : test["payload"].as<std::string>();
        const auto decoded = decoder.decode(test["topic"].as<std::string>(), payload, kReceiveMs);
        const YAML::Node expect = test["expect"];

        if (expect["reject"]) {
            const auto* rejection = std::get_if<fw::mqtt::Rejection>(&decoded);
            REQUIRE_MESSAGE(rejection != nullptr, "expected a rejection");
            CHECK(fw::mqtt::reject_reason_name(rejection->reason) ==
                  expect["reject"].as<std::string>());
            CHECK_FALSE(rejection->detail.empty());
            continue;
        }
        if (const auto* rejection = std::get_if<fw::mqtt::Rejection>(&decoded)) {
            FAIL("unexpected rejection " << fw::mqtt::reject_reason_name(rejection->reason) << ": "
                                         << rejection->detail);
            continue;
        }
        if (expect["event"]) {
            const auto* event = std::get_if<fw::PlantEvent>(&decoded);
            REQUIRE_MESSAGE(event != nullptr, "expected an event");
            CHECK(event->name == expect["event"].as<std::string>());
            CHECK(event->equipment == text_of(expect, "equipment"));
            CHECK(event->area == text_of(expect, "area"));
            CHECK(event->attributes == expect["attributes"].as<std::string>());
            CHECK(event->source == "mqtt:plant/test");
            if (expect["time_ms"]) CHECK(event->time_ms == expect["time_ms"].as<std::int64_t>());
            continue;
        }
        const auto* value = std::get_if<fw::mqtt::DecodedValue>(&decoded);
        REQUIRE_MESSAGE(value != nullptr, "expected a sample");
        CHECK(value->sample.channel == expect["channel"].as<std::string>());
        CHECK(value->sample.value == doctest::Approx(expect["value"].as<double>()));
        CHECK(value->sample.quality == fw::Quality::good);
        CHECK(value->sample.time_ms ==
              (expect["time_ms"] ? expect["time_ms"].as<std::int64_t>() : kReceiveMs));
        CHECK(value->channel.name == value->sample.channel);
        CHECK(value->channel.equipment == text_of(expect, "equipment"));
        CHECK(value->channel.area == text_of(expect, "area"));
        CHECK(value->channel.unit == text_of(expect, "unit"));
        CHECK(value->channel.source == "mqtt:plant/test");
    }
}

TEST_CASE("UTF-8 validation") {
    CHECK(fw::mqtt::is_valid_utf8("plain ascii"));
    CHECK(
        fw::mqtt::is_valid_utf8("Temperatur 65 \xc2\xb0"
                                "C, \xe2\x82\xac, \xf0\x9f\x94\xa5"));
    CHECK_FALSE(fw::mqtt::is_valid_utf8("\xc3"));              // truncated
    CHECK_FALSE(fw::mqtt::is_valid_utf8("\xed\xa0\x80"));      // UTF-16 surrogate
    CHECK_FALSE(fw::mqtt::is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
    CHECK_FALSE(fw::mqtt::is_valid_utf8("\xe0\x80\xaf"));      // overlong
}

TEST_CASE("every reject reason has a distinct name") {
    std::map<std::string, int> names;
    for (std::size_t i = 0; i < fw::mqtt::kRejectReasonCount; ++i) {
        ++names[std::string(fw::mqtt::reject_reason_name(static_cast<fw::mqtt::RejectReason>(i)))];
    }
    CHECK(names.size() == fw::mqtt::kRejectReasonCount);
}
