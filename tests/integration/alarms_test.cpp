// Alarms end to end: the simulator moves a press's vibration through ISO 10816 zones and silences
// a device; the real daemon must store exactly the expected alarm events in SQLite, take operator
// commands from the CLI over its control socket, and keep alarm state across restarts (clean and
// kill -9) without losing or repeating an event.

#include <doctest/doctest.h>
#include <signal.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/daemon_harness.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using fw::test::eventually;
using fw::test::read_text_file;
using fw::test::RunResult;
using fw::test::Sim;
using fw::test::TempDir;
using fw::test::write_text_file;

namespace {

// press-1's vibration is pinned by the test; press-2 answers until the test silences it.
const std::string kSim = R"(tcp: {host: 127.0.0.1, port: 0}
devices:
  - name: press-1
    unit_id: 1
    values:
      - {table: input_register, address: 0, type: float32, profile: {kind: constant, value: 2.0}}
      - {table: coil, address: 0, type: bool, profile: {kind: constant, value: 1}}
  - name: press-2
    unit_id: 2
    values:
      - {table: input_register, address: 0, type: float32, profile: {kind: sine, mean: 1.0, amplitude: 0.2, period: 5s}}
)";

std::string config_for(const fs::path& dir, std::uint16_t port, const std::string& extra = "") {
    const std::string devices = R"(        - name: press-1-sensors
          unit_id: 1
          poll_interval: 200ms
          timeout: 300ms
          points:
            - {channel: press1.vibration, equipment: press-1, table: input_register, address: 0, type: float32, unit: mm/s}
            - {channel: press1.running, equipment: press-1, table: coil, address: 0}
        - name: press-2-sensors
          unit_id: 2
          poll_interval: 200ms
          timeout: 300ms
          points:
            - {channel: press2.vibration, equipment: press-2, table: input_register, address: 0, type: float32, unit: mm/s}
)";
    return fw::test::daemon_config(dir / "fw.db", fw::test::tcp_bus("line1", port, devices)) +
           "control: {socket: " + (dir / "control.sock").string() + ", mode: '0600'}\n" +
           R"(rules:
  - id: press1-vibration
    kind: threshold
    channel: press1.vibration
    limits: [{above: 2.8, severity: warning}, {above: 4.5, severity: alarm}]
    deadband: 0.2
    on_delay: 1s
    off_delay: 1s
    suppress_when: {channel: press1.running, below: 0.5}
  - id: press2-sensor
    kind: health
    channel: press2.vibration
    stale_after: 2s
    severity: alarm
)" + extra;
}

struct AlarmRow {
    std::string rule;
    std::string equipment;
    std::string action;
    std::string from;
    std::string to;
    std::string severity;
    std::string detail;
    std::string actor;
    double value = 0;
};

std::vector<AlarmRow> alarm_events(const fs::path& db) {
    std::vector<AlarmRow> rows;
    sqlite3* handle = nullptr;
    if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(handle);
        return rows;
    }
    sqlite3_stmt* query = nullptr;
    if (sqlite3_prepare_v2(handle,
                           "SELECT rule_id, equipment, action, from_state, to_state, severity, "
                           "detail, actor, coalesce(value, 0) FROM alarm_events ORDER BY id",
                           -1, &query, nullptr) == SQLITE_OK) {
        const auto text = [&](int column) {
            const auto* value = sqlite3_column_text(query, column);
            return value != nullptr ? std::string(reinterpret_cast<const char*>(value)) : "";
        };
        while (sqlite3_step(query) == SQLITE_ROW) {
            rows.push_back({text(0), text(1), text(2), text(3), text(4), text(5), text(6), text(7),
                            sqlite3_column_double(query, 8)});
        }
    }
    sqlite3_finalize(query);
    sqlite3_close(handle);
    return rows;
}

std::vector<AlarmRow> events_of(const fs::path& db, const std::string& rule) {
    std::vector<AlarmRow> rows;
    for (auto& row : alarm_events(db)) {
        if (row.rule == rule) rows.push_back(std::move(row));
    }
    return rows;
}

std::string describe(const std::vector<AlarmRow>& rows) {
    std::string text;
    for (const auto& row : rows) {
        text += row.rule + " " + row.equipment + " " + row.action + " " + row.from + "->" + row.to +
                " " + row.severity + " " + row.detail + " " + row.actor + "\n";
    }
    return text;
}

RunResult cli(const TempDir& dir, std::vector<std::string> args) {
    args.push_back("--config");
    args.push_back((dir / "fw.yaml").string());
    return fw::test::run(dir, FW_CLI_BINARY, args);
}

bool has_event(const fs::path& db, const std::string& rule, const std::string& action) {
    for (const auto& row : events_of(db, rule)) {
        if (row.action == action) return true;
    }
    return false;
}

std::string alarm_state(const TempDir& dir, const std::string& rule) {
    const auto listed = cli(dir, {"alarms", "--all", "--json"});
    if (listed.exit_code != 0) return "cli failed: " + listed.err;
    const boost::json::value alarms = boost::json::parse(listed.out);
    for (const auto& alarm : alarms.as_array()) {
        if (alarm.at("rule").as_string() == rule) {
            return std::string(alarm.at("state").as_string());
        }
    }
    return "missing";
}

}  // namespace

TEST_CASE("zone B -> C -> D and a silent device raise exactly the expected alarms") {
    TempDir dir("alarms-e2e");
    Sim sim = fw::test::start_sim(dir, "line1", kSim);
    write_text_file(dir / "fw.yaml", config_for(dir.path(), sim.port));
    auto daemon = fw::test::start_daemon(dir, dir / "fw.yaml");
    const fs::path db = dir / "fw.db";

    // Zone B for a while: nothing.
    std::this_thread::sleep_for(1500ms);
    CHECK(events_of(db, "press1-vibration").empty());

    // Zone C: a warning after the 1 s on-delay.
    REQUIRE(fw::test::sim_control(sim, {"value", "press-1", "input_register", "0", "3.5"}) == 0);
    REQUIRE_MESSAGE(eventually([&] { return has_event(db, "press1-vibration", "activate"); }, 10s),
                    read_text_file(daemon.log));
    // Zone D: the same alarm becomes an alarm-severity one.
    REQUIRE(fw::test::sim_control(sim, {"value", "press-1", "input_register", "0", "5.2"}) == 0);
    REQUIRE(eventually([&] { return has_event(db, "press1-vibration", "severity_change"); }, 10s));

    // The operator acknowledges through the CLI; the reply comes once it is durable.
    const auto acked = cli(dir, {"alarm", "ack", "press1-vibration", "press-1"});
    CHECK_MESSAGE(acked.exit_code == 0, acked.err);
    CHECK(acked.out.find("ack_active") != std::string::npos);
    CHECK(has_event(db, "press1-vibration", "acknowledge"));
    // A second acknowledgement is refused with the reason, and changes nothing.
    const auto again = cli(dir, {"alarm", "ack", "press1-vibration", "press-1"});
    CHECK(again.exit_code == 1);
    CHECK(again.err.find("nothing to acknowledge") != std::string::npos);

    // press-2 stops answering: its health rule reports it (a dead sensor is never "fine").
    REQUIRE(fw::test::sim_control(sim, {"fault", "press-2", "no_reply"}) == 0);
    REQUIRE(eventually([&] { return has_event(db, "press2-sensor", "activate"); }, 15s));

    // Back to zone B: the acknowledged alarm clears to normal after the off-delay.
    REQUIRE(fw::test::sim_control(sim, {"value", "press-1", "input_register", "0", "2.0"}) == 0);
    REQUIRE(eventually([&] { return has_event(db, "press1-vibration", "clear"); }, 10s));

    const auto press1 = events_of(db, "press1-vibration");
    INFO(describe(alarm_events(db)));
    REQUIRE(press1.size() == 4);
    CHECK(press1[0].action == "activate");
    CHECK(press1[0].from == "normal");
    CHECK(press1[0].to == "unack_active");
    CHECK(press1[0].severity == "warning");
    CHECK(press1[0].value == doctest::Approx(3.5));
    CHECK(press1[0].detail == "above 2.8");
    CHECK(press1[1].action == "severity_change");
    CHECK(press1[1].severity == "alarm");
    CHECK(press1[1].value == doctest::Approx(5.2));
    CHECK(press1[2].action == "acknowledge");
    CHECK(press1[2].to == "ack_active");
    CHECK(press1[2].actor == "root");
    CHECK(press1[3].action == "clear");
    CHECK(press1[3].to == "normal");

    const auto press2 = events_of(db, "press2-sensor");
    REQUIRE(press2.size() == 1);
    CHECK(press2[0].equipment == "press-2");
    CHECK(press2[0].to == "unack_active");
    CHECK(press2[0].detail.starts_with("stale"));
    // Nothing else was raised.
    CHECK(alarm_events(db).size() == 5);

    // The CLI lists what is not normal, and the history in order.
    const auto listed = cli(dir, {"alarms"});
    CHECK(listed.exit_code == 0);
    CHECK(listed.out.find("press2-sensor") != std::string::npos);
    CHECK(listed.out.find("press1-vibration") == std::string::npos);
    const auto history = cli(dir, {"alarms", "history", "--rule", "press1-vibration", "--json"});
    CHECK(history.exit_code == 0);
    CHECK(std::count(history.out.begin(), history.out.end(), '\n') == 4);

    daemon.process.send_signal(SIGTERM);
    CHECK(daemon.process.wait_exit(15s) == 0);
}

TEST_CASE("alarm state survives a clean restart and kill -9 without repeating an event") {
    TempDir dir("alarms-restart");
    Sim sim = fw::test::start_sim(dir, "line1", kSim);
    write_text_file(dir / "fw.yaml", config_for(dir.path(), sim.port));
    const fs::path db = dir / "fw.db";
    {
        auto daemon = fw::test::start_daemon(dir, dir / "fw.yaml");
        REQUIRE(fw::test::sim_control(sim, {"value", "press-1", "input_register", "0", "3.5"}) ==
                0);
        REQUIRE(eventually([&] { return has_event(db, "press1-vibration", "activate"); }, 10s));
        daemon.process.send_signal(SIGTERM);
        REQUIRE(daemon.process.wait_exit(15s) == 0);
    }
    {
        auto daemon = fw::test::start_daemon(dir, dir / "fw.yaml");
        std::this_thread::sleep_for(2500ms);  // on-delay and several ticks with the value high
        CHECK(alarm_state(dir, "press1-vibration") == "unack_active");
        const auto acked = cli(dir, {"alarm", "ack", "press1-vibration", "press-1"});
        REQUIRE_MESSAGE(acked.exit_code == 0, acked.err);
        // Acknowledged means durable: kill -9 right after the reply.
        daemon.process.send_signal(SIGKILL);
        daemon.process.wait_exit(10s);
    }
    {
        auto daemon = fw::test::start_daemon(dir, dir / "fw.yaml");
        std::this_thread::sleep_for(2500ms);
        CHECK(alarm_state(dir, "press1-vibration") == "ack_active");
        daemon.process.send_signal(SIGTERM);
        CHECK(daemon.process.wait_exit(15s) == 0);
    }
    const auto press1 = events_of(db, "press1-vibration");
    INFO(describe(press1));
    REQUIRE(press1.size() == 2);
    CHECK(press1[0].action == "activate");
    CHECK(press1[1].action == "acknowledge");
}

TEST_CASE("operator commands: shelve, refusals, service state, and who may do what") {
    TempDir dir("alarms-operator");
    Sim sim = fw::test::start_sim(dir, "line1", kSim);
    write_text_file(dir / "fw.yaml", config_for(dir.path(), sim.port));
    const fs::path db = dir / "fw.db";
    auto daemon = fw::test::start_daemon(dir, dir / "fw.yaml");
    REQUIRE(fw::test::sim_control(sim, {"value", "press-1", "input_register", "0", "3.5"}) == 0);
    REQUIRE(eventually([&] { return has_event(db, "press1-vibration", "activate"); }, 10s));

    SUBCASE("shelving needs a duration and a reason; it is recorded with both") {
        const auto no_duration = cli(dir, {"alarm", "shelve", "press1-vibration", "press-1"});
        CHECK(no_duration.exit_code == 2);
        CHECK(no_duration.err.find("--for") != std::string::npos);
        const auto shelved = cli(dir, {"alarm", "shelve", "press1-vibration", "press-1", "--for",
                                       "1h", "--reason", "sensor being replaced", "--json"});
        REQUIRE_MESSAGE(shelved.exit_code == 0, shelved.err);
        const auto alarm = boost::json::parse(shelved.out).as_object();
        CHECK(alarm.at("state").as_string() == "shelved");
        CHECK(alarm.at("reason").as_string() == "sensor being replaced");
        CHECK(alarm_state(dir, "press1-vibration") == "shelved");
        const auto unshelved = cli(dir, {"alarm", "unshelve", "press1-vibration", "press-1"});
        CHECK(unshelved.exit_code == 0);
        // Leaving the shelf shows the alarm as it is: still active, to be acknowledged again.
        CHECK(alarm_state(dir, "press1-vibration") == "unack_active");
    }
    SUBCASE("out of service and back") {
        const auto disabled = cli(dir, {"alarm", "disable", "press1-vibration", "press-1",
                                        "--reason", "press rebuilt this week"});
        CHECK_MESSAGE(disabled.exit_code == 0, disabled.err);
        CHECK(alarm_state(dir, "press1-vibration") == "out_of_service");
        const auto refused = cli(dir, {"alarm", "ack", "press1-vibration", "press-1"});
        CHECK(refused.exit_code == 1);
        CHECK(cli(dir, {"alarm", "enable", "press1-vibration", "press-1"}).exit_code == 0);
        CHECK(alarm_state(dir, "press1-vibration") == "unack_active");
    }
    SUBCASE("unknown alarms and a daemon that is not there give clear errors") {
        const auto unknown = cli(dir, {"alarm", "ack", "no-such-rule", "press-1"});
        CHECK(unknown.exit_code == 1);
        CHECK(unknown.err.find("no-such-rule") != std::string::npos);
        const auto no_daemon = fw::test::run(dir, FW_CLI_BINARY,
                                             {"alarm", "ack", "press1-vibration", "press-1",
                                              "--socket", (dir / "nope.sock").string()});
        CHECK(no_daemon.exit_code == 1);
        CHECK(no_daemon.err.find("nope.sock") != std::string::npos);
    }
    SUBCASE("with workflow users, a technician may acknowledge but not shelve") {
        write_text_file(dir / "fw.yaml",
                        config_for(dir.path(), sim.port,
                                   "workflow:\n  users:\n    - {name: tom, uid: 0, roles: "
                                   "technician}\n"));
        daemon.process.send_signal(SIGHUP);
        REQUIRE(eventually(
            [&] { return read_text_file(daemon.log).find("rules reloaded") != std::string::npos; },
            10s));
        const auto shelve = cli(dir, {"alarm", "shelve", "press1-vibration", "press-1", "--for",
                                      "1h", "--reason", "annoying"});
        CHECK(shelve.exit_code == 1);
        CHECK(shelve.err.find("tom may not shelve") != std::string::npos);
        const auto ack = cli(dir, {"alarm", "ack", "press1-vibration", "press-1"});
        CHECK_MESSAGE(ack.exit_code == 0, ack.err);
        CHECK(events_of(db, "press1-vibration").back().actor == "tom");
    }
    daemon.process.send_signal(SIGTERM);
    CHECK(daemon.process.wait_exit(15s) == 0);
}
