// Profiles, fault commands and config validation of floorwatch-sim, without I/O.

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/sim/profile.hpp"
#include "tests/sim/sim_config.hpp"
#include "tests/sim/simulator.hpp"

using namespace fw::sim;

namespace {

std::vector<std::string> config_errors(const std::string& text) {
    try {
        parse_sim_config(text, "sim.yaml");
    } catch (const SimConfigError& error) {
        return error.lines();
    }
    return {};
}

bool contains(const std::vector<std::string>& lines, const std::string& needle) {
    for (const auto& line : lines) {
        if (line.find(needle) != std::string::npos) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("profiles follow their shape over profile time") {
    Profile ramp;
    ramp.kind = Profile::Kind::ramp;
    ramp.from = 40.0;
    ramp.to = 96.0;
    ramp.duration_seconds = 600.0;
    CHECK(profile_value(ramp, 0.0, 1, 0) == doctest::Approx(40.0));
    CHECK(profile_value(ramp, 300.0, 1, 0) == doctest::Approx(68.0));
    CHECK(profile_value(ramp, 5000.0, 1, 0) == doctest::Approx(96.0));

    Profile step;
    step.kind = Profile::Kind::step;
    step.before = 1.2;
    step.after = 5.0;
    step.at_seconds = 30.0;
    CHECK(profile_value(step, 29.9, 1, 0) == doctest::Approx(1.2));
    CHECK(profile_value(step, 30.0, 1, 0) == doctest::Approx(5.0));

    Profile sine;
    sine.kind = Profile::Kind::sine;
    sine.mean = 2.0;
    sine.amplitude = 0.5;
    sine.period_seconds = 60.0;
    CHECK(profile_value(sine, 15.0, 1, 0) == doctest::Approx(2.5));
    CHECK(profile_value(sine, 45.0, 1, 0) == doctest::Approx(1.5));
}

TEST_CASE("a sequence holds, ramps and repeats") {
    Profile sequence;
    sequence.kind = Profile::Kind::sequence;
    sequence.steps = {{1.0, 1.0, 30.0}, {1.0, 3.0, 60.0}};
    CHECK(profile_value(sequence, 10.0, 1, 0) == doctest::Approx(1.0));
    CHECK(profile_value(sequence, 60.0, 1, 0) == doctest::Approx(2.0));
    CHECK(profile_value(sequence, 100.0, 1, 0) == doctest::Approx(3.0));  // held after the end
    sequence.repeat = true;
    CHECK(profile_value(sequence, 100.0, 1, 0) == doctest::Approx(1.0));  // 10 s into round two
    CHECK(profile_value(sequence, 150.0, 1, 0) == doctest::Approx(2.0));
}

TEST_CASE("noise is repeatable for a seed and differs between seeds and streams") {
    Profile noisy;
    noisy.kind = Profile::Kind::constant;
    noisy.value = 10.0;
    noisy.noise = 0.5;
    const double first = profile_value(noisy, 12.34, 7, 3);
    CHECK(profile_value(noisy, 12.34, 7, 3) == first);
    CHECK(first != 10.0);
    CHECK(profile_value(noisy, 12.34, 8, 3) != first);
    CHECK(profile_value(noisy, 12.34, 7, 4) != first);
    double sum = 0.0;
    for (int i = 0; i < 2000; ++i) sum += profile_value(noisy, i * 0.1, 7, 3);
    CHECK(sum / 2000.0 == doctest::Approx(10.0).epsilon(0.01));
}

TEST_CASE("fault commands parse into actions or explain what is wrong") {
    const auto parse = [](const std::string& line) { return parse_fault(split_words(line)); };
    CHECK(std::get<DeviceFault>(*parse("no_reply").action).kind == DeviceFault::Kind::no_reply);
    const auto delay = std::get<DeviceFault>(*parse("delay 800ms").action);
    CHECK(delay.kind == DeviceFault::Kind::delay);
    CHECK(delay.delay == Millis(800));
    CHECK(describe(delay) == "delay 800ms");
    CHECK(std::get<DeviceFault>(*parse("exception 2").action).exception_code == 2);
    CHECK(std::holds_alternative<DisconnectClients>(*parse("disconnect").action));
    const auto pin = std::get<PinValue>(*parse("value holding_register 12 4.5").action);
    CHECK(pin.table == fw::modbus::Table::holding_register);
    CHECK(pin.address == 12);
    CHECK(pin.value == 4.5);
    CHECK_FALSE(std::get<PinValue>(*parse("value coil 3 profile").action).value);

    CHECK(parse("exception 12").error.find("1 to 11") != std::string::npos);
    CHECK(parse("delay soon").error.find("not a positive duration") != std::string::npos);
    CHECK(parse("value register 1 2").error.find("unknown table") != std::string::npos);
    CHECK(parse("explode").error.find("unknown fault 'explode'") != std::string::npos);
}

TEST_CASE("a valid config loads with defaults") {
    const auto config = parse_sim_config(R"(tcp: {port: 0}
seed: 42
devices:
  - name: press-1
    unit_id: 3
    fault: delay 250ms
    values:
      - {table: coil, address: 0, profile: {kind: constant, value: 1}}
      - table: input_register
        address: 10
        type: int16
        scale: 0.1
        profile: {kind: sequence, repeat: true, steps: [{value: 1, for: 30s}, {from: 1, to: 3, for: 1m}]}
)",
                                         "sim.yaml");
    REQUIRE(config.tcp);
    CHECK(config.tcp->host == "127.0.0.1");
    CHECK(config.tcp->port == 0);
    CHECK(config.seed == 42);
    REQUIRE(config.devices.size() == 1);
    const auto& device = config.devices[0];
    CHECK(device.fault.kind == DeviceFault::Kind::delay);
    CHECK(device.values[0].type == fw::modbus::ValueType::boolean);
    CHECK(device.values[1].scale == doctest::Approx(0.1));
    CHECK(device.values[1].profile.steps.size() == 2);
    CHECK(device.values[1].profile.steps[1].seconds == doctest::Approx(60.0));
    CHECK(device.values[1].profile.repeat);
}

TEST_CASE("config errors name file, line, column and path, all at once") {
    const auto errors = config_errors(R"(tcp: {port: 0}
devices:
  - name: press-1
    unit_id: 1
    colour: blue
    values:
      - {table: input_register, address: 0, type: flaot32, profile: {kind: constant, value: 1}}
      - {table: input_register, address: 2, type: float32, profile: {kind: wobble}}
)");
    REQUIRE(errors.size() == 3);
    CHECK(contains(errors, "sim.yaml:5:5: devices[0].colour: unknown key 'colour'"));
    CHECK(contains(errors, "sim.yaml:7:51: devices[0].values[0].type: unknown type 'flaot32'"));
    CHECK(contains(errors, "devices[0].values[1].profile.kind: unknown profile kind 'wobble'"));
}

TEST_CASE("config refuses overlaps, duplicates and missing transports") {
    CHECK(contains(config_errors(R"(tcp: {port: 0}
devices:
  - name: a
    unit_id: 1
    values:
      - {table: holding_register, address: 0, type: float64, profile: {kind: constant, value: 1}}
      - {table: holding_register, address: 3, type: int16, profile: {kind: constant, value: 1}}
)"),
                   "overlaps values[0]"));
    CHECK(contains(config_errors(R"(tcp: {port: 0}
devices:
  - {name: a, unit_id: 1}
  - {name: a, unit_id: 1}
)"),
                   "unit id 1 is used twice"));
    CHECK(contains(config_errors("devices: [{name: a, unit_id: 1}]\n"),
                   "give exactly one transport"));
    CHECK(contains(config_errors("tcp: {port: 0}\ndevices: [{name: a, unit_id: 1, fault: "
                                 "disconnect}]\n"),
                   "run-time commands"));
    CHECK(contains(config_errors("tcp: {port: 0\n"), "sim.yaml:2:1: not valid YAML"));
}

TEST_CASE("the RTU CRC matches the Modbus specification's example") {
    // Read 1 holding register at 0x0000 from unit 1: 01 03 00 00 00 01 -> CRC 84 0A (low first).
    const std::uint8_t frame[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x01};
    CHECK(modbus_crc16(frame, sizeof(frame)) == 0x0A84);
}

TEST_CASE("the example configs load, and press-2 drifts through zones B, C, D and back") {
    const char* source_dir = std::getenv("FW_SOURCE_DIR");
    REQUIRE_MESSAGE(source_dir != nullptr, "run through ctest (FW_SOURCE_DIR)");
    const std::filesystem::path examples = std::filesystem::path(source_dir) / "tests/sim/examples";
    int loaded = 0;
    for (const auto& entry : std::filesystem::directory_iterator(examples)) {
        CAPTURE(entry.path());
        CHECK_NOTHROW(load_sim_config(entry.path().string()));
        ++loaded;
    }
    CHECK(loaded >= 2);

    const auto line = load_sim_config((examples / "stamping-line.yaml").string());
    const auto* press = line.find_device("press-2");
    REQUIRE(press != nullptr);
    auto vibration = press->values.at(0).profile;
    vibration.noise = 0.0;
    const auto zone = [&](double seconds) {
        const double value = profile_value(vibration, seconds, 1, 0);
        return value < 2.8 ? 'B' : value < 4.5 ? 'C' : 'D';
    };
    std::string zones;
    for (double t = 0; t < 2 * 270.0; t += 5.0) {
        if (zones.empty() || zones.back() != zone(t)) zones += zone(t);
    }
    CHECK(zones == "BCDCBCDCB");  // passing through C again on the way down
}
