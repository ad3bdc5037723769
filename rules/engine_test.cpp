// Engine behaviour that scenario folders cannot show well: versions, templates, clock jumps,
// snapshots across a reboot, operator refusals, config errors.
#include "rules/engine.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "daemon/alarms/engine_setup.hpp"
#include "daemon/config/config.hpp"

using namespace fw::rules;

namespace {

const std::string kHeader = R"(
gateway: {site: test, node: gw-1, timezone: Europe/Berlin}
equipment:
  - {id: press-1, area: stamping}
  - {id: pump-1, area: cooling}
modbus:
  buses:
    - name: line1
      tcp: {host: 127.0.0.1, port: 1502}
      devices:
        - name: sensors
          unit_id: 1
          points:
            - {channel: press1.vibration, equipment: press-1, table: input_register, address: 0, type: float32}
            - {channel: press1.running, equipment: press-1, table: coil, address: 0}
            - {channel: pump1.bearing_temp, equipment: pump-1, table: input_register, address: 4, type: float32}
)";

fw::Config config_with(const std::string& rules) {
    return fw::parse_config(kHeader + rules, "test.yaml");
}

constexpr std::int64_t kWall0 = 1'774'000'000'000;  // 2026-03-20, a Friday

TimePoint at(std::int64_t mono_ms, std::int64_t wall_offset_ms = 0) {
    return {mono_ms, kWall0 + mono_ms + wall_offset_ms};
}

fw::Sample good(const char* channel, double value) {
    return {channel, 0, value, fw::Quality::good};
}

const std::string kDelayedRule = R"(
rules:
  - id: vib
    kind: threshold
    channel: press1.vibration
    limits: [{above: 4.5, severity: alarm}]
    on_delay: 60s
)";

std::vector<std::string> actions(const std::vector<AlarmEvent>& events) {
    std::vector<std::string> names;
    names.reserve(events.size());
    for (const auto& event : events) {
        names.push_back(std::string(alarm_action_name(event.action)) + ":" +
                        std::string(alarm_state_name(event.to)));
    }
    return names;
}

}  // namespace

TEST_CASE("templates expand per equipment and give way key by key") {
    const auto config = config_with(R"(
rules:
  - id: pump1-bearing
    template: bearing-temperature
    channel: pump1.bearing_temp
    on_delay: 5s
    hazard: {title: Pump 1 bearing hot}
  - id: press1-vib
    template: iso10816-3-group2-rigid
    channel: press1.vibration
    limits: [{above: 3.0, severity: warning}]
)");
    const Engine engine(fw::alarms::engine_setup(config), at(0));
    const RuleInfo* level = engine.find_rule("pump1-bearing.temperature");
    const RuleInfo* rise = engine.find_rule("pump1-bearing.rise");
    REQUIRE(level != nullptr);
    REQUIRE(rise != nullptr);
    CHECK(level->config.limits.size() == 2);
    CHECK(level->config.limits[0].above == 85.0);
    CHECK(level->config.limits[1].above == 95.0);
    CHECK(level->config.on_delay.count() == 5000);
    CHECK(level->config.equipment == "pump-1");
    REQUIRE(level->config.hazard);
    CHECK(level->config.hazard->type == "overheating");  // kept from the template
    CHECK(level->config.hazard->title == "Pump 1 bearing hot");
    CHECK(rise->config.rise == 10.0);
    CHECK(rise->config.window.count() == 30LL * 60 * 1000);
    const RuleInfo* vibration = engine.find_rule("press1-vib");
    REQUIRE(vibration != nullptr);
    REQUIRE(vibration->config.limits.size() == 1);
    CHECK(vibration->config.limits[0].above == 3.0);
    CHECK(vibration->config.deadband == doctest::Approx(0.2));
}

TEST_CASE("a rule's version changes with its definition and only then") {
    const auto version_of = [](const std::string& rules) {
        const Engine engine(fw::alarms::engine_setup(config_with(rules)), at(0));
        return engine.find_rule("vib")->version;
    };
    const std::string base = version_of(kDelayedRule);
    CHECK(base.size() == 16);
    CHECK(version_of(kDelayedRule) == base);
    std::string changed = kDelayedRule;
    changed.replace(changed.find("60s"), 3, "61s");
    CHECK(version_of(changed) != base);
}

TEST_CASE("a wall-clock jump neither fires nor cancels an on-delay") {
    Engine engine(fw::alarms::engine_setup(config_with(kDelayedRule)), at(0));
    std::vector<AlarmEvent> out;
    engine.on_sample(good("press1.vibration", 5.0), at(0), out);
    // The wall clock jumps two hours ahead (an NTP step), then back; only 30 s of monotonic time.
    engine.on_tick(at(30'000, 2LL * 3600 * 1000), out);
    CHECK(out.empty());
    engine.on_sample(good("press1.vibration", 5.0), at(45'000, -3600LL * 1000), out);
    CHECK(out.empty());
    engine.on_tick(at(60'000, -3600LL * 1000), out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].action == AlarmAction::activate);
    CHECK(out[0].value == 5.0);
    CHECK(out[0].time.mono_ms == 60'000);
}

TEST_CASE("a snapshot restored after a reboot ages delays by the wall time that passed") {
    std::string snapshot;
    {
        Engine engine(fw::alarms::engine_setup(config_with(kDelayedRule)), at(1'000'000));
        std::vector<AlarmEvent> out;
        engine.on_sample(good("press1.vibration", 5.0), at(1'000'000), out);
        engine.on_tick(at(1'030'000), out);
        CHECK(out.empty());
        snapshot = engine.snapshot(at(1'030'000));
    }
    // After the reboot the monotonic clock starts near 0; 10 s of wall time went by.
    const TimePoint boot{500, kWall0 + 1'040'000};
    Engine engine(fw::alarms::engine_setup(config_with(kDelayedRule)), boot);
    engine.restore(snapshot, boot);
    std::vector<AlarmEvent> out;
    engine.on_sample(good("press1.vibration", 5.0), {10'000, kWall0 + 1'049'500}, out);
    CHECK(out.empty());  // 30 + 10 + 9.5 s < 60 s
    engine.on_tick({20'500, kWall0 + 1'060'000}, out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].action == AlarmAction::activate);

    CHECK_THROWS_AS(engine.restore("{\"format\": \"something else\", \"version\": 1}", boot),
                    RulesError);
    CHECK_THROWS_AS(engine.restore("not json", boot), RulesError);
}

TEST_CASE("a changed rule keeps its alarm's operator state but restarts its evaluation") {
    std::string snapshot;
    {
        Engine engine(fw::alarms::engine_setup(config_with(kDelayedRule)), at(0));
        std::vector<AlarmEvent> out;
        REQUIRE(
            engine.remove_from_service("vib", "press-1", "alice", "sensor swap", at(0), out).ok());
        snapshot = engine.snapshot(at(1000));
    }
    std::string changed = kDelayedRule;
    changed.replace(changed.find("4.5"), 3, "5.5");
    Engine engine(fw::alarms::engine_setup(config_with(changed)), at(2000));
    engine.restore(snapshot, at(2000));
    const auto alarms = engine.alarms();
    REQUIRE(alarms.size() == 1);
    CHECK(alarms[0].state == AlarmState::out_of_service);
    CHECK(alarms[0].reason == "sensor swap");
}

TEST_CASE("a bad reading never clears an alarm and never counts as a value") {
    Engine engine(fw::alarms::engine_setup(config_with(R"(
rules:
  - id: vib
    kind: threshold
    channel: press1.vibration
    limits: [{above: 4.5, severity: alarm}]
)")),
                  at(0));
    std::vector<AlarmEvent> out;
    engine.on_sample(good("press1.vibration", 6.0), at(0), out);
    REQUIRE(actions(out) == std::vector<std::string>{"activate:unack_active"});
    out.clear();
    engine.on_sample({"press1.vibration", 0, std::nan(""), fw::Quality::timeout}, at(1000), out);
    engine.on_tick(at(60'000), out);
    CHECK(out.empty());
    CHECK(engine.counters().samples_bad_quality == 1);
    engine.on_sample(good("press1.vibration", 1.0), at(61'000), out);
    CHECK(actions(out) == std::vector<std::string>{"clear:rtn_unack"});
}

TEST_CASE("operator commands are refused with a reason, never half-done") {
    Engine engine(fw::alarms::engine_setup(config_with(kDelayedRule)), at(0));
    std::vector<AlarmEvent> out;
    auto result = engine.acknowledge("vib", "press-1", "alice", at(0), out);
    CHECK_FALSE(result.ok());
    CHECK(result.error().find("nothing to acknowledge") != std::string::npos);
    result = engine.acknowledge("nope", "press-1", "alice", at(0), out);
    CHECK_FALSE(result.ok());
    CHECK(result.error() == "no alarm for rule 'nope' on equipment 'press-1'");
    CHECK_FALSE(engine.shelve("vib", "press-1", "alice", 60'000, "", at(0), out).ok());
    CHECK_FALSE(engine.shelve("vib", "press-1", "alice", 0, "noise", at(0), out).ok());
    CHECK(out.empty());
    REQUIRE(engine.shelve("vib", "press-1", "alice", 60'000, "noise", at(0), out).ok());
    REQUIRE(out.size() == 1);
    CHECK(out[0].to == AlarmState::shelved);
    CHECK(out[0].shelved_until_wall_ms == kWall0 + 60'000);
    CHECK(engine.alarms()[0].shelved_by == "alice");
}

TEST_CASE("the config loader reports rule problems at their place in the file") {
    const auto issues_of = [](const std::string& rules) {
        try {
            config_with(rules);
        } catch (const fw::ConfigError& error) {
            return std::string(error.what());
        }
        return std::string();
    };
    CHECK(issues_of(R"(
rules:
  - id: vib
    kind: threshold
    channel: press9.vibration
    limits: [{above: 4.5}]
)")
              .find("rules[0].channel: unknown channel 'press9.vibration'") != std::string::npos);
    CHECK(
        issues_of(R"(
rules:
  - id: vib
    template: iso10816-3-group2-rigid
    channel: press1.vibration
    rise: 3
)")
            .find(
                "rules[0].rise: template 'iso10816-3-group2-rigid' has no rule that uses 'rise'") !=
        std::string::npos);
    CHECK(issues_of(R"(
rules:
  - id: vib
    template: iso10816-3-group9
    channel: press1.vibration
)")
              .find("unknown template 'iso10816-3-group9' (known: ") != std::string::npos);
    CHECK(issues_of(R"(
rules:
  - id: vib
    kind: threshold
    channel: press1.vibration
    limits: [{above: 4.5}]
    schedule: {days: tus-thu}
)")
              .find("rules[0].schedule.days: unknown day 'tus'") != std::string::npos);
    CHECK(issues_of(R"(
rules:
  - id: watch
    kind: compound
    equipment: press-1
    window: 1h
    conditions: [{rule: bearing}]
)")
              .find("rules[0].conditions[0].rule: unknown rule 'bearing'") != std::string::npos);
    CHECK(issues_of(R"(
rules:
  - id: a
    kind: health
    channel: press1.vibration
    stale_after: 10s
  - id: a
    kind: health
    channel: press1.vibration
    stale_after: 10s
)")
              .find("rules[1].id: duplicate rule id 'a'") != std::string::npos);
    const std::string zone = issues_of("rules: []\n");
    CHECK(zone.empty());
    const std::string bad_zone = [] {
        try {
            fw::parse_config("gateway: {site: a, node: b, timezone: Mars/Olympus}\n", "t.yaml");
        } catch (const fw::ConfigError& error) {
            return std::string(error.what());
        }
        return std::string();
    }();
    CHECK(bad_zone.find("t.yaml:1:") != std::string::npos);
    CHECK(bad_zone.find("gateway.timezone: time zone 'Mars/Olympus'") != std::string::npos);
}
