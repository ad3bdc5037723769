// Sync security and clocks with real processes throughout: floorwatchd as a gateway and as the
// centre (role: central, SQLite), a real Mosquitto, the real CLI.
//
// 1. The broker's ACL per client certificate, the very file shipped in examples/mosquitto: with
//    certificates made by openssl here, gw-1 syncs with the centre; gw-1's certificate cannot
//    publish on gw-2's up topic (the broker drops it; the centre never hears of it) nor read
//    gw-2's down topic; on its own topic a forged origin passes the broker and the centre
//    quarantines it as forged.
// 2. A gateway whose clock starts at 1970 (libfaketime; no real-time clock) raises orders, then
//    its clock is set right while it runs, as NTP does: the centre gets every event, the 1970
//    ones marked unsynchronised, and no duration, age or deadline on either side is negative or
//    fifty years long.

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/core/time.hpp"
#include "daemon/sync/protocol.hpp"
#include "daemon/workflow/commands.hpp"
#include "daemon/workflow/event.hpp"
#include "daemon/workflow/hlc.hpp"
#include "daemon/workflow/order.hpp"
#include "tests/support/daemon_harness.hpp"
#include "tests/support/mosquitto.hpp"
#include "tests/support/process.hpp"

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

constexpr std::int64_t kHourMs = 3600LL * 1000;
constexpr std::int64_t kDayMs = 24 * kHourMs;

fs::path source_dir() {
    const char* source = std::getenv("FW_SOURCE_DIR");
    REQUIRE_MESSAGE(source != nullptr, "FW_SOURCE_DIR is not set; run the test through ctest");
    return source;
}

// The test folder readable by the uids the CLI runs as (setpriv), as in sync_test.cpp.
void open_to_other_uids(const TempDir& dir) {
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec);
}

std::string users_yaml() {
    return "  users:\n"
           "    - {name: rita, uid: 0, roles: reporter}\n"
           "    - {name: sam, uid: 1001, roles: team_lead}\n"
           "    - {name: sara, uid: 1002, roles: safety}\n"
           "    - {name: max, uid: 1003, roles: manager}\n"
           "    - {name: tom, uid: 1004, roles: technician}\n";
}

// `name`.yaml of a gateway of site test-plant; `broker` is the inside of sync.broker's braces.
std::string gateway_config(const TempDir& dir, const std::string& name, const std::string& node,
                           const std::string& broker) {
    return "gateway: {site: test-plant, node: " + node +
           ", log_level: debug}\n"
           "store: {path: " +
           (dir / (name + ".db")).string() +
           ", commit_interval: 50ms}\n"
           "control: {socket: " +
           (dir / (name + ".sock")).string() +
           ", mode: '0666'}\n"
           "equipment:\n  - {id: press-1, area: stamping}\n"
           "workflow:\n"
           "  prefixes: [{area: stamping, prefix: PRS}]\n" +
           users_yaml() +
           "sync:\n"
           "  broker: {" +
           broker +
           ", reconnect_min: 100ms, reconnect_max: 500ms}\n"
           "  ack_timeout: 1s\n";
}

std::string central_config(const TempDir& dir, const std::string& broker) {
    return fw::test::central_test_config(dir.path(), broker, users_yaml());
}

// The CLI against the store of `name`.yaml, as uid 0 or another uid through setpriv.
RunResult cli_as(const TempDir& dir, const std::string& name, int uid,
                 std::vector<std::string> args) {
    args.push_back("--config");
    args.push_back((dir / (name + ".yaml")).string());
    if (uid == 0) return fw::test::run(dir, FW_CLI_BINARY, args);
    std::vector<std::string> wrapped{"--reuid=" + std::to_string(uid),
                                     "--regid=" + std::to_string(uid), "--clear-groups",
                                     FW_CLI_BINARY};
    wrapped.insert(wrapped.end(), args.begin(), args.end());
    return fw::test::run(dir, "/usr/bin/setpriv", wrapped);
}

json::value cli_json(const TempDir& dir, const std::string& name, std::vector<std::string> args) {
    args.push_back("--json");
    const auto done = cli_as(dir, name, 0, args);
    REQUIRE_MESSAGE(done.exit_code == 0, done.err);
    return json::parse(done.out);
}

std::uint64_t field(const json::object& object, const char* key) {
    return object.at(key).to_number<std::uint64_t>();
}

std::int64_t signed_field(const json::object& object, const char* key) {
    return object.at(key).to_number<std::int64_t>();
}

// The gateway's own sync state (`floorwatch sync --json`, first peer).
json::object gateway_sync(const TempDir& dir, const std::string& name) {
    return cli_json(dir, name, {"sync"}).as_array().at(0).as_object();
}

// Every event written is acknowledged by the centre.
bool drained(const TempDir& dir, const std::string& name) {
    const auto state = gateway_sync(dir, name);
    return field(state, "backlog") == 0 &&
           field(state, "acked") + 1 == field(state, "next_sequence");
}

// The centre's row of `gateway` in `floorwatch sync --json`; null when it never heard of it.
json::value central_row(const TempDir& dir, const std::string& gateway) {
    const auto rows = cli_json(dir, "central", {"sync"});
    for (const auto& row : rows.as_array()) {
        if (row.as_object().at("gateway").as_string() == gateway) return row;
    }
    return nullptr;
}

fw::test::Daemon spawn_daemon(const TempDir& dir, const std::string& name,
                              const std::vector<std::string>& environment = {}) {
    fw::test::Daemon daemon;
    daemon.log = dir / (name + ".log");
    auto options = fw::test::logs_to(daemon.log, daemon.log);
    options.environment = environment;
    daemon.process = ChildProcess::spawn(FW_DAEMON_BINARY,
                                         {"--config", (dir / (name + ".yaml")).string()}, options);
    REQUIRE_MESSAGE(eventually([&] { return fs::exists(dir / (name + ".sock")); }, 15s),
                    read_text_file(daemon.log));
    return daemon;
}

std::string report(const TempDir& dir, const std::string& name, const std::string& description,
                   const std::string& risk = "medium") {
    const auto done = cli_as(dir, name, 0,
                             {"report", "--type", "guarding", "--equipment", "press-1", "--risk",
                              risk, "--description", description, "--json"});
    REQUIRE_MESSAGE(done.exit_code == 0, done.err);
    return std::string(json::parse(done.out).at("order").at("id").as_string());
}

void act(const TempDir& dir, const std::string& name, int uid, std::vector<std::string> args) {
    const auto done = cli_as(dir, name, uid, std::move(args));
    REQUIRE_MESSAGE(done.exit_code == 0, done.out << done.err);
}

// ---- certificates ----

void openssl(const TempDir& dir, const std::vector<std::string>& args) {
    auto child = ChildProcess::spawn("/usr/bin/openssl", args,
                                     fw::test::logs_to(dir / "openssl.log", dir / "openssl.log"));
    REQUIRE_MESSAGE(child.wait_exit(60s) == 0, read_text_file(dir / "openssl.log"));
}

// openssl's -subj separates attributes with '/': one inside the CN is escaped.
std::string subject_with_cn(const std::string& common_name) {
    std::string subject = "/CN=";
    for (const char c : common_name) {
        if (c == '/') subject += '\\';
        subject += c;
    }
    return subject;
}

void make_ca(const TempDir& dir, const std::string& name) {
    openssl(dir, {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                  subject_with_cn(name), "-keyout", (dir / (name + ".key")).string(), "-out",
                  (dir / (name + ".pem")).string()});
}

// `name`.pem and `name`.key, signed by `ca`, with `common_name`; `san` for a server.
void make_cert(const TempDir& dir, const std::string& ca, const std::string& name,
               const std::string& common_name, const std::string& san = "") {
    const auto path = [&](const std::string& suffix) { return (dir / (name + suffix)).string(); };
    openssl(dir, {"req", "-newkey", "rsa:2048", "-nodes", "-subj", subject_with_cn(common_name),
                  "-keyout", path(".key"), "-out", path(".csr")});
    std::vector<std::string> sign{"x509",
                                  "-req",
                                  "-in",
                                  path(".csr"),
                                  "-CA",
                                  (dir / (ca + ".pem")).string(),
                                  "-CAkey",
                                  (dir / (ca + ".key")).string(),
                                  "-CAcreateserial",
                                  "-days",
                                  "2",
                                  "-out",
                                  path(".pem")};
    if (!san.empty()) {
        write_text_file(dir / (name + ".ext"), "subjectAltName=" + san + "\n");
        sign.push_back("-extfile");
        sign.push_back(path(".ext"));
    }
    openssl(dir, sign);
}

// mosquitto_pub / mosquitto_sub arguments for the client certificate `name`.
std::vector<std::string> client_tls(const TempDir& dir, const std::string& name) {
    return {"--cafile", (dir / "plant-ca.pem").string(), "--cert", (dir / (name + ".pem")).string(),
            "--key",    (dir / (name + ".key")).string()};
}

// sync.broker's keys for the client certificate `name`.
std::string broker_tls(const TempDir& dir, const fw::test::Mosquitto& broker,
                       const std::string& name) {
    return "uri: '" + broker.uri("ssl") + "', tls: {ca_file: " + (dir / "plant-ca.pem").string() +
           ", cert_file: " + (dir / (name + ".pem")).string() +
           ", key_file: " + (dir / (name + ".key")).string() + "}";
}

// The listener lines of examples/mosquitto/floorwatch-broker.conf with this test's files in
// place of the plant's, and the ACL file itself from examples/: what is tested is what is shipped.
// The `listener` line is the harness's own (a free port on 127.0.0.1).
std::string shipped_listener(const TempDir& dir) {
    const fs::path examples = source_dir() / "examples" / "mosquitto";
    const std::map<std::string, std::string> files{
        {"cafile", (dir / "plant-ca.pem").string()},
        {"certfile", (dir / "broker.pem").string()},
        {"keyfile", (dir / "broker.key").string()},
        {"acl_file", (examples / "floorwatch.acl").string()}};
    std::istringstream conf(read_text_file(examples / "floorwatch-broker.conf"));
    std::string options;
    std::map<std::string, std::string> seen;
    for (std::string line; std::getline(conf, line);) {
        if (line.empty() || line.starts_with('#')) continue;
        const auto space = line.find(' ');
        const std::string key = line.substr(0, space);
        const std::string value = space == std::string::npos ? "" : line.substr(space + 1);
        seen[key] = value;
        if (key == "listener") continue;
        const auto file = files.find(key);
        options += key + " " + (file != files.end() ? file->second : value) + "\n";
    }
    // What the ACL rests on; without these lines every check below would test nothing.
    CHECK(seen["require_certificate"] == "true");
    CHECK(seen["use_identity_as_username"] == "true");
    CHECK(seen.contains("acl_file"));
    return options;
}

// A report by rita on gw-2's press-1 as gw-2's store would write it: event test-plant.gw-2.1 of
// order test-plant.gw-2.1, with a valid hash. Encoded as an up `events` message.
std::string gw2_report_message(const TempDir& dir) {
    const fw::Config config = fw::load_config((dir / "gw-2.yaml").string());
    fw::workflow::ManualClock clock(fw::wall_now_ms(), true);
    fw::workflow::EventWriter writer("test-plant.gw-2", 1);
    fw::workflow::ReportCommand command;
    command.equipment = "press-1";
    command.area = "stamping";
    command.hazard_type = "guarding";
    command.description = "guard missing on press-1 of gw-2";
    command.local_date = std::chrono::year_month_day{
        std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
    const auto reported = fw::workflow::handle(
        command, fw::workflow::Actor::from_user(*config.workflow.find_user("rita")),
        fw::workflow::OrderState{}, "", {config.workflow, clock, writer, ""});
    REQUIRE_MESSAGE(reported, (reported ? "" : reported.error()));
    fw::sync::UpEvents up;
    up.events = reported->events;
    up.first = up.events.front().id.sequence;
    up.last = up.events.back().id.sequence;
    return fw::sync::encode_up(up);
}

}  // namespace

TEST_CASE(
    "sync security: the shipped broker ACL lets a gateway's certificate write only its own up "
    "topic and read only its own down topic; a forged origin is quarantined by the centre") {
    TempDir dir("fw-sync-acl");
    open_to_other_uids(dir);
    make_ca(dir, "plant-ca");
    make_cert(dir, "plant-ca", "broker", "broker", "IP:127.0.0.1");
    // CN = "<site>/<node>": the ACL's %u fills both levels of floorwatch/v1/<site>/<node>/...
    make_cert(dir, "plant-ca", "gw-1", "test-plant/gw-1");
    make_cert(dir, "plant-ca", "gw-2", "test-plant/gw-2");
    make_cert(dir, "plant-ca", "central", "floorwatch-central");
    fw::test::Mosquitto broker(dir.path(), "mosquitto", shipped_listener(dir));

    write_text_file(dir / "central.yaml", central_config(dir, broker_tls(dir, broker, "central")));
    write_text_file(dir / "gw-1.yaml",
                    gateway_config(dir, "gw-1", "gw-1", broker_tls(dir, broker, "gw-1")));
    // gw-2 runs no daemon here: its config only gives the test its workflow.
    write_text_file(dir / "gw-2.yaml",
                    gateway_config(dir, "gw-2", "gw-2", broker_tls(dir, broker, "gw-2")));
    auto centre = spawn_daemon(dir, "central");
    auto gateway = spawn_daemon(dir, "gw-1");
    const auto logs = [&] {
        return read_text_file(gateway.log) + read_text_file(centre.log) + broker.log();
    };

    // Allowed: gw-1 writes its up topic and reads its down topic (welcome, acks), the centre
    // reads every up (through its shared subscription) and writes gw-1's down.
    report(dir, "gw-1", "guard missing #1");
    report(dir, "gw-1", "guard missing #2");
    REQUIRE_MESSAGE(eventually([&] { return drained(dir, "gw-1"); }, 30s), logs());
    REQUIRE(field(gateway_sync(dir, "gw-1"), "acked") == 2);
    const auto before = central_row(dir, "test-plant.gw-1");
    REQUIRE(before.is_object());
    CHECK(field(before.as_object(), "received") == 2);
    CHECK(field(before.as_object(), "quarantined") == 0);

    // gw-2's order, valid in every way, published with gw-1's certificate on gw-2's up topic:
    // the broker drops it (MQTT 5 lets mosquitto_pub hear why).
    const std::string gw2_events = gw2_report_message(dir);
    auto v5 = client_tls(dir, "gw-1");
    v5.insert(v5.end(), {"-V", "mqttv5", "-d"});
    broker.publish(fw::sync::up_topic("test-plant", "gw-2"), gw2_events, 1, v5);
    const std::string pub_log = read_text_file(dir / "mosquitto.pub.log");
    CHECK_MESSAGE(pub_log.find("Not authorized") != std::string::npos, pub_log);

    // The same on gw-1's own topic: a forged origin passes the broker, the centre quarantines it
    // (it spends gw-1's sequence 1, stored already) and stores nothing of gw-2.
    CHECK(broker.publish(fw::sync::up_topic("test-plant", "gw-1"), gw2_events, 1,
                         client_tls(dir, "gw-1")) == 0);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return field(central_row(dir, "test-plant.gw-1").as_object(),
                                         "quarantined") == 1;
                        },
                        20s),
                    logs());
    const auto shown = cli_as(dir, "central", 0, {"sync"});
    CHECK_MESSAGE(shown.out.find("QUARANTINED test-plant.gw-1 1") != std::string::npos, shown.out);
    CHECK_MESSAGE(shown.out.find("forged: origin test-plant.gw-2 arrived on the up topic of "
                                 "test-plant.gw-1") != std::string::npos,
                  shown.out);
    // The dropped publish was decided (its PUBACK came back) before the forged one was sent, so
    // had the broker passed it the centre would have met it first.
    CHECK(central_row(dir, "test-plant.gw-2").is_null());
    const auto at_centre = cli_as(dir, "central", 0, {"orders", "list", "--all", "--json"});
    REQUIRE(at_centre.exit_code == 0);
    CHECK(json::parse(at_centre.out).as_array().size() == 2);
    CHECK(at_centre.out.find("test-plant.gw-2") == std::string::npos);
    const auto after = central_row(dir, "test-plant.gw-1").as_object();
    CHECK(field(after, "received") == 2);
    CHECK(field(after, "integrity") == 0);

    // Reading: gw-1's certificate subscribes to gw-2's down topic, gw-2's own certificate too.
    const auto subscriber = [&](const std::string& cert, const std::string& client_id) {
        std::vector<std::string> args{"-h",     "127.0.0.1",
                                      "-p",     std::to_string(broker.port()),
                                      "-t",     fw::sync::down_topic("test-plant", "gw-2"),
                                      "-q",     "1",
                                      "-v",     "-i",
                                      client_id};
        const auto tls = client_tls(dir, cert);
        args.insert(args.end(), tls.begin(), tls.end());
        return ChildProcess::spawn(
            "/usr/bin/mosquitto_sub", args,
            fw::test::logs_to(dir / (client_id + ".out"), dir / (client_id + ".out")));
    };
    auto spy = subscriber("gw-1", "spy-gw-1");
    auto owner = subscriber("gw-2", "owner-gw-2");
    // The broker logs each subscription it takes (log_type subscribe) with the client's id.
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            const auto log = broker.log();
                            return log.find("owner-gw-2 1 floorwatch/v1/test-plant/gw-2/down") !=
                                       std::string::npos &&
                                   log.find("spy-gw-1 1 floorwatch/v1/test-plant/gw-2/down") !=
                                       std::string::npos;
                        },
                        10s),
                    broker.log());

    // gw-2's order with gw-2's certificate on its own topic: stored (so the message dropped
    // above was refused for the certificate alone), and the centre's ack goes down to gw-2.
    CHECK(broker.publish(fw::sync::up_topic("test-plant", "gw-2"), gw2_events, 1,
                         client_tls(dir, "gw-2")) == 0);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            const auto row = central_row(dir, "test-plant.gw-2");
                            return row.is_object() && field(row.as_object(), "received") == 1;
                        },
                        20s),
                    logs());
    CHECK(field(central_row(dir, "test-plant.gw-2").as_object(), "quarantined") == 0);
    // A team lead approves it at the centre: the decision goes down to gw-2.
    act(dir, "central", 1001, {"orders", "act", "test-plant.gw-2.1", "approve"});
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            const auto seen = read_text_file(dir / "owner-gw-2.out");
                            return seen.find("\"type\":\"ack\"") != std::string::npos &&
                                   seen.find("\"type\":\"events\"") != std::string::npos;
                        },
                        20s),
                    read_text_file(dir / "owner-gw-2.out") << logs());
    // Both went through the broker to the owner while the spy was subscribed; it got neither.
    CHECK(owner.running());
    spy.stop(2s);
    owner.stop(2s);
    const std::string spied = read_text_file(dir / "spy-gw-1.out");
    CHECK_MESSAGE(spied.find("floorwatch/v1/test-plant/gw-2/down") == std::string::npos, spied);

    // gw-1 carries on: the forgery under its name cost it nothing.
    report(dir, "gw-1", "guard missing #3");
    REQUIRE_MESSAGE(eventually([&] { return drained(dir, "gw-1"); }, 20s), logs());
    CHECK(field(central_row(dir, "test-plant.gw-1").as_object(), "received") == 3);
    const auto verified = cli_as(dir, "central", 0, {"verify"});
    CHECK_MESSAGE(verified.exit_code == 0, verified.out << verified.err);
    CHECK(centre.process.running());
    CHECK(gateway.process.running());
    CHECK(gateway.process.stop() == 0);
    CHECK(centre.process.stop() == 0);
}

namespace {

constexpr const char* kFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

// The environment of a process whose wall clock libfaketime takes from `clock_file` (re-read on
// every call, so the test can set it right while the process runs) and whose kernel NTP status
// the shim takes from `ntp_file`. The monotonic clock stays real: setting the wall clock never
// moves it.
std::vector<std::string> faked_clock(const fs::path& clock_file, const fs::path& ntp_file) {
    return {std::string("LD_PRELOAD=") + kFaketime + ":" + FW_NTP_STATE_SHIM,
            "FAKETIME_TIMESTAMP_FILE=" + clock_file.string(), "FAKETIME_NO_CACHE=1",
            "FAKETIME_DONT_FAKE_MONOTONIC=1", "FW_TEST_NTP_STATE_FILE=" + ntp_file.string()};
}

// The real clock, and the kernel's NTP status from `ntp_file` (a centre with NTP).
std::vector<std::string> ntp_status(const fs::path& ntp_file) {
    return {std::string("LD_PRELOAD=") + FW_NTP_STATE_SHIM,
            "FW_TEST_NTP_STATE_FILE=" + ntp_file.string()};
}

json::object find_order(const json::array& orders, const std::string& id) {
    for (const auto& order : orders) {
        if (order.as_object().at("id").as_string() == id) return order.as_object();
    }
    FAIL("order " << id << " not listed");
    return {};
}

std::string month_text(std::int64_t ms) {
    const auto day = std::chrono::floor<std::chrono::days>(
        std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms)));
    const std::chrono::year_month_day date(day);
    return std::to_string(static_cast<int>(date.year())) + "-" +
           (static_cast<unsigned>(date.month()) < 10 ? "0" : "") +
           std::to_string(static_cast<unsigned>(date.month()));
}

// The three orders of the 1970 test: one walked to closed across the correction, one left in
// review, one assigned at 1970 with a deadline given as "3d" and left in rectification.
struct Orders1970 {
    std::string closed;
    std::string in_review;
    std::string rectifying;
};

// What one side (gateway or centre, by config name) says of the orders, once the clock is right:
// times near the test's own, durations small and never negative, the 1970 events marked.
void check_times(const TempDir& dir, const std::string& name, const Orders1970& ids,
                 std::int64_t test_start_ms) {
    const std::string& closed_id = ids.closed;
    INFO("as seen by " << name);
    const std::int64_t now = fw::wall_now_ms();
    // A minute of slack before the test began: the correction places the 1970 events on the
    // monotonic clock, which is exact to the millisecond; nothing here is about speed.
    const std::int64_t earliest = test_start_ms - 60'000;
    const auto orders = cli_json(dir, name, {"orders", "list", "--all"}).as_array();
    REQUIRE(orders.size() == 3);

    const auto closed = find_order(orders, closed_id);
    CHECK(closed.at("status").as_string() == "closed");
    const std::int64_t reported = signed_field(closed, "reported_ms");
    CHECK(reported >= earliest);
    CHECK(reported <= now);
    REQUIRE(closed.contains("closed_ms"));
    const std::int64_t closed_at = signed_field(closed, "closed_ms");
    CHECK(closed_at >= reported);
    CHECK(closed_at - reported < kHourMs);
    CHECK(closed_at <= now);

    const auto open = find_order(orders, ids.in_review);
    CHECK(signed_field(open, "reported_ms") >= earliest);
    CHECK(signed_field(open, "reported_ms") <= now);
    REQUIRE(open.contains("step"));
    const auto& step = open.at("step").as_object();
    CHECK(signed_field(step, "started_ms") >= earliest);
    // Low risk: seven days to review, counted from the corrected report time.
    CHECK(signed_field(step, "deadline_ms") > now);
    CHECK(signed_field(step, "deadline_ms") <= now + 8 * kDayMs);
    CHECK_FALSE(open.at("overdue").as_bool());

    // Assigned at 1970 by a team lead whose CLI ran on a right clock: due three days after the
    // assignment, true time, not fifty years later.
    const auto rectifying = find_order(orders, ids.rectifying);
    CHECK(rectifying.at("status").as_string() == "rectifying");
    REQUIRE(rectifying.contains("step"));
    const auto& rectification = rectifying.at("step").as_object();
    CHECK(rectification.at("kind").as_string() == "rectification");
    CHECK(signed_field(rectification, "started_ms") >= earliest);
    CHECK(signed_field(rectification, "deadline_ms") > now);
    CHECK(signed_field(rectification, "deadline_ms") <= now + 3 * kDayMs);
    CHECK_FALSE(rectifying.at("overdue").as_bool());

    // The timeline: one correction; every 1970 event unsynchronised, every later one synced;
    // times placed near now and never going back.
    const auto shown = cli_json(dir, name, {"orders", "show", closed_id});
    std::int64_t previous = earliest;
    int corrections = 0;
    int from_1970 = 0;
    for (const auto& value : shown.at("timeline").as_array()) {
        const auto& event = value.as_object();
        INFO(json::serialize(event));
        const std::int64_t wall = signed_field(event, "wall_ms");
        const bool synced = event.at("clock_synced").as_bool();
        if (wall < fw::workflow::kSyncedClockFloorMs) {
            ++from_1970;
            CHECK_FALSE(synced);
        } else {
            CHECK(synced);
        }
        if (event.at("type").as_string() == "clock_corrected") ++corrections;
        const std::int64_t at = signed_field(event, "at_ms");
        CHECK(at >= previous);
        CHECK(at <= now);
        previous = at;
    }
    CHECK(from_1970 >= 3);  // the report, the approval, the assignment
    CHECK(corrections == 1);

    const auto kpi = cli_json(dir, name, {"kpi"}).as_object();
    INFO(json::serialize(kpi));
    const auto& to_close = kpi.at("time_to_close").as_object();
    CHECK(field(to_close, "count") == 1);
    for (const char* figure : {"mean_ms", "median_ms", "p90_ms"}) {
        CHECK(to_close.at(figure).to_number<double>() >= 0);
        CHECK(to_close.at(figure).to_number<double>() < static_cast<double>(kHourMs));
    }
    for (const auto& [kind, figures] : kpi.at("time_per_step").as_object()) {
        INFO("step " << kind);
        CHECK(figures.at("mean_ms").to_number<double>() >= 0);
        CHECK(figures.at("p90_ms").to_number<double>() < static_cast<double>(kHourMs));
    }
    CHECK(kpi.at("overdue").to_number<std::int64_t>() == 0);
    for (const auto& cohort : kpi.at("closure_by_cohort").as_array()) {
        CHECK(cohort.at("cohort").as_string() == month_text(now));
    }
    for (const auto& row : kpi.at("reports_per_area_month").as_array()) {
        CHECK(row.at("month").as_string() == month_text(now));
    }
}

// Each event of the order as one side holds it: id → (hash, at_ms).
std::map<std::string, std::pair<std::string, std::int64_t>> timeline_of(const TempDir& dir,
                                                                        const std::string& name,
                                                                        const std::string& id) {
    std::map<std::string, std::pair<std::string, std::int64_t>> events;
    const auto shown = cli_json(dir, name, {"orders", "show", id});
    for (const auto& value : shown.at("timeline").as_array()) {
        const auto& event = value.as_object();
        events[std::string(event.at("event_id").as_string())] = {
            std::string(event.at("hash").as_string()), signed_field(event, "at_ms")};
    }
    return events;
}

}  // namespace

TEST_CASE(
    "sync clocks: a gateway that booted at 1970 gets its clock set while it runs; no duration "
    "goes negative or fifty years long, at the gateway or at the centre") {
    REQUIRE_MESSAGE(fs::exists(kFaketime),
                    kFaketime << " is missing: install faketime (scripts/install-deps.sh)");
    TempDir dir("fw-sync-1970");
    open_to_other_uids(dir);
    fw::test::Mosquitto broker(dir.path());
    const auto plain = "uri: '" + broker.uri() + "'";
    write_text_file(dir / "central.yaml", central_config(dir, plain));
    write_text_file(dir / "gw-1.yaml", gateway_config(dir, "gw-1", "gw-1", plain));
    write_text_file(dir / "centre-ntp", "synced\n");
    write_text_file(dir / "gateway-ntp", "unsynced\n");
    // A board without a real-time clock: the wall clock starts at the epoch and runs from there.
    write_text_file(dir / "gateway-clock", "@1970-01-01 00:00:00\n");
    const std::int64_t test_start_ms = fw::wall_now_ms();

    auto centre = spawn_daemon(dir, "central", ntp_status(dir / "centre-ntp"));
    auto gateway =
        spawn_daemon(dir, "gw-1", faked_clock(dir / "gateway-clock", dir / "gateway-ntp"));
    const auto logs = [&] { return read_text_file(gateway.log) + read_text_file(centre.log); };

    // Orders on the floor at 1970 (the CLI runs on the real clock; the daemon stamps events).
    const std::string closing = report(dir, "gw-1", "guard missing on press-1", "low");
    const std::string open = report(dir, "gw-1", "loose rail near press-1", "low");
    const std::string rectifying = report(dir, "gw-1", "oil on the floor at press-1", "low");
    for (const auto& id : {closing, rectifying}) {
        act(dir, "gw-1", 1002, {"orders", "act", id, "approve"});
        act(dir, "gw-1", 1001,
            {"orders", "act", id, "assign", "--assignee", "tom", "--deadline", "3d"});
    }
    REQUIRE_MESSAGE(eventually([&] { return drained(dir, "gw-1"); }, 30s), logs());
    for (const auto& [id, event] : timeline_of(dir, "gw-1", closing)) {
        INFO(id);
        CHECK(event.second < fw::workflow::kSyncedClockFloorMs);
    }
    // The centre holds the 1970 events already.
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            const auto row = central_row(dir, "test-plant.gw-1");
                            return row.is_object() && field(row.as_object(), "received") >= 7;
                        },
                        20s),
                    logs());

    // NTP arrives: the wall clock steps to the present, then the kernel says synchronised.
    write_text_file(dir / "gateway-clock", "+0\n");
    write_text_file(dir / "gateway-ntp", "synced\n");
    const auto corrected = [&](const std::string& id) {
        const auto timeline = cli_json(dir, "gw-1", {"orders", "show", id}).at("timeline");
        return json::serialize(timeline).find("\"clock_corrected\"") != std::string::npos;
    };
    // The order service looks at the clock with its overdue timer, every 30 s.
    REQUIRE_MESSAGE(
        eventually([&] { return corrected(closing) && corrected(open) && corrected(rectifying); },
                   90s),
        logs());

    // The rest of the work on the right clock: the technician submits, the manager accepts.
    write_text_file(dir / "after.jpg", std::string("\xff\xd8\xff\xe0", 4) + std::string(3000, 'j'));
    act(dir, "gw-1", 1004,
        {"orders", "act", closing, "submit", "--note", "guard refitted", "--photo",
         (dir / "after.jpg").string()});
    act(dir, "gw-1", 1003, {"orders", "act", closing, "accept", "--note", "checked on site"});
    REQUIRE_MESSAGE(eventually([&] { return drained(dir, "gw-1"); }, 30s), logs());
    const std::uint64_t written = field(gateway_sync(dir, "gw-1"), "acked");
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return field(central_row(dir, "test-plant.gw-1").as_object(),
                                         "received") == written;
                        },
                        20s),
                    logs());
    const auto centre_row = central_row(dir, "test-plant.gw-1").as_object();
    CHECK(field(centre_row, "quarantined") == 0);
    CHECK(field(centre_row, "integrity") == 0);

    // The centre folds the same events in the same order to the same times.
    CHECK(timeline_of(dir, "central", closing) == timeline_of(dir, "gw-1", closing));
    CHECK(timeline_of(dir, "central", open) == timeline_of(dir, "gw-1", open));
    CHECK(timeline_of(dir, "central", rectifying) == timeline_of(dir, "gw-1", rectifying));
    const Orders1970 ids{closing, open, rectifying};
    check_times(dir, "gw-1", ids, test_start_ms);
    check_times(dir, "central", ids, test_start_ms);

    CHECK(cli_as(dir, "gw-1", 0, {"verify"}).exit_code == 0);
    CHECK(cli_as(dir, "central", 0, {"verify"}).exit_code == 0);
    CHECK(gateway.process.running());
    CHECK(centre.process.running());
    CHECK(gateway.process.stop() == 0);
    CHECK(centre.process.stop() == 0);
}
