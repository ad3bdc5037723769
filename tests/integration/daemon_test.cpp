// floorwatchd end to end: the real daemon polls the real simulator over loopback TCP and a socat
// pty pair, and what it stores is read back from the real SQLite file. Timing bounds here are
// behavioural (a good device keeps most of its poll rate while another is dead), never speed.

#include <doctest/doctest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <string>
#include <thread>

#include "daemon/store/store.hpp"
#include "tests/support/daemon_harness.hpp"
#include "tests/support/mosquitto.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using fw::test::ChildProcess;
using fw::test::Daemon;
using fw::test::daemon_config;
using fw::test::eventually;
using fw::test::logs_to;
using fw::test::read_text_file;
using fw::test::run;
using fw::test::RunResult;
using fw::test::Sim;
using fw::test::sim_control;
using fw::test::start_daemon;
using fw::test::start_pty_pair;
using fw::test::start_sim;
using fw::test::tcp_bus;
using fw::test::TempDir;
using fw::test::write_text_file;

namespace {

// Channel -> (count, latest stored sample), through the store's own read-only API.
std::map<std::string, std::pair<std::uint64_t, std::optional<fw::store::StoredSample>>> snapshot(
    const fs::path& db) {
    std::map<std::string, std::pair<std::uint64_t, std::optional<fw::store::StoredSample>>> rows;
    if (!fs::exists(db)) return rows;
    try {
        auto reader = fw::store::Reader::open(db.string());
        for (const auto& channel : reader->channels()) {
            const auto latest = reader->samples(channel.info.name, 0, INT64_MAX, 1);
            rows[channel.info.name] = {
                channel.sample_count, latest.empty() ? std::nullopt : std::optional(latest.back())};
        }
    } catch (const fw::store::StoreError&) {
        // The daemon may still be creating the file.
    }
    return rows;
}

std::uint64_t count_of(const fs::path& db, const std::string& channel) {
    const auto rows = snapshot(db);
    const auto it = rows.find(channel);
    return it == rows.end() ? 0 : it->second.first;
}

std::vector<fw::store::StoredSample> samples_of(const fs::path& db, const std::string& channel) {
    auto reader = fw::store::Reader::open(db.string());
    return reader->samples(channel, 0, INT64_MAX, 1000000);
}

bool has_good_sample(const fs::path& db, const std::string& channel) {
    const auto rows = snapshot(db);
    const auto it = rows.find(channel);
    return it != rows.end() && it->second.second && it->second.second->quality == fw::Quality::good;
}

// The sim serves every type in every order as constants; the daemon must store them exactly.
const std::string kTypesSim = R"(tcp: {host: 127.0.0.1, port: 0}
devices:
  - name: press-1
    unit_id: 1
    values:
      - {table: input_register, address: 0, type: float32, order: ABCD, profile: {kind: constant, value: 2.75}}
      - {table: input_register, address: 2, type: float32, order: CDAB, profile: {kind: constant, value: -1.5}}
      - {table: input_register, address: 10, type: int16, scale: 0.1, profile: {kind: constant, value: 65.5}}
      - {table: holding_register, address: 100, type: uint32, order: DCBA, profile: {kind: constant, value: 123456}}
      - {table: holding_register, address: 104, type: int64, order: BADC, profile: {kind: constant, value: -9876543210}}
      - {table: holding_register, address: 110, type: float64, order: CDAB, profile: {kind: constant, value: 3.140625}}
      - {table: holding_register, address: 120, type: uint16, profile: {kind: constant, value: 500}}
      - {table: coil, address: 0, type: bool, profile: {kind: constant, value: 1}}
      - {table: discrete_input, address: 3, type: bool, profile: {kind: constant, value: 0}}
)";

const std::string kTypesDevice = R"(        - name: press-1-sensors
          unit_id: 1
          poll_interval: 200ms
          timeout: 500ms
          points:
            - {channel: p1.vib_abcd, equipment: press-1, table: input_register, address: 0, type: float32, unit: mm/s}
            - {channel: p1.vib_cdab, equipment: press-1, table: input_register, address: 2, type: float32, order: CDAB}
            - {channel: p1.temp, equipment: press-1, table: input_register, address: 10, type: int16, scale: 0.1, unit: degC}
            - {channel: p1.count, equipment: press-1, table: holding_register, address: 100, type: uint32, order: DCBA}
            - {channel: p1.big, equipment: press-1, table: holding_register, address: 104, type: int64, order: BADC}
            - {channel: p1.precise, equipment: press-1, table: holding_register, address: 110, type: float64, order: CDAB}
            - {channel: p1.offset, equipment: press-1, table: holding_register, address: 120, type: uint16, scale: 0.5, offset: -10}
            - {channel: p1.running, equipment: press-1, table: coil, address: 0}
            - {channel: p1.door_open, equipment: press-1, table: discrete_input, address: 3}
)";

const std::map<std::string, double> kExpectedValues{
    {"p1.vib_abcd", 2.75},  {"p1.vib_cdab", -1.5},     {"p1.temp", 65.5},
    {"p1.count", 123456.0}, {"p1.big", -9876543210.0}, {"p1.precise", 3.140625},
    {"p1.offset", 240.0},   {"p1.running", 1.0},       {"p1.door_open", 0.0},
};

}  // namespace

TEST_CASE("the daemon stores exactly the values the simulator serves, and stops cleanly") {
    TempDir dir("fw-daemon");
    Sim sim = start_sim(dir, "sim", kTypesSim);
    const fs::path db = dir / "floorwatch.db";
    const fs::path config = dir / "floorwatch.yaml";
    write_text_file(config, daemon_config(db, tcp_bus("line1", sim.port, kTypesDevice)));

    const RunResult check = run(dir, FW_DAEMON_BINARY, {"--check-config", config.string()});
    CHECK_MESSAGE(check.exit_code == 0, check.err);

    Daemon daemon = start_daemon(dir, config);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            for (const auto& [channel, value] : kExpectedValues) {
                                if (!has_good_sample(db, channel)) return false;
                            }
                            return true;
                        },
                        15s),
                    read_text_file(daemon.log));
    for (const auto& [channel, expected] : kExpectedValues) {
        const auto samples = samples_of(db, channel);
        REQUIRE(!samples.empty());
        const auto& latest = samples.back();
        CHECK_MESSAGE(latest.quality == fw::Quality::good, channel);
        REQUIRE(latest.value.has_value());
        CHECK_MESSAGE(*latest.value == doctest::Approx(expected).epsilon(1e-12), channel);
    }
    // The readings carry wall-clock times close to now.
    const auto latest_time = samples_of(db, "p1.vib_abcd").back().time_ms;
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    CHECK(std::abs(now_ms - latest_time) < 60000);

    SUBCASE("the CLI reads samples, channels and device health") {
        const RunResult samples = run(
            dir, FW_CLI_BINARY,
            {"samples", "--db", db.string(), "--channel", "p1.temp", "--since", "10m", "--json"});
        REQUIRE_MESSAGE(samples.exit_code == 0, samples.err);
        const boost::json::value parsed = boost::json::parse(samples.out);
        const auto& rows = parsed.as_array();
        REQUIRE(!rows.empty());
        CHECK(rows.back().at("value").as_double() == doctest::Approx(65.5));
        CHECK(rows.back().at("quality").as_string() == "good");
        CHECK(rows.back().at("channel").as_string() == "p1.temp");

        const RunResult table =
            run(dir, FW_CLI_BINARY, {"samples", "--db", db.string(), "--channel", "p1.temp"});
        CHECK(table.exit_code == 0);
        CHECK(table.out.find("65.5") != std::string::npos);
        CHECK(table.out.find("degC") != std::string::npos);

        const RunResult channels = run(dir, FW_CLI_BINARY, {"channels", "--db", db.string()});
        CHECK(channels.exit_code == 0);
        CHECK(channels.out.find("p1.door_open") != std::string::npos);
        CHECK(channels.out.find("stamping") != std::string::npos);

        const RunResult devices =
            run(dir, FW_CLI_BINARY, {"devices", "--db", db.string(), "--json"});
        REQUIRE_MESSAGE(devices.exit_code == 0, devices.err);
        bool seen = eventually(
            [&] {
                const RunResult again =
                    run(dir, FW_CLI_BINARY, {"devices", "--db", db.string(), "--json"});
                const boost::json::value health_rows = boost::json::parse(again.out);
                for (const auto& row : health_rows.as_array()) {
                    if (row.at("device").as_string() == "press-1-sensors" &&
                        row.at("online").as_bool() && row.at("polls").as_int64() > 0) {
                        return true;
                    }
                }
                return false;
            },
            10s);
        CHECK(seen);

        const RunResult missing_channel =
            run(dir, FW_CLI_BINARY, {"samples", "--db", db.string(), "--channel", "p9.nothing"});
        CHECK(missing_channel.exit_code == 1);
        CHECK(missing_channel.err.find("no channel 'p9.nothing'") != std::string::npos);
        CHECK(missing_channel.err.find("p1.temp") != std::string::npos);  // lists the known ones

        const RunResult missing_db =
            run(dir, FW_CLI_BINARY,
                {"samples", "--db", (dir / "nope.db").string(), "--channel", "p1.temp"});
        CHECK(missing_db.exit_code == 1);
        CHECK(missing_db.err.find("nope.db") != std::string::npos);
        CHECK_FALSE(fs::exists(dir / "nope.db"));

        const RunResult usage = run(dir, FW_CLI_BINARY, {"samples", "--db", db.string()});
        CHECK(usage.exit_code == 2);
        CHECK(usage.err.find("--channel") != std::string::npos);
    }

    SUBCASE("SIGTERM commits what was received and exits 0 within 5 s") {
        daemon.process.send_signal(SIGTERM);
        const auto code = daemon.process.wait_exit(5s);
        REQUIRE(code.has_value());
        CHECK(*code == 0);
        CHECK(read_text_file(daemon.log).find("stopped cleanly") != std::string::npos);
        // Nothing in flight is lost: the count is stable once the process is gone.
        const auto after = count_of(db, "p1.vib_abcd");
        CHECK(after > 0);
    }
}

TEST_CASE("a silent device and one answering with exceptions do not hold up the others") {
    TempDir dir("fw-daemon");
    Sim sim = start_sim(dir, "sim", R"(tcp: {host: 127.0.0.1, port: 0}
devices:
  - {name: good, unit_id: 1, values: [{table: input_register, address: 0, type: uint16, profile: {kind: constant, value: 7}}]}
  - {name: silent, unit_id: 2, fault: no_reply, values: [{table: input_register, address: 0, type: uint16, profile: {kind: constant, value: 8}}]}
  - {name: refusing, unit_id: 3, fault: exception 2, values: [{table: input_register, address: 0, type: uint16, profile: {kind: constant, value: 9}}]}
)");
    const fs::path db = dir / "floorwatch.db";
    const fs::path config = dir / "floorwatch.yaml";
    const std::string devices = R"(        - name: good-sensors
          unit_id: 1
          poll_interval: 200ms
          timeout: 300ms
          points: [{channel: good.value, equipment: press-1, table: input_register, address: 0}]
        - name: silent-sensors
          unit_id: 2
          poll_interval: 200ms
          timeout: 300ms
          points: [{channel: silent.value, equipment: press-2, table: input_register, address: 0}]
        - name: refusing-sensors
          unit_id: 3
          poll_interval: 200ms
          timeout: 300ms
          points: [{channel: refusing.value, equipment: press-3, table: input_register, address: 0}]
)";
    write_text_file(config, daemon_config(db, tcp_bus("line1", sim.port, devices,
                                                      "      failing_poll_max: 2s\n")));
    Daemon daemon = start_daemon(dir, config);

    REQUIRE(eventually([&] { return count_of(db, "good.value") >= 3; }, 10s));
    const auto start_count = count_of(db, "good.value");
    const auto window = 4s;
    std::this_thread::sleep_for(window);
    const auto good_polls = count_of(db, "good.value") - start_count;
    // 4 s at one poll per 200 ms is 20 polls. A dead neighbour may cost each cycle at most its
    // 300 ms timeout, and it is backed off to one poll per 2 s, so well over half must remain.
    CHECK_MESSAGE(good_polls >= 10, "good device polled only " << good_polls << " times");

    const auto silent = samples_of(db, "silent.value");
    REQUIRE(!silent.empty());
    CHECK(silent.back().quality == fw::Quality::timeout);
    CHECK_FALSE(silent.back().value.has_value());
    // Backed off: far fewer polls than the good device.
    CHECK(silent.size() < good_polls);

    const auto refusing = samples_of(db, "refusing.value");
    REQUIRE(!refusing.empty());
    CHECK(refusing.back().quality == fw::Quality::illegal_data_address);

    CHECK(samples_of(db, "good.value").back().value == 7.0);

    REQUIRE(eventually(
        [&] {
            auto reader = fw::store::Reader::open(db.string());
            for (const auto& health : reader->device_health()) {
                if (health.device == "silent-sensors" && !health.online && health.timeouts > 0 &&
                    health.poll_interval_ms > 200) {
                    return true;
                }
            }
            return false;
        },
        10s));
    const std::string log = read_text_file(daemon.log);
    CHECK(log.find("[modbus:line1/silent-sensors]") != std::string::npos);
    CHECK(log.find("offline") != std::string::npos);

    SUBCASE("the silent device comes back and is polled at its own rate again") {
        REQUIRE(sim_control(sim, {"fault", "silent", "none"}) == 0);
        REQUIRE(eventually([&] { return has_good_sample(db, "silent.value"); }, 10s));
        CHECK(samples_of(db, "silent.value").back().value == 8.0);
        CHECK(eventually(
            [&] { return read_text_file(daemon.log).find("online again") != std::string::npos; },
            5s));
    }
}

TEST_CASE("Modbus RTU over a socat pty pair") {
    TempDir dir("fw-rtu");
    const fs::path sim_end = dir / "sim-end";
    const fs::path daemon_end = dir / "daemon-end";
    ChildProcess socat = start_pty_pair(dir, sim_end, daemon_end);

    Sim sim = start_sim(dir, "sim",
                        "rtu: {device: " + sim_end.string() +
                            ", baud: 19200, parity: even, data_bits: 8, stop_bits: 1}\n"
                            R"(devices:
  - {name: pump-1, unit_id: 11, values: [{table: input_register, address: 0, type: float32, profile: {kind: constant, value: 2.5}}]}
  - {name: pump-2, unit_id: 12, values: [{table: holding_register, address: 100, type: uint32, order: DCBA, profile: {kind: constant, value: 2950}}]}
)");
    const fs::path db = dir / "floorwatch.db";
    const fs::path config = dir / "floorwatch.yaml";
    write_text_file(
        config, daemon_config(db, "    - name: pumps\n      rtu: {device: " + daemon_end.string() +
                                      ", baud: 19200, parity: even, data_bits: 8, "
                                      "stop_bits: 1}\n"
                                      R"(      devices:
        - name: pump-1-sensors
          unit_id: 11
          poll_interval: 300ms
          timeout: 500ms
          points: [{channel: pump1.vibration, equipment: press-1, table: input_register, address: 0, type: float32}]
        - name: pump-2-sensors
          unit_id: 12
          poll_interval: 300ms
          timeout: 500ms
          points: [{channel: pump2.speed, equipment: press-2, table: holding_register, address: 100, type: uint32, order: DCBA}]
)"));
    Daemon daemon = start_daemon(dir, config);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return has_good_sample(db, "pump1.vibration") &&
                                   has_good_sample(db, "pump2.speed");
                        },
                        15s),
                    read_text_file(daemon.log));
    CHECK(samples_of(db, "pump1.vibration").back().value == 2.5);
    CHECK(samples_of(db, "pump2.speed").back().value == 2950.0);
    daemon.process.send_signal(SIGTERM);
    CHECK(daemon.process.wait_exit(5s) == 0);
}

TEST_CASE("a lost TCP connection is reported, retried with backoff and recovered") {
    TempDir dir("fw-daemon");
    const std::string sim_yaml_template = R"(tcp: {host: 127.0.0.1, port: PORT}
devices:
  - {name: press-1, unit_id: 1, values: [{table: input_register, address: 0, type: uint16, profile: {kind: constant, value: 42}}]}
)";
    auto sim_yaml = [&](std::uint16_t port) {
        return std::regex_replace(sim_yaml_template, std::regex("PORT"), std::to_string(port));
    };
    Sim sim = start_sim(dir, "sim", sim_yaml(0));
    const std::uint16_t port = sim.port;
    const fs::path db = dir / "floorwatch.db";
    const fs::path config = dir / "floorwatch.yaml";
    write_text_file(
        config,
        daemon_config(db, tcp_bus("line1", port, R"(        - name: press-1-sensors
          unit_id: 1
          poll_interval: 200ms
          timeout: 300ms
          points: [{channel: p1.value, equipment: press-1, table: input_register, address: 0}]
)",
                                  "      reconnect_min: 100ms\n      reconnect_max: 1s\n")));
    Daemon daemon = start_daemon(dir, config);
    REQUIRE(eventually([&] { return has_good_sample(db, "p1.value"); }, 10s));

    SUBCASE("the server drops every connection") {
        REQUIRE(sim_control(sim, {"disconnect"}) == 0);
        CHECK(eventually(
            [&] { return read_text_file(daemon.log).find("connection lost") != std::string::npos; },
            5s));
        const auto before = count_of(db, "p1.value");
        CHECK(eventually(
            [&] {
                return count_of(db, "p1.value") > before + 3 && has_good_sample(db, "p1.value");
            },
            10s));
    }

    SUBCASE("the server is down for a while, then back on the same port") {
        CHECK(sim.process.stop() == 0);
        CHECK(eventually(
            [&] {
                const auto rows = snapshot(db);
                const auto& latest = rows.at("p1.value").second;
                return latest && latest->quality == fw::Quality::disconnected;
            },
            10s));
        CHECK(daemon.process.running());
        Sim again = start_sim(dir, "sim2", sim_yaml(port));
        CHECK(eventually([&] { return has_good_sample(db, "p1.value"); }, 15s));
        CHECK(samples_of(db, "p1.value").back().value == 42.0);
        CHECK(eventually(
            [&] {
                auto reader = fw::store::Reader::open(db.string());
                for (const auto& health : reader->device_health()) {
                    if (health.device == "press-1-sensors" && health.online &&
                        health.reconnects > 0) {
                        return true;
                    }
                }
                return false;
            },
            10s));
    }
}

TEST_CASE("SIGHUP applies a valid config and refuses an invalid one, keeping the old") {
    TempDir dir("fw-daemon");
    Sim sim = start_sim(dir, "sim", R"(tcp: {host: 127.0.0.1, port: 0}
devices:
  - name: press-1
    unit_id: 1
    values:
      - {table: input_register, address: 0, type: uint16, profile: {kind: constant, value: 1}}
      - {table: input_register, address: 1, type: uint16, profile: {kind: constant, value: 2}}
)");
    const fs::path db = dir / "floorwatch.db";
    const fs::path config = dir / "floorwatch.yaml";
    const std::string device_head = R"(        - name: press-1-sensors
          unit_id: 1
          poll_interval: 200ms
          timeout: 300ms
          points:
            - {channel: p1.a, equipment: press-1, table: input_register, address: 0}
)";
    write_text_file(config, daemon_config(db, tcp_bus("line1", sim.port, device_head)));
    Daemon daemon = start_daemon(dir, config);
    REQUIRE(eventually([&] { return has_good_sample(db, "p1.a"); }, 10s));

    // Valid: a second point appears.
    write_text_file(config,
                    daemon_config(db, tcp_bus("line1", sim.port,
                                              device_head + "            - {channel: p1.b, "
                                                            "equipment: press-1, table: "
                                                            "input_register, address: 1}\n")));
    daemon.process.send_signal(SIGHUP);
    REQUIRE_MESSAGE(eventually([&] { return has_good_sample(db, "p1.b"); }, 10s),
                    read_text_file(daemon.log));
    CHECK(samples_of(db, "p1.b").back().value == 2.0);
    CHECK(read_text_file(daemon.log).find("configuration reloaded") != std::string::npos);

    // Invalid: refused with file:line:col, and polling goes on with the running config.
    write_text_file(config,
                    daemon_config(db, tcp_bus("line1", sim.port,
                                              device_head + "            - {channel: p1.b, "
                                                            "equipment: press-1, table: "
                                                            "input_register, address: 1, type: "
                                                            "flaot32}\n")));
    daemon.process.send_signal(SIGHUP);
    REQUIRE(eventually(
        [&] { return read_text_file(daemon.log).find("reload refused") != std::string::npos; },
        10s));
    const std::string log = read_text_file(daemon.log);
    CHECK(log.find("floorwatch.yaml:") != std::string::npos);
    CHECK(log.find("unknown type 'flaot32'") != std::string::npos);
    const auto before = count_of(db, "p1.b");
    CHECK(eventually([&] { return count_of(db, "p1.b") >= before + 3; }, 10s));
    CHECK(daemon.process.running());
}

TEST_CASE("kill -9 of the daemon loses nothing that was committed, and it restarts clean") {
    TempDir dir("fw-daemon");
    Sim sim = start_sim(dir, "sim", kTypesSim);
    const fs::path db = dir / "floorwatch.db";
    const fs::path config = dir / "floorwatch.yaml";
    write_text_file(config, daemon_config(db, tcp_bus("line1", sim.port, kTypesDevice)));
    Daemon daemon = start_daemon(dir, config);
    REQUIRE(eventually([&] { return count_of(db, "p1.temp") >= 10; }, 15s));

    const auto committed = count_of(db, "p1.temp");
    daemon.process.send_signal(SIGKILL);
    REQUIRE(daemon.process.wait_exit(5s).has_value());
    CHECK(count_of(db, "p1.temp") >= committed);

    // The file is a sound database, and the daemon starts on it and goes on.
    sqlite3* handle = nullptr;
    REQUIRE(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(handle, "PRAGMA integrity_check", -1, &statement, nullptr) ==
            SQLITE_OK);
    REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
    CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0))) == "ok");
    sqlite3_finalize(statement);
    sqlite3_close(handle);

    const auto after_kill = count_of(db, "p1.temp");
    fs::remove(dir / "floorwatchd.log");
    Daemon again = start_daemon(dir, config);
    CHECK(eventually([&] { return count_of(db, "p1.temp") >= after_kill + 5; }, 10s));
    again.process.send_signal(SIGTERM);
    CHECK(again.process.wait_exit(5s) == 0);
}

TEST_CASE("startup refuses a store that is not a database, and leaves it alone") {
    TempDir dir("fw-daemon");
    const fs::path db = dir / "floorwatch.db";
    const std::string garbage = "this is a spreadsheet export, not a database\n";
    write_text_file(db, garbage);
    const fs::path config = dir / "floorwatch.yaml";
    write_text_file(config, daemon_config(db, tcp_bus("line1", 1, R"(        - name: d
          unit_id: 1
          points: [{channel: x.y, equipment: press-1, table: coil, address: 0}]
)")));
    const RunResult result = run(dir, FW_DAEMON_BINARY, {"--config", config.string()});
    CHECK(result.exit_code == 1);
    CHECK(result.err.find(db.string()) != std::string::npos);
    CHECK(read_text_file(db) == garbage);
}

TEST_CASE("--check-config prints every error with file, line and column") {
    TempDir dir("fw-daemon");
    const fs::path config = dir / "broken.yaml";
    write_text_file(config, R"(gateway: {site: plant, node: gw-1}
equipment:
  - {id: press-1, area: stamping}
modbus:
  buses:
    - name: line1
      tcp: {host: 127.0.0.1}
      devices:
        - name: d1
          unit_id: 1
          pol_interval: 1s
          points:
            - {channel: a, equipment: press-9, table: input_register, address: 0, type: flaot32}
)");
    const RunResult result = run(dir, FW_DAEMON_BINARY, {"--check-config", config.string()});
    CHECK(result.exit_code == 1);
    CHECK(result.err.find(config.string() + ":11:11: modbus.buses[0].devices[0].pol_interval: "
                                            "unknown key 'pol_interval' (did you mean "
                                            "'poll_interval'?)") != std::string::npos);
    CHECK(result.err.find("unknown type 'flaot32'") != std::string::npos);
    CHECK(result.err.find("unknown equipment 'press-9'") != std::string::npos);
}

TEST_CASE("the demo config polls the demo plant: every channel gets good readings") {
    TempDir dir("fw-demo");
    const fs::path source = std::getenv("FW_SOURCE_DIR");
    const fs::path sim_end = dir / "pumps-sim";
    const fs::path daemon_end = dir / "pumps";
    ChildProcess socat = start_pty_pair(dir, sim_end, daemon_end);

    const std::string line1_yaml =
        std::regex_replace(read_text_file(source / "examples/demo/line1-sim.yaml"),
                           std::regex("port: 15020"), "port: 0");
    Sim line1 = start_sim(dir, "line1", line1_yaml);
    const std::string pumps_yaml =
        std::regex_replace(read_text_file(source / "examples/demo/pumps-sim.yaml"),
                           std::regex("build/demo/pumps-sim"), sim_end.string());
    Sim pumps = start_sim(dir, "pumps", pumps_yaml);

    std::string config_text = read_text_file(source / "examples/demo/floorwatch.yaml");
    config_text = std::regex_replace(config_text, std::regex("port: 15020"),
                                     "port: " + std::to_string(line1.port));
    config_text =
        std::regex_replace(config_text, std::regex("build/demo/pumps"), daemon_end.string());
    const fs::path db = dir / "floorwatch.db";
    config_text =
        std::regex_replace(config_text, std::regex("build/demo/floorwatch.db"), db.string());
    // The demo's MQTT part: a broker of the test's own instead of the demo's on port 18830.
    fw::test::Mosquitto broker(dir.path());
    config_text =
        std::regex_replace(config_text, std::regex("tcp://127.0.0.1:18830"), broker.uri());
    const fs::path config = dir / "floorwatch.yaml";
    write_text_file(config, config_text);
    Daemon daemon = start_daemon(dir, config);

    const std::vector<std::string> channels{
        "press1.vibration",    "press1.bearing_temp", "press1.running",     "press2.vibration",
        "press2.bearing_temp", "press2.running",      "press3.vibration",   "press3.bearing_temp",
        "press3.running",      "pump1.vibration",     "pump1.bearing_temp", "pump1.speed",
        "pump2.vibration",     "pump2.bearing_temp",  "pump2.speed"};
    CHECK_MESSAGE(eventually(
                      [&] {
                          for (const auto& channel : channels) {
                              if (!has_good_sample(db, channel)) return false;
                          }
                          return true;
                      },
                      20s),
                  read_text_file(daemon.log));
    for (const auto& channel : channels) CHECK_MESSAGE(has_good_sample(db, channel), channel);
    CHECK_MESSAGE(eventually(
                      [&] {
                          broker.publish("plant/stamping/press-4/vibration", "2.5");
                          return has_good_sample(db, "press-4.vibration");
                      },
                      20s),
                  read_text_file(daemon.log));
    const auto speed = samples_of(db, "pump2.speed").back().value;
    REQUIRE(speed.has_value());
    CHECK(*speed == 1480.0);
    daemon.process.send_signal(SIGTERM);
    CHECK(daemon.process.wait_exit(5s) == 0);
}

TEST_CASE("under systemd the daemon notifies READY, STATUS and pets the watchdog from its core") {
    TempDir dir("fw-notify");
    Sim sim = start_sim(dir, "sim", kTypesSim);
    const fs::path db = dir / "floorwatch.db";
    const fs::path config = dir / "floorwatch.yaml";
    write_text_file(config, daemon_config(db, tcp_bus("line1", sim.port, kTypesDevice)));

    // What systemd does: a datagram socket named in NOTIFY_SOCKET, and WATCHDOG_USEC.
    const fs::path notify_path = dir / "notify.sock";
    const int notify_socket = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(notify_socket >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", notify_path.c_str());
    REQUIRE(::bind(notify_socket, reinterpret_cast<const sockaddr*>(&address), sizeof address) ==
            0);
    timeval receive_timeout{.tv_sec = 0, .tv_usec = 200000};
    ::setsockopt(notify_socket, SOL_SOCKET, SO_RCVTIMEO, &receive_timeout, sizeof receive_timeout);

    auto options = logs_to(dir / "floorwatchd.log", dir / "floorwatchd.log");
    options.environment = {"NOTIFY_SOCKET=" + notify_path.string(), "WATCHDOG_USEC=400000"};
    auto daemon = ChildProcess::spawn(FW_DAEMON_BINARY, {"--config", config.string()}, options);

    std::vector<std::string> messages;
    int watchdog_pets = 0;
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    bool ready = false;
    bool status = false;
    while (std::chrono::steady_clock::now() < deadline &&
           !(ready && status && watchdog_pets >= 3)) {
        char buffer[1024];
        const ssize_t length = ::recv(notify_socket, buffer, sizeof buffer, 0);
        if (length <= 0) continue;
        const std::string message(buffer, static_cast<std::size_t>(length));
        ready = ready || message.find("READY=1") != std::string::npos;
        status = status || message.find("STATUS=") != std::string::npos;
        if (message.find("WATCHDOG=1") != std::string::npos) ++watchdog_pets;
    }
    CHECK(ready);
    CHECK(status);  // sent every 10 s with device and sample counts
    CHECK(watchdog_pets >= 3);

    daemon.send_signal(SIGTERM);
    bool stopping = false;
    for (int i = 0; i < 25 && !stopping; ++i) {
        char buffer[1024];
        const ssize_t length = ::recv(notify_socket, buffer, sizeof buffer, 0);
        if (length > 0) {
            stopping = std::string(buffer, static_cast<std::size_t>(length)).find("STOPPING=1") !=
                       std::string::npos;
        }
    }
    CHECK(stopping);
    CHECK(daemon.wait_exit(5s) == 0);
    ::close(notify_socket);
}
