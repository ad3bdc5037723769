#include "daemon/config/config.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/config/option_table.hpp"
#include "daemon/http/listen_address.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The issues parse_config reports for `text`, one "floorwatch.yaml:L:C: path: message" per line.
std::vector<std::string> issues_of(const std::string& text) {
    try {
        fw::parse_config(text, "floorwatch.yaml");
    } catch (const fw::ConfigError& error) {
        std::vector<std::string> lines;
        for (const auto& issue : error.issues()) lines.push_back(issue.to_string());
        return lines;
    }
    return {};
}

std::string first_issue(const std::string& text) {
    const auto issues = issues_of(text);
    return issues.empty() ? std::string("(no issue)") : issues.front();
}

fs::path source_dir() {
    const char* dir = std::getenv("FW_SOURCE_DIR");
    REQUIRE_MESSAGE(dir != nullptr, "FW_SOURCE_DIR is not set; run the test through ctest");
    return fs::path(dir);
}

std::string read_text(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    REQUIRE_MESSAGE(file.good(), "cannot read " << path);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

const std::string kGateway = "gateway:\n  site: plant-a\n  node: gw-1\n";

// A config with one TCP bus and one device whose first point (a flow map written by the caller)
// starts at line 14, column 15.
std::string with_point(const std::string& point_keys) {
    return kGateway +                             // lines 1-3
           "equipment:\n"                         // 4
           "  - {id: press-1, area: stamping}\n"  // 5
           "modbus:\n"                            // 6
           "  buses:\n"                           // 7
           "    - name: line1\n"                  // 8
           "      tcp: {host: 127.0.0.1}\n"       // 9
           "      devices:\n"                     // 10
           "        - name: dev\n"                // 11
           "          unit_id: 1\n"               // 12
           "          points:\n"                  // 13
           "            - " +                     // 14, point keys at column 15
           point_keys;
}

}  // namespace

TEST_CASE("a full TCP and RTU config is read into the structs") {
    const auto config = fw::load_config(
        (source_dir() / "daemon/config/testcases/valid/full-tcp-rtu.yaml").string());
    CHECK(config.gateway.site == "plant-a");
    CHECK(config.gateway.node == "gw-stamping-1");
    CHECK(config.gateway.log_level == fw::LogLevel::debug);
    CHECK(config.store.path == "/var/lib/floorwatch/stamping.db");
    CHECK(config.store.commit_interval == 100ms);
    CHECK(config.store.queue_capacity == 50000);
    CHECK(config.store.samples.max_age == std::chrono::hours(14 * 24));
    CHECK(config.store.samples.max_size == 2ULL * 1024 * 1024 * 1024);
    CHECK(config.store.samples.prune_interval == 30s);
    REQUIRE(config.equipment.size() == 3);
    CHECK(config.equipment[0].description == "400 t stamping press");
    CHECK(config.find_equipment("compressor-1")->area == "utilities");

    REQUIRE(config.modbus.buses.size() == 2);
    const auto& line1 = config.modbus.buses[0];
    CHECK(line1.name == "line1");
    const auto* tcp = std::get_if<fw::modbus::TcpTransport>(&line1.transport);
    REQUIRE(tcp != nullptr);
    CHECK(tcp->host == "127.0.0.1");
    CHECK(tcp->port == 1502);
    CHECK(line1.max_gap == 8);
    CHECK(line1.reconnect_min == 250ms);
    CHECK(line1.reconnect_max == 1min);
    CHECK(line1.failing_poll_max == 2min);
    REQUIRE(line1.devices.size() == 2);
    const auto& press1 = line1.devices[0];
    CHECK(press1.unit_id == 1);
    CHECK(press1.poll_interval == 500ms);
    CHECK(press1.timeout == 300ms);
    REQUIRE(press1.points.size() == 4);
    CHECK(press1.points[0].type == fw::modbus::ValueType::float32);
    CHECK(press1.points[0].order == fw::modbus::ByteOrder::cdab);
    CHECK(press1.points[0].unit == "mm/s");
    CHECK(press1.points[1].scale == doctest::Approx(0.1));
    CHECK(press1.points[1].offset == doctest::Approx(-40.0));
    CHECK(press1.points[2].table == fw::modbus::Table::discrete_input);
    CHECK(press1.points[2].type == fw::modbus::ValueType::boolean);
    CHECK(press1.points[3].type == fw::modbus::ValueType::uint64);
    CHECK(press1.points[3].order == fw::modbus::ByteOrder::dcba);
    CHECK(line1.devices[1].unit_id == 255);

    const auto& rtu_bus = config.modbus.buses[1];
    const auto* rtu = std::get_if<fw::modbus::RtuTransport>(&rtu_bus.transport);
    REQUIRE(rtu != nullptr);
    CHECK(rtu->device == "/dev/ttyUSB0");
    CHECK(rtu->baud == 9600);
    CHECK(rtu->parity == fw::modbus::Parity::none);
    CHECK(rtu->data_bits == 8);
    CHECK(rtu->stop_bits == 2);
    CHECK(rtu->rs485);
    CHECK(rtu_bus.devices[0].points[0].channel == "compressor1.discharge_temp");
    CHECK(rtu_bus.devices[0].points[0].address == 30001);
    CHECK(config.source_path.ends_with("full-tcp-rtu.yaml"));
}

TEST_CASE("defaults fill every key left out") {
    const auto config = fw::parse_config(with_point("{channel: c1, equipment: press-1, table: "
                                                    "input_register, address: 3}\n"),
                                         "floorwatch.yaml");
    CHECK(config.gateway.log_level == fw::LogLevel::info);
    CHECK(config.store.path == "/var/lib/floorwatch/floorwatch.db");
    CHECK(config.store.commit_interval == 250ms);
    CHECK(config.store.queue_capacity == 200000);
    CHECK(config.store.samples.max_age == std::chrono::hours(30 * 24));
    CHECK(config.store.samples.max_size == 512ULL * 1024 * 1024);
    CHECK(config.store.samples.prune_interval == 1min);
    CHECK(config.equipment[0].description.empty());

    const auto& bus = config.modbus.buses.at(0);
    CHECK(std::get<fw::modbus::TcpTransport>(bus.transport).port == 502);
    CHECK(bus.max_gap == 16);
    CHECK(bus.reconnect_min == 500ms);
    CHECK(bus.reconnect_max == 30s);
    CHECK(bus.failing_poll_max == 30s);
    const auto& device = bus.devices.at(0);
    CHECK(device.poll_interval == 1s);
    CHECK(device.timeout == 500ms);
    const auto& point = device.points.at(0);
    CHECK(point.type == fw::modbus::ValueType::uint16);
    CHECK(point.order == fw::modbus::ByteOrder::abcd);
    CHECK(point.scale == 1.0);
    CHECK(point.offset == 0.0);
    CHECK(point.unit.empty());

    const auto rtu = fw::parse_config(kGateway +
                                          "equipment: [{id: p, area: a}]\n"
                                          "modbus:\n"
                                          "  buses:\n"
                                          "    - name: serial\n"
                                          "      rtu: {device: /dev/ttyS1}\n"
                                          "      devices:\n"
                                          "        - name: d\n"
                                          "          unit_id: 247\n"
                                          "          points:\n"
                                          "            - {channel: c, equipment: p, table: coil, "
                                          "address: 0}\n",
                                      "floorwatch.yaml");
    const auto& transport = std::get<fw::modbus::RtuTransport>(rtu.modbus.buses[0].transport);
    CHECK(transport.baud == 19200);
    CHECK(transport.parity == fw::modbus::Parity::even);
    CHECK(transport.data_bits == 8);
    CHECK(transport.stop_bits == 1);
    CHECK_FALSE(transport.rs485);
    CHECK(rtu.modbus.buses[0].devices[0].points[0].type == fw::modbus::ValueType::boolean);
}

TEST_CASE("validation stores nothing derived from another section: the MQTT client id") {
    const std::string brokers =
        "mqtt:\n"
        "  brokers:\n"
        "    - name: main\n"
        "      uri: tcp://127.0.0.1:1883\n"
        "      inputs: [{name: temps, topic: plant/+/temp, channel: '{1}.temp'}]\n"
        "    - name: central\n"
        "      uri: tcp://127.0.0.1:1884\n"
        "      client_id: gateway-7\n"
        "      inputs: [{name: temps, topic: plant/+/temp, channel: '{1}.temp2'}]\n";
    const auto running = fw::parse_config(kGateway + brokers, "floorwatch.yaml");
    // A SIGHUP that renames the gateway: site and node keep their running values until a
    // restart, so the client ids must keep them too.
    const auto reloaded =
        fw::parse_config("gateway:\n  site: plant-b\n  node: gw-9\n" + brokers, "floorwatch.yaml");
    CHECK(reloaded.mqtt.brokers[0].client_id.empty());
    const auto client = [&](std::size_t broker) {
        return fw::mqtt::with_default_client_id(reloaded.mqtt.brokers[broker], running.gateway.site,
                                                running.gateway.node)
            .client_id;
    };
    CHECK(client(0) == "floorwatch-plant-a-gw-1-main");
    CHECK(client(1) == "gateway-7");
}

TEST_CASE("unknown keys are rejected at the key, with a suggestion when one is close") {
    CHECK(first_issue(kGateway + "store:\n  comit_interval: 1s\n") ==
          "floorwatch.yaml:5:3: store.comit_interval: unknown key 'comit_interval' (did you "
          "mean 'commit_interval'?)");
    CHECK(first_issue(kGateway + "store:\n  paht: /tmp/x.db\n") ==
          "floorwatch.yaml:5:3: store.paht: unknown key 'paht' (did you mean 'path'?)");
    CHECK(first_issue(kGateway + "store:\n  colour: red\n") ==
          "floorwatch.yaml:5:3: store.colour: unknown key 'colour' (allowed: path, "
          "commit_interval, queue_capacity, samples)");
    CHECK(first_issue(kGateway + "modbuss: {}\n") ==
          "floorwatch.yaml:4:1: modbuss: unknown key 'modbuss' (did you mean 'modbus'?)");
    CHECK(first_issue(with_point("{channel: c, equipment: press-1, table: coil, address: 0, "
                                 "pol_interval: 1s}\n")) ==
          "floorwatch.yaml:14:73: modbus.buses[0].devices[0].points[0].pol_interval: unknown key "
          "'pol_interval' (allowed: channel, equipment, table, address, type, order, scale, "
          "offset, unit)");
}

TEST_CASE("values of the wrong kind name what was expected") {
    CHECK(first_issue(kGateway + "store:\n  commit_interval: fast\n") ==
          "floorwatch.yaml:5:20: store.commit_interval: expected a duration such as 250ms, 30s or "
          "7d, got 'fast'");
    CHECK(first_issue(kGateway + "store:\n  commit_interval: 250\n") ==
          "floorwatch.yaml:5:20: store.commit_interval: expected a duration such as 250ms, 30s or "
          "7d, got '250'");
    CHECK(first_issue(kGateway + "store:\n  samples:\n    max_size: lots\n") ==
          "floorwatch.yaml:6:15: store.samples.max_size: expected a size such as 512MiB, got "
          "'lots'");
    CHECK(first_issue(kGateway + "store:\n  queue_capacity: 1e5x\n") ==
          "floorwatch.yaml:5:19: store.queue_capacity: expected an integer, got '1e5x'");
    CHECK(first_issue(kGateway + "store:\n  queue_capacity: \"5000\"\n") ==
          "floorwatch.yaml:5:19: store.queue_capacity: expected an integer, got the quoted text "
          "'5000' (remove the quotes)");
    CHECK(first_issue(kGateway + "store: [a, b]\n") ==
          "floorwatch.yaml:4:8: store: expected a map, got a list");
    CHECK(first_issue(kGateway + "store:\n") ==
          "floorwatch.yaml:4:1: store: expected a map, got nothing");
    CHECK(first_issue(kGateway + "equipment: press-1\n") ==
          "floorwatch.yaml:4:12: equipment: expected a list, got 'press-1'");
    CHECK(first_issue(kGateway + "store:\n  path: [a]\n") ==
          "floorwatch.yaml:5:9: store.path: expected a text value, got a list");
    CHECK(first_issue(with_point("{channel: c, equipment: press-1, table: coil, address: 0, "
                                 "scale: x}\n")) ==
          "floorwatch.yaml:14:80: modbus.buses[0].devices[0].points[0].scale: expected a number, "
          "got 'x'");
    CHECK(first_issue(kGateway +
                      "modbus:\n  buses:\n    - name: b\n      rtu: {device: /dev/x, rs485: "
                      "maybe}\n      devices: []\n") ==
          "floorwatch.yaml:7:36: modbus.buses[0].rtu.rs485: expected true or false, got 'maybe'");
    CHECK(first_issue(kGateway + "  log_level: verbose\n") ==
          "floorwatch.yaml:4:14: gateway.log_level: unknown log_level 'verbose' (expected debug, "
          "info, warning, error)");
}

TEST_CASE("values out of range give the range and what was written") {
    CHECK(first_issue(kGateway + "store:\n  commit_interval: 20s\n") ==
          "floorwatch.yaml:5:20: store.commit_interval: must be between 10ms and 10s, got 20s");
    CHECK(first_issue(kGateway + "store:\n  samples: {max_age: 30s}\n") ==
          "floorwatch.yaml:5:22: store.samples.max_age: must be at least 1m, got 30s");
    CHECK(first_issue(kGateway + "store:\n  samples: {max_size: 512KiB}\n") ==
          "floorwatch.yaml:5:23: store.samples.max_size: must be at least 1MiB, got 512KiB");
    CHECK(first_issue(kGateway + "store:\n  queue_capacity: 10\n") ==
          "floorwatch.yaml:5:19: store.queue_capacity: must be between 1000 and 10000000, got 10");
    CHECK(first_issue(kGateway +
                      "modbus:\n  buses:\n    - name: b\n      rtu: {device: /dev/x, baud: "
                      "19201}\n      devices: []\n") ==
          "floorwatch.yaml:7:35: modbus.buses[0].rtu.baud: must be one of 1200, 2400, 4800, 9600, "
          "19200, 38400, 57600, 115200, got 19201");
    CHECK(first_issue(with_point("{channel: c, equipment: press-1, table: coil, address: 0, "
                                 "scale: 0}\n")) ==
          "floorwatch.yaml:14:80: modbus.buses[0].devices[0].points[0].scale: must not be 0");
    CHECK(first_issue(with_point("{channel: c, equipment: press-1, table: coil, address: 70000}"
                                 "\n")) ==
          "floorwatch.yaml:14:70: modbus.buses[0].devices[0].points[0].address: must be between "
          "0 and 65535, got 70000");
    CHECK(first_issue(with_point("{channel: c, equipment: press-1, table: input_register, "
                                 "address: 65535, type: float32}\n")) ==
          "floorwatch.yaml:14:80: modbus.buses[0].devices[0].points[0].address: a float32 at "
          "address 65535 needs 2 registers and runs past the last address 65535");
    CHECK(first_issue(kGateway + "  site: Plant A\n") ==
          "floorwatch.yaml:4:3: gateway.site: duplicate key 'site' (first at line 2, column 3)");
    CHECK(first_issue("gateway:\n  site: Plant A\n  node: n\n") ==
          "floorwatch.yaml:2:9: gateway.site: must be lowercase letters, digits and '-', not "
          "starting with '-', got 'Plant A'");
}

TEST_CASE("a missing required key is reported at the map that lacks it") {
    CHECK(issues_of("gateway:\n  site: plant-a\n") ==
          std::vector<std::string>{"floorwatch.yaml:2:3: gateway: missing required key 'node'"});
    CHECK(issues_of("store: {path: /tmp/x.db}\n") ==
          std::vector<std::string>{"floorwatch.yaml:1:1: missing required key 'gateway'"});
    CHECK(first_issue(kGateway + "modbus:\n  buses:\n    - name: b\n      tcp: {port: 502}\n"
                                 "      devices: []\n") ==
          "floorwatch.yaml:7:12: modbus.buses[0].tcp: missing required key 'host'");
}

TEST_CASE("a key given twice in one map is rejected at the second one") {
    CHECK(issues_of(kGateway + "store:\n  path: /a.db\n  path: /b.db\n") ==
          std::vector<std::string>{
              "floorwatch.yaml:6:3: store.path: duplicate key 'path' (first at line 5, column 3)"});
}

TEST_CASE("cross-references: equipment, unique names and ids, transports, bit tables") {
    CHECK(first_issue(with_point("{channel: c, equipment: press-9, table: coil, address: 0}\n")) ==
          "floorwatch.yaml:14:39: modbus.buses[0].devices[0].points[0].equipment: unknown "
          "equipment 'press-9' (declared: press-1)");
    CHECK(first_issue(with_point("{channel: c, equipment: press-1, table: coil, address: 0, "
                                 "type: float32}\n")) ==
          "floorwatch.yaml:14:79: modbus.buses[0].devices[0].points[0].type: type 'float32' "
          "cannot be read from a coil: coils and discrete inputs hold single bits, use bool");
    CHECK(issues_of(with_point("{channel: c, equipment: press-1, table: coil, address: 0}\n"
                               "            - {channel: c, equipment: press-1, table: coil, "
                               "address: 1}\n")) ==
          std::vector<std::string>{
              "floorwatch.yaml:15:25: modbus.buses[0].devices[0].points[1].channel: duplicate "
              "channel 'c' (first at modbus.buses[0].devices[0].points[0].channel, line 14)"});

    const std::string two_devices =
        "modbus:\n"                                                                  // 4
        "  buses:\n"                                                                 // 5
        "    - name: b\n"                                                            // 6
        "      tcp: {host: h}\n"                                                     // 7
        "      devices:\n"                                                           // 8
        "        - name: d\n"                                                        // 9
        "          unit_id: 5\n"                                                     // 10
        "          points: [{channel: a, equipment: e, table: coil, address: 0}]\n"  // 11
        "        - name: d\n"                                                        // 12
        "          unit_id: 5\n"                                                     // 13
        "          points: [{channel: b, equipment: e, table: coil, address: 0}]\n"  // 14
        "    - name: b\n"                                                            // 15
        "      rtu: {device: /dev/ttyS0}\n"                                          // 16
        "      tcp: {host: h}\n"                                                     // 17
        "      devices:\n"                                                           // 18
        "        - name: d\n"                                                        // 19
        "          unit_id: 0\n"                                                     // 20
        "          points: [{channel: c, equipment: e, table: coil, address: 0}]\n"  // 21
        "    - name: c\n"                                                            // 22
        "      devices:\n"                                                           // 23
        "        - name: d\n"                                                        // 24
        "          unit_id: 1\n"                                                     // 25
        "          points: [{channel: d, equipment: e, table: coil, address: 0}]\n"  // 26
        "equipment:\n"                                                               // 27
        "  - {id: e, area: a}\n"                                                     // 28
        "  - {id: e, area: b}\n";                                                    // 29
    // Long messages are split over lines on purpose: each element is one message.
    // NOLINTBEGIN(bugprone-suspicious-missing-comma)
    CHECK(issues_of(kGateway + two_devices) ==
          std::vector<std::string>{
              "floorwatch.yaml:12:17: modbus.buses[0].devices[1].name: duplicate device name 'd' "
              "(first at modbus.buses[0].devices[0].name, line 9)",
              "floorwatch.yaml:13:20: modbus.buses[0].devices[1].unit_id: duplicate unit_id '5' "
              "(first at modbus.buses[0].devices[0].unit_id, line 10)",
              "floorwatch.yaml:15:13: modbus.buses[1].name: duplicate bus name 'b' (first at "
              "modbus.buses[0].name, line 6)",
              "floorwatch.yaml:16:12: modbus.buses[1].rtu: a bus has exactly one of 'tcp' or "
              "'rtu', this one has both",
              "floorwatch.yaml:22:7: modbus.buses[2]: a bus needs exactly one of 'tcp' or 'rtu', "
              "this one has neither",
              "floorwatch.yaml:29:10: equipment[1].id: duplicate equipment id 'e' (first at "
              "equipment[0].id, line 28)",
          });
    // NOLINTEND(bugprone-suspicious-missing-comma)
}

TEST_CASE("bus-level checks: RTU unit ids and reconnect backoff") {
    const std::string rtu_bus = kGateway +
                                "equipment: [{id: e, area: a}]\n"
                                "modbus:\n"
                                "  buses:\n"
                                "    - name: b\n"
                                "      rtu: {device: /dev/ttyS0}\n"
                                "      reconnect_min: 1m\n"
                                "      reconnect_max: 10s\n"
                                "      devices:\n"
                                "        - name: d\n"
                                "          unit_id: 248\n"
                                "          points: [{channel: c, equipment: e, table: coil, "
                                "address: 0}]\n";
    CHECK(issues_of(rtu_bus) ==
          std::vector<std::string>{
              "floorwatch.yaml:9:22: modbus.buses[0].reconnect_min: reconnect_min (1m) must not "
              "exceed reconnect_max (10s)",
              "floorwatch.yaml:13:20: modbus.buses[0].devices[0].unit_id: must be between 1 and "
              "247 on an RTU bus, got 248"});
}

TEST_CASE("every mistake in a file is reported at once, in file order") {
    const auto issues = issues_of(
        "gateway:\n"
        "  site: plant-a\n"
        "  log_level: loud\n"
        "store:\n"
        "  commit_interval: 1h\n"
        "  queue: 5\n");
    REQUIRE(issues.size() == 4);
    CHECK(issues[0] == "floorwatch.yaml:2:3: gateway: missing required key 'node'");
    CHECK(issues[1] ==
          "floorwatch.yaml:3:14: gateway.log_level: unknown log_level 'loud' (expected debug, "
          "info, warning, error)");
    CHECK(issues[2] ==
          "floorwatch.yaml:5:20: store.commit_interval: must be between 10ms and 10s, got 1h");
    CHECK(issues[3] ==
          "floorwatch.yaml:6:3: store.queue: unknown key 'queue' (allowed: path, commit_interval, "
          "queue_capacity, samples)");
}

TEST_CASE("YAML syntax errors, empty and unreadable files are issues too") {
    CHECK(issues_of("gateway:\n  site: [plant-a\n  node: n\n").size() == 1);
    CHECK(first_issue("gateway:\n  site: a\n node: b\n")
              .starts_with("floorwatch.yaml:3:2: invalid YAML: end of map not found"));
    CHECK(issues_of("# nothing here\n") ==
          std::vector<std::string>{"floorwatch.yaml: the file is empty; it needs at least a "
                                   "'gateway' section with site and node"});
    CHECK(first_issue(kGateway + "---\n" + kGateway) ==
          "floorwatch.yaml:5:1: only one YAML document is allowed, found another after '---'");

    const std::string missing =
        (fs::temp_directory_path() / "fw-config-test-missing.yaml").string();
    try {
        fw::load_config(missing);
        FAIL("load_config accepted a missing file");
    } catch (const fw::ConfigError& error) {
        REQUIRE(error.issues().size() == 1);
        CHECK(error.issues()[0].line == 0);
        CHECK(error.issues()[0].to_string() ==
              missing + ": cannot read the config file: No such file or directory");
        CHECK(std::string(error.what()) == error.issues()[0].to_string());
    }
}

TEST_CASE("every accepted duration and size form is read, and the schema patterns agree") {
    using fw::config_table::kDurationPattern;
    using fw::config_table::kSizePattern;
    using fw::config_table::matches_pattern;
    const std::vector<std::pair<std::string, fw::Millis>> durations{
        {"10ms", 10ms},  {"250ms", 250ms}, {"1s", 1s},     {"1.5s", 1500ms},
        {"0.5s", 500ms}, {".5s", 500ms},   {"5m", 5min},   {"12h", 12h},
        {"7d", 168h},    {"2 s", 2s},      {"1.25m", 75s}, {"100000ms", 100s}};
    for (const auto& [text, expected] : durations) {
        CAPTURE(text);
        const auto config = fw::parse_config(
            with_point("{channel: c, equipment: press-1, table: coil, address: 0}\n") +
                "          poll_interval: " + text + "\n",
            "floorwatch.yaml");
        CHECK(config.modbus.buses.at(0).devices.at(0).poll_interval == expected);
        CHECK(matches_pattern(text, kDurationPattern));
    }
    CHECK_FALSE(matches_pattern("30", kDurationPattern));
    CHECK_FALSE(matches_pattern("5 weeks", kDurationPattern));
    CHECK_FALSE(matches_pattern("-5s", kDurationPattern));

    const std::vector<std::pair<std::string, std::uint64_t>> sizes{
        {"1MiB", 1ULL << 20},      {"512MiB", 512ULL << 20}, {"2048KiB", 2ULL << 20},
        {"1GiB", 1ULL << 30},      {"1.5GiB", 3ULL << 29},   {"1TiB", 1ULL << 40},
        {"5MB", 5000000},          {"2000kB", 2000000},      {"1GB", 1000000000},
        {"1TB", 1000000000000ULL}, {"1048576B", 1ULL << 20}, {"1048576", 1ULL << 20},
        {"64 MiB", 64ULL << 20}};
    for (const auto& [text, expected] : sizes) {
        CAPTURE(text);
        const auto config = fw::parse_config(
            kGateway + "store: {samples: {max_size: " + text + "}}\n", "floorwatch.yaml");
        CHECK(config.store.samples.max_size == expected);
        CHECK(matches_pattern(text, kSizePattern));
    }
    CHECK_FALSE(matches_pattern("12 apples", kSizePattern));
}

TEST_CASE("data-driven invalid configs give exactly their expected.err") {
    const fs::path cases = source_dir() / "daemon/config/testcases/invalid";
    std::size_t count = 0;
    for (const auto& entry : fs::directory_iterator(cases)) {
        if (!entry.is_directory()) continue;
        ++count;
        const std::string name = entry.path().filename().string();
        CAPTURE(name);
        const std::string text = read_text(entry.path() / "floorwatch.yaml");
        std::string expected = read_text(entry.path() / "expected.err");
        while (!expected.empty() && expected.back() == '\n') expected.pop_back();
        std::string actual;
        for (const auto& line : issues_of(text)) actual += (actual.empty() ? "" : "\n") + line;
        CHECK(actual == expected);
    }
    CHECK(count >= 5);
}

TEST_CASE("every example config in the repo loads (the schema check runs on the same files)") {
    const fs::path root = source_dir();
    std::vector<fs::path> configs;
    const auto add_matching = [&](const fs::path& dir, bool recursive, auto matches) {
        if (!fs::is_directory(dir)) return;
        if (recursive) {
            for (const auto& entry : fs::recursive_directory_iterator(dir)) {
                if (entry.is_regular_file() && matches(entry.path()))
                    configs.push_back(entry.path());
            }
        } else {
            for (const auto& entry : fs::directory_iterator(dir)) {
                if (entry.is_regular_file() && matches(entry.path()))
                    configs.push_back(entry.path());
            }
        }
    };
    // The same globs as schemas/check_examples.py.
    add_matching(root / "examples", true, [](const fs::path& path) {
        const std::string name = path.filename().string();
        return name.starts_with("floorwatch") && name.ends_with(".yaml");
    });
    if (fs::is_directory(root / "drivers")) {
        for (const auto& driver : fs::directory_iterator(root / "drivers")) {
            const fs::path sample = driver.path() / "sample-config.yaml";
            if (fs::is_regular_file(sample)) configs.push_back(sample);
        }
    }
    if (fs::is_regular_file(root / "systemd/floorwatch.yaml")) {
        configs.push_back(root / "systemd/floorwatch.yaml");
    }
    add_matching(root / "daemon/config/testcases/valid", false,
                 [](const fs::path& path) { return path.extension() == ".yaml"; });

    REQUIRE(configs.size() >= 2);
    for (const auto& path : configs) {
        CAPTURE(path.string());
        try {
            fw::load_config(path.string());
        } catch (const fw::ConfigError& error) {
            FAIL_CHECK(std::string(error.what()));
        }
    }
}

TEST_CASE("schemas/floorwatch.schema.json is the schema the loader derives") {
    const std::string committed = read_text(source_dir() / "schemas/floorwatch.schema.json");
    CHECK_MESSAGE(committed == fw::config_json_schema(),
                  "schemas/floorwatch.schema.json is out of date; regenerate it from the repo "
                  "root with: build/daemon/config/fw-config-schema > "
                  "schemas/floorwatch.schema.json");
}

namespace {

// Every object schema with "properties" must close itself with "additionalProperties": false.
void check_closed(const boost::json::value& value, const std::string& where) {
    if (value.is_array()) {
        for (std::size_t i = 0; i < value.get_array().size(); ++i) {
            check_closed(value.get_array()[i], where + "/" + std::to_string(i));
        }
        return;
    }
    if (!value.is_object()) return;
    const auto& object = value.get_object();
    if (object.contains("properties") && object.contains("type")) {
        CAPTURE(where);
        CHECK(object.contains("additionalProperties"));
        if (object.contains("additionalProperties")) {
            CHECK(object.at("additionalProperties") == boost::json::value(false));
        }
    }
    for (const auto& [key, member] : object) check_closed(member, where + "/" + std::string(key));
}

}  // namespace

TEST_CASE("the schema is draft 2020-12, closed everywhere, with defaults from the structs") {
    const auto schema = boost::json::parse(fw::config_json_schema());
    CHECK(schema.at("$schema").as_string() == "https://json-schema.org/draft/2020-12/schema");
    check_closed(schema, "");
    const auto& store = schema.at("properties").at("store").at("properties");
    CHECK(store.at("commit_interval").at("default").as_string() == "250ms");
    CHECK(store.at("samples").at("properties").at("max_size").at("default").as_string() ==
          "512MiB");
    CHECK(store.at("queue_capacity").at("minimum").as_int64() == 1000);
    const auto& point = schema.at("properties")
                            .at("modbus")
                            .at("properties")
                            .at("buses")
                            .at("items")
                            .at("properties")
                            .at("devices")
                            .at("items")
                            .at("properties")
                            .at("points")
                            .at("items");
    CHECK(point.at("required") ==
          boost::json::value(boost::json::array{"channel", "equipment", "table", "address"}));
    CHECK(point.at("properties").at("type").at("enum").as_array().size() == 9);
    CHECK_FALSE(point.at("properties").at("type").as_object().contains("default"));
    // Generating twice gives the same text, so the committed file never churns.
    CHECK(fw::config_json_schema() == fw::config_json_schema());
}

TEST_CASE("edit distance counts a swap of neighbours as one edit") {
    CHECK(fw::config_table::edit_distance("host", "host") == 0);
    CHECK(fw::config_table::edit_distance("hsot", "host") == 1);
    CHECK(fw::config_table::edit_distance("pol_interval", "poll_interval") == 1);
    CHECK(fw::config_table::edit_distance("", "abc") == 3);
    CHECK(fw::config_table::edit_distance("rtu", "tcp") == 3);
}

TEST_CASE("the http section: absent means no server; listen addresses and origins are checked") {
    CHECK_FALSE(fw::parse_config(kGateway, "floorwatch.yaml").http.has_value());

    const auto config =
        fw::parse_config(kGateway +
                             "http:\n"
                             "  listen: ['127.0.0.1:8080', '[::1]:8443']\n"
                             "  tls: {cert: /etc/fw/cert.pem, key: /etc/fw/key.pem}\n"
                             "  session_lifetime: 2h\n"
                             "  language: zh-CN\n"
                             "  trusted_origins: [https://floor.example.com]\n",
                         "floorwatch.yaml");
    REQUIRE(config.http.has_value());
    const auto addresses = fw::http::listen_addresses(*config.http);
    REQUIRE(addresses.size() == 2);
    CHECK(addresses[0].to_string() == "127.0.0.1:8080");
    CHECK(addresses[1].to_string() == "[::1]:8443");
    REQUIRE(config.http->tls.has_value());
    CHECK(config.http->tls->key == "/etc/fw/key.pem");
    CHECK(config.http->session_lifetime == 2h);
    CHECK(config.http->language == "zh-CN");
    CHECK(config.http->max_connections == 64);
    CHECK(config.http->trusted_origins == std::vector<std::string>{"https://floor.example.com"});
    // The body limit follows the largest attachment unless it is set.
    CHECK(config.http->body_limit(16ULL << 20) == 24ULL << 20);

    CHECK(first_issue(kGateway + "http: {listen: ['localhost:8080']}\n") ==
          "floorwatch.yaml:4:16: http.listen[0]: 'localhost:8080' is not an IP address and port "
          "such as 127.0.0.1:8080 or [::1]:8080");
    CHECK(first_issue(kGateway + "http: {listen: []}\n").find("needs at least 1 entry") !=
          std::string::npos);
    CHECK(first_issue(kGateway + "http: {language: fr}\n").find("en or zh-CN") !=
          std::string::npos);
    CHECK(first_issue(kGateway + "http: {trusted_origins: ['floor.example.com/x']}\n")
              .find("is not an origin") != std::string::npos);
    CHECK(first_issue(kGateway + "http: {tls: {cert: a.pem}}\n").find("key") != std::string::npos);
}
