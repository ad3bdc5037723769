// The demo (scripts/demo.sh) end to end: examples/demo's configs as they are, except for free
// ports and paths inside a temporary folder; the line's simulator on Modbus TCP, the pumps'
// simulator on Modbus RTU over a socat pty pair, a Mosquitto with the MQTT simulator publishing
// to it, and the daemon. Press-2's vibration profile drifts into zone C about a minute in: its
// alarm must open an order, which the people of the demo config then walk to closed as
// demo.sh does, each under their own uid.

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/daemon_harness.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/mosquitto.hpp"
#include "tests/support/process.hpp"
#include "tests/support/web_harness.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using fw::test::ChildProcess;
using fw::test::eventually;
using fw::test::read_text_file;
using fw::test::RunResult;
using fw::test::TempDir;
using fw::test::write_text_file;

namespace {

// The demo config's people (workflow.users): the operator is the test's own uid.
constexpr int kOperator = 0;  // reporter, team_lead
constexpr int kAnna = 64002;  // safety
constexpr int kMax = 64003;   // manager
constexpr int kTom = 64004;   // technician

std::string demo_file(const std::string& name) {
    const char* source = std::getenv("FW_SOURCE_DIR");
    REQUIRE_MESSAGE(source != nullptr, "FW_SOURCE_DIR is not set; run the test through ctest");
    std::string text = read_text_file(fs::path(source) / "examples/demo" / name);
    REQUIRE_MESSAGE(!text.empty(), "cannot read examples/demo/" << name);
    return text;
}

// Replaces the one occurrence of `from`; a demo config that no longer has it fails the test, so
// it cannot silently run against the demo's fixed ports and paths.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, "the demo config no longer has '" << from << "'");
    REQUIRE_MESSAGE(text.find(from, at + 1) == std::string::npos, "'" << from << "' twice");
    return text.replace(at, from.size(), to);
}

// The CLI as one of the demo's people, the way demo.sh runs it: others through setpriv, in
// group root so that they reach the 0660 control socket. `config`: the gateway's, or
// "central.yaml" for the centre.
RunResult as(const TempDir& dir, int uid, std::vector<std::string> args,
             const std::string& config = "floorwatch.yaml") {
    args.push_back("--config");
    args.push_back((dir / config).string());
    if (uid == kOperator) return fw::test::run(dir, FW_CLI_BINARY, args);
    return fw::test::run_as(dir, uid, 0, FW_CLI_BINARY, args);
}

void act(const TempDir& dir, int uid, const std::vector<std::string>& args,
         const std::string& config = "floorwatch.yaml") {
    const auto done = as(dir, uid, args, config);
    REQUIRE_MESSAGE(done.exit_code == 0, done.err);
}

// An action that can only succeed once sync has carried something across: tried until it does.
void act_once_synced(const TempDir& dir, int uid, const std::vector<std::string>& args,
                     const std::string& config = "floorwatch.yaml") {
    RunResult last;
    const bool done = eventually(
        [&] {
            last = as(dir, uid, args, config);
            return last.exit_code == 0;
        },
        30s);
    REQUIRE_MESSAGE(done, last.err);
}

// The gateway's row of `floorwatch sync --json` (the centre), or null when it cannot be read.
json::value sync_row(const TempDir& dir) {
    const auto shown = as(dir, kOperator, {"sync", "--json"});
    if (shown.exit_code != 0) return nullptr;
    return json::parse(shown.out).as_array().at(0);
}

// Events the gateway's store holds that the centre has not acknowledged, or -1.
std::int64_t sync_backlog(const TempDir& dir) {
    const auto row = sync_row(dir);
    return row.is_null() ? -1 : row.at("backlog").as_int64();
}

// Whether the running daemon says its link to the centre is up (the sync.status command).
bool sync_connected(const TempDir& dir) {
    const auto row = sync_row(dir);
    return !row.is_null() && row.at("link").is_object() &&
           row.at("link").at("connected").as_bool() && row.at("link").at("welcomed").as_bool();
}

// The order's timeline steps as `floorwatch orders show --json` lists them, occurrences left out
// (press-2's profile repeats: a second activation meanwhile is an occurrence).
std::vector<std::string> timeline_steps(const json::value& order) {
    std::vector<std::string> steps;
    for (const auto& event : order.at("timeline").as_array()) {
        const std::string type(event.at("type").as_string());
        if (type != "occurred") steps.push_back(type);
    }
    return steps;
}

// The number of the order press-2's vibration rule opened, or "".
std::string press2_order(const TempDir& dir) {
    const auto listed = as(dir, kOperator, {"orders", "list", "--all", "--json"});
    if (listed.exit_code != 0) return "";
    const json::value orders = json::parse(listed.out);
    for (const auto& order : orders.as_array()) {
        const auto* rule = order.at("source").as_object().if_contains("rule_id");
        if (rule != nullptr && rule->as_string() == "press2-vibration") {
            return std::string(order.at("number").as_string());
        }
    }
    return "";
}

}  // namespace

TEST_CASE(
    "the demo: press-2's alarm opens an order that the demo's people walk to closed, on the "
    "floor and from the office, across a broker outage") {
    TempDir dir("fw-demo");
    // The demo's people reach the socket and read the config inside the test folder.
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec);

    // As demo.sh starts them: the RS-485 pty pair, both Modbus simulators, the broker, the MQTT
    // simulator.
    auto socat = fw::test::start_pty_pair(dir, dir / "pumps-sim", dir / "pumps");
    auto line1 = fw::test::start_sim(
        dir, "line1",
        replaced(demo_file("line1-sim.yaml"), "tcp: {host: 127.0.0.1, port: 15020}",
                 "tcp: {host: 127.0.0.1, port: 0}"));
    REQUIRE(line1.port != 0);
    auto pumps =
        fw::test::start_sim(dir, "pumps",
                            replaced(demo_file("pumps-sim.yaml"), "device: build/demo/pumps-sim",
                                     "device: " + (dir / "pumps-sim").string()));
    fw::test::Mosquitto broker(dir.path());
    write_text_file(dir / "mqtt-sim.yaml", demo_file("mqtt-sim.yaml"));
    auto mqtt_sim =
        ChildProcess::spawn(FW_MQTT_SIM_BINARY,
                            {"--config", (dir / "mqtt-sim.yaml").string(), "--broker", broker.uri(),
                             "--ready-file", (dir / "mqtt-sim.ready").string()},
                            fw::test::logs_to(dir / "mqtt-sim.log", dir / "mqtt-sim.log"));
    REQUIRE_MESSAGE(fw::test::wait_for_file(dir / "mqtt-sim.ready", 10s, &mqtt_sim),
                    read_text_file(dir / "mqtt-sim.log"));

    std::string config = demo_file("floorwatch.yaml");
    config = replaced(config, "path: build/demo/floorwatch.db",
                      "path: " + (dir / "floorwatch.db").string());
    config = replaced(config, "socket: build/demo/control.sock",
                      "socket: " + (dir / "control.sock").string());
    config = replaced(config, "port: 15020", "port: " + std::to_string(line1.port));
    config = replaced(config, "device: build/demo/pumps ", "device: " + (dir / "pumps").string());
    config = replaced(config, "uri: tcp://127.0.0.1:18830", "uri: " + broker.uri());
    config = replaced(config, "uri: 'tcp://127.0.0.1:18830'", "uri: '" + broker.uri() + "'");
    write_text_file(dir / "floorwatch.yaml", config);

    // The centre beside it, as demo.sh starts it first (examples/demo/central.yaml).
    std::string central_config = demo_file("central.yaml");
    central_config = replaced(central_config, "path: build/demo/central.db",
                              "path: " + (dir / "central.db").string());
    central_config = replaced(central_config, "socket: build/demo/central.sock",
                              "socket: " + (dir / "central.sock").string());
    central_config =
        replaced(central_config, "uri: 'tcp://127.0.0.1:18830'", "uri: '" + broker.uri() + "'");
    central_config =
        replaced(central_config, "listen: ['127.0.0.1:8081']", "listen: ['127.0.0.1:0']");
    write_text_file(dir / "central.yaml", central_config);
    auto central = fw::test::start_daemon(dir, dir / "central.yaml", "central.log");
    const auto checked = fw::test::run(dir, FW_DAEMON_BINARY,
                                       {"--check-config", (dir / "floorwatch.yaml").string()});
    REQUIRE_MESSAGE(checked.exit_code == 0, checked.out << checked.err);
    auto daemon = fw::test::start_daemon(dir, dir / "floorwatch.yaml");

    // Press-2 drifts from zone B (2.0 mm/s) into C (above 2.8) after about 60 s; with the
    // template's 10 s on-delay the alarm activates and opens an order.
    std::string number;
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            number = press2_order(dir);
                            return !number.empty();
                        },
                        150s),
                    read_text_file(daemon.log));
    CHECK(number.starts_with("PRS-"));
    const auto history =
        as(dir, kOperator, {"alarms", "history", "--rule", "press2-vibration", "--json"});
    CHECK(history.out.find(R"("action":"activate")") != std::string::npos);

    // Every part of the demo plant reached the store: TCP, RTU and MQTT channels.
    const auto channels = as(dir, kOperator, {"channels", "--json"});
    REQUIRE_MESSAGE(channels.exit_code == 0, channels.err);
    for (const std::string channel :
         {"press2.vibration", "pump1.bearing_temp", "press-4.vibration"}) {
        CHECK_MESSAGE(channels.out.find("\"" + channel + "\"") != std::string::npos, channel);
    }

    // demo.sh's walk: three approvals of a high-risk order, assignment, a submission with a
    // photo, a rejection, a resubmission, acceptance.
    write_text_file(dir / "evidence.png", std::string("\x89PNG\r\n\x1a\n", 8) + "demo evidence");
    const std::string photo = (dir / "evidence.png").string();
    act(dir, kOperator, {"orders", "act", number, "approve"});
    act(dir, kAnna, {"orders", "act", number, "approve"});
    // Max approves from the office: on the centre, once the order has reached it; the operator's
    // assignment on the floor succeeds once that approval has come down.
    act_once_synced(dir, kMax, {"orders", "act", number, "approve"}, "central.yaml");
    act_once_synced(dir, kOperator,
                    {"orders", "act", number, "assign", "--assignee", "tom", "--deadline", "2h"});
    // The broker goes down: the floor keeps working, the backlog waits.
    broker.stop();
    act(dir, kTom,
        {"orders", "act", number, "submit", "--note", "mounting bolts replaced", "--photo", photo});
    act(dir, kAnna, {"orders", "act", number, "reject", "--reason", "bolts not torqued to spec"});
    CHECK(sync_backlog(dir) >= 2);
    // The daemon hears of the loss from its MQTT client, a moment after the broker went.
    json::value down;
    CHECK(eventually(
        [&] {
            down = sync_row(dir);
            return !down.is_null() && down.at("link").at("connected") == false;
        },
        15s));
    CHECK(std::string(down.at("link_text").as_string()).starts_with("not connected to tcp://"));
    broker.start();
    act(dir, kTom,
        {"orders", "act", number, "submit", "--note", "torqued to 80 Nm", "--photo", photo});
    act(dir, kMax, {"orders", "act", number, "accept", "--note", "checked on site"});

    const auto shown = as(dir, kOperator, {"orders", "show", number, "--json"});
    REQUIRE_MESSAGE(shown.exit_code == 0, shown.err);
    const json::value order = json::parse(shown.out);
    CHECK(order.at("status").as_string() == "closed");
    CHECK(order.at("risk").as_string() == "high");
    const std::vector<std::string> walk{"reported", "approved",  "approved",
                                        "approved", "assigned",  "submitted",
                                        "rejected", "submitted", "accepted"};
    CHECK(timeline_steps(order) == walk);
    const auto verified = as(dir, kOperator, {"verify"});
    CHECK_MESSAGE(verified.exit_code == 0, verified.out);

    // The centre converges on the same order once the backlog has drained: closed, the same
    // steps, every hash chain verified there too.
    json::value central_order;
    const bool converged = eventually(
        [&] {
            if (sync_backlog(dir) != 0 || !sync_connected(dir)) return false;
            const auto there =
                as(dir, kOperator, {"orders", "show", number, "--json"}, "central.yaml");
            if (there.exit_code != 0) return false;
            central_order = json::parse(there.out);
            return central_order.at("status").as_string() == "closed";
        },
        60s);
    REQUIRE_MESSAGE(converged, read_text_file(dir / "central.log"));
    CHECK(timeline_steps(central_order) == walk);
    const auto central_verified = as(dir, kOperator, {"verify"}, "central.yaml");
    CHECK_MESSAGE(central_verified.exit_code == 0, central_verified.out);

    // The office's page on the centre shows the same order, closed, and the gateway it came from.
    fw::test::set_password(dir, dir / "central.yaml", "max", "max-demo");
    fw::test::HttpClient office(fw::test::web_port(dir / "central.log"));
    REQUIRE(office.login("max", "max-demo").status == 200);
    const auto listed = office.get("/api/v1/orders?q=" + number).json();
    REQUIRE(listed.at("orders").as_array().size() == 1);
    const auto& row = listed.at("orders").as_array().front();
    CHECK(row.at("status") == "closed");
    CHECK(row.at("gateway") == "demo-plant.gw-stamping-1");
    const auto gateways = office.get("/api/v1/sync").json().at("gateways").as_array();
    REQUIRE(gateways.size() == 1);
    CHECK(gateways.front().at("backlog") == 0);
    // Quiet now, the gateway still says it is there (its down ack repeated once per ack timeout).
    CHECK(gateways.front().at("connected") == true);

    CHECK(daemon.process.stop(30s) == 0);
    CHECK(central.process.stop(30s) == 0);
}
