// floorwatchd end to end with MQTT: a real Mosquitto on a free loopback port (started and stopped
// by the test), messages published with mosquitto_pub, and what the daemon stores read back from
// the real SQLite file and through the real CLI.

#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <regex>
#include <string>

#include "daemon/store/store.hpp"
#include "tests/support/mosquitto.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using fw::test::ChildProcess;
using fw::test::eventually;
using fw::test::Mosquitto;
using fw::test::read_text_file;
using fw::test::TempDir;
using fw::test::write_text_file;

namespace {

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t count = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++count;
    }
    return count;
}

struct Daemon {
    ChildProcess process;
    fs::path log;
    std::string text() const { return read_text_file(log); }
};

Daemon start_daemon(const TempDir& dir, const std::string& config_text) {
    const fs::path config = dir / "floorwatch.yaml";
    write_text_file(config, config_text);
    Daemon daemon;
    daemon.log = dir / "floorwatchd.log";
    fw::test::SpawnOptions options;
    options.stdout_path = daemon.log;
    options.stderr_path = daemon.log;
    daemon.process = ChildProcess::spawn(FW_DAEMON_BINARY, {"--config", config.string()}, options);
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return daemon.text().find("] ready") != std::string::npos ||
                                   !daemon.process.running();
                        },
                        15s),
                    "daemon did not start");
    REQUIRE_MESSAGE(daemon.process.running(), "daemon exited: " << daemon.text());
    return daemon;
}

// SIGTERM, then the exit code, which must be 0 (a clean stop). It is usually there in well under
// a second; the wait is only a hang guard, as long as systemd's TimeoutStopSec, and the message
// names the code, so a crash (139: SIGSEGV) is not mistaken for a slow stop.
void stop_cleanly(Daemon& daemon) {
    daemon.process.send_signal(SIGTERM);
    const auto code = daemon.process.wait_exit(30s);
    CHECK_MESSAGE(code == 0,
                  (code ? "exit code " + std::to_string(*code) : std::string("still running"))
                      << " after SIGTERM:\n"
                      << daemon.text());
}

struct RunResult {
    int exit_code;
    std::string out;
    std::string err;
};

RunResult run_cli(const TempDir& dir, const std::vector<std::string>& args) {
    static int counter = 0;
    const std::string tag = std::to_string(++counter);
    fw::test::SpawnOptions options;
    options.stdout_path = dir / ("cli" + tag + ".out");
    options.stderr_path = dir / ("cli" + tag + ".err");
    auto child = ChildProcess::spawn(FW_CLI_BINARY, args, options);
    const int code = child.wait_exit(30s).value_or(-1);
    return {code, read_text_file(options.stdout_path), read_text_file(options.stderr_path)};
}

std::string config_head(const fs::path& db) {
    return "gateway: {site: test-plant, node: gw-1, log_level: debug}\n"
           "store:\n  path: " +
           db.string() +
           "\n  commit_interval: 100ms\n"
           // The tests publish readings with fixed timestamps (2026-01-15): keep retention from
           // pruning them as too old on its first run.
           "  samples: {max_age: 3650d}\n"
           "equipment:\n"
           "  - {id: press-4, area: stamping}\n"
           "  - {id: dock-2, area: logistics}\n";
}

std::vector<fw::store::StoredSample> samples_of(const fs::path& db, const std::string& channel) {
    if (!fs::exists(db)) return {};
    try {
        auto reader = fw::store::Reader::open(db.string());
        return reader->samples(channel, 0, INT64_MAX, 1000000);
    } catch (const fw::store::StoreError&) {
        return {};
    }
}

std::vector<fw::store::StoredEvent> events_of(const fs::path& db, const std::string& name = "") {
    if (!fs::exists(db)) return {};
    try {
        return fw::store::Reader::open(db.string())->events(0, INT64_MAX, name, 100000);
    } catch (const fw::store::StoreError&) {
        return {};
    }
}

std::optional<fw::BrokerHealth> broker_health(const fs::path& db, const std::string& broker) {
    if (!fs::exists(db)) return std::nullopt;
    try {
        for (const auto& row : fw::store::Reader::open(db.string())->broker_health()) {
            if (row.broker == broker) return row;
        }
    } catch (const fw::store::StoreError&) {
    }
    return std::nullopt;
}

std::optional<fw::InputHealth> input_health(const fs::path& db, const std::string& input) {
    if (!fs::exists(db)) return std::nullopt;
    try {
        for (const auto& row : fw::store::Reader::open(db.string())->input_health()) {
            if (row.input == input) return row;
        }
    } catch (const fw::store::StoreError&) {
    }
    return std::nullopt;
}

bool has_value(const fs::path& db, const std::string& channel, double value) {
    for (const auto& sample : samples_of(db, channel)) {
        if (sample.value && *sample.value == value) return true;
    }
    return false;
}

std::string broker_section(const std::string& name, const std::string& uri,
                           const std::string& inputs, const std::string& options = "") {
    return "    - name: " + name + "\n      uri: " + uri +
           "\n      reconnect_min: 100ms\n      reconnect_max: 1s\n      keep_alive: 5s\n" +
           options + "      inputs:\n" + inputs;
}

const std::string kPlantInputs = R"(        - name: pucks
          topic: plant/+/+/vibration
          channel: '{2}.vibration'
          equipment: '{2}'
          unit: mm/s
        - name: plc
          topic: plc/+/+
          channel: '{1}.{2}.temp'
          value_field: data.temp_c
          time_field: data.ts
          area: '{1}'
          scale: 0.1
          unit: degC
        - name: arrivals
          kind: event
          topic: logistics/+/arrival
          event: material_arrival
          equipment: '{1}'
          time_field: at
          attributes: [{field: material}, {field: lot.id, as: batch}, {field: qty}]
)";

}  // namespace

TEST_CASE("values and events published to the broker land in SQLite as configured") {
    TempDir dir("fw-mqtt");
    Mosquitto broker(dir.path());
    const fs::path db = dir / "floorwatch.db";
    Daemon daemon = start_daemon(dir, config_head(db) + "mqtt:\n  brokers:\n" +
                                          broker_section("plant", broker.uri(), kPlantInputs));
    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return daemon.text().find("subscribed to 3 topic filter(s)") !=
                                   std::string::npos;
                        },
                        10s),
                    daemon.text());

    // Raw payloads, a JSON payload with its own ISO 8601 time, and an event with attributes.
    CHECK(broker.publish("plant/stamping/press-4/vibration", "3.25") == 0);
    CHECK(broker.publish("plant/stamping/press-4/vibration", "4.5") == 0);
    CHECK(broker.publish("plc/line1/cell-3",
                         R"({"data": {"temp_c": 655, "ts": "2026-01-15T10:00:00.250+01:00"}})") ==
          0);
    CHECK(broker.publish("logistics/dock-2/arrival",
                         R"({"material": "coil-steel", "lot": {"id": "B-1042"}, "qty": 12,)"
                         R"( "at": "2026-01-15T09:30:00Z"})") == 0);

    REQUIRE_MESSAGE(eventually(
                        [&] {
                            return samples_of(db, "press-4.vibration").size() == 2 &&
                                   samples_of(db, "line1.cell-3.temp").size() == 1 &&
                                   events_of(db).size() == 1;
                        },
                        10s),
                    daemon.text());

    const auto vibration = samples_of(db, "press-4.vibration");
    CHECK(vibration[0].value == 3.25);
    CHECK(vibration[1].value == 4.5);
    CHECK(vibration[0].quality == fw::Quality::good);
    // Receive time: within the last minute of this test's clock.
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    CHECK(vibration[1].time_ms <= now_ms);
    CHECK(vibration[1].time_ms > now_ms - 60000);

    const auto temperature = samples_of(db, "line1.cell-3.temp");
    CHECK(temperature[0].value == doctest::Approx(65.5));
    CHECK(temperature[0].time_ms == 1768467600250);  // 2026-01-15T09:00:00.250Z

    auto reader = fw::store::Reader::open(db.string());
    bool described = false;
    for (const auto& row : reader->channels()) {
        if (row.info.name == "press-4.vibration") {
            described = true;
            CHECK(row.info.equipment == "press-4");
            CHECK(row.info.area == "stamping");  // from the declared equipment
            CHECK(row.info.unit == "mm/s");
            CHECK(row.info.source == "mqtt:plant/pucks");
        }
        if (row.info.name == "line1.cell-3.temp") CHECK(row.info.area == "line1");
    }
    CHECK(described);

    const auto events = events_of(db, "material_arrival");
    REQUIRE(events.size() == 1);
    CHECK(events[0].event.equipment == "dock-2");
    CHECK(events[0].event.area == "logistics");
    CHECK(events[0].event.time_ms == 1768469400000);  // 2026-01-15T09:30:00Z
    CHECK(events[0].event.attributes == R"({"material":"coil-steel","batch":"B-1042","qty":12})");

    const auto cli_events = run_cli(dir, {"events", "--db", db.string(), "--since", "3650d",
                                          "--name", "material_arrival", "--json"});
    CHECK(cli_events.exit_code == 0);
    CHECK(cli_events.out.find(R"("batch":"B-1042")") != std::string::npos);
    CHECK(cli_events.out.find(R"("time":"2026-01-15T09:30:00.000Z")") != std::string::npos);

    REQUIRE(eventually(
        [&] {
            const auto pucks = input_health(db, "pucks");
            return pucks && pucks->accepted == 2;
        },
        10s));
    const auto mqtt = run_cli(dir, {"mqtt", "--db", db.string()});
    CHECK(mqtt.exit_code == 0);
    CHECK(mqtt.out.find("broker plant: connected") != std::string::npos);
    const auto devices = run_cli(dir, {"devices", "--db", db.string()});
    CHECK(devices.out.find("mqtt") != std::string::npos);

    stop_cleanly(daemon);
}

TEST_CASE("a broker that goes away and comes back: the daemon reconnects and re-subscribes") {
    TempDir dir("fw-mqtt-restart");
    Mosquitto broker(dir.path());
    const fs::path db = dir / "floorwatch.db";
    Daemon daemon = start_daemon(dir, config_head(db) + "mqtt:\n  brokers:\n" +
                                          broker_section("plant", broker.uri(), kPlantInputs));
    REQUIRE(
        eventually([&] { return daemon.text().find("subscribed to") != std::string::npos; }, 10s));
    CHECK(broker.publish("plant/stamping/press-4/vibration", "1.5") == 0);
    REQUIRE(eventually([&] { return has_value(db, "press-4.vibration", 1.5); }, 10s));

    broker.stop();
    REQUIRE_MESSAGE(
        eventually([&] { return daemon.text().find("disconnected from") != std::string::npos; },
                   15s),
        daemon.text());
    CHECK(eventually(
        [&] {
            const auto health = broker_health(db, "plant");
            return health && !health->connected && !health->last_error.empty();
        },
        10s));
    // It keeps trying while the broker is down.
    CHECK_MESSAGE(
        eventually([&] { return daemon.text().find("cannot connect to") != std::string::npos; },
                   10s),
        daemon.text());

    // The restarted broker kept nothing (persistence off): only a fresh subscription brings
    // messages, so a value arriving proves the daemon re-subscribed.
    broker.start();
    REQUIRE_MESSAGE(
        eventually([&] { return count_of(daemon.text(), "subscribed to 3") >= 2; }, 15s),
        daemon.text());
    CHECK(broker.publish("plant/stamping/press-4/vibration", "2.5") == 0);
    CHECK_MESSAGE(eventually([&] { return has_value(db, "press-4.vibration", 2.5); }, 10s),
                  daemon.text());
    CHECK(eventually(
        [&] {
            const auto health = broker_health(db, "plant");
            return health && health->connected && health->reconnects >= 1;
        },
        10s));
    CHECK(daemon.process.running());
    stop_cleanly(daemon);
}

TEST_CASE("every kind of bad input is dropped and counted, and good messages around it stay") {
    TempDir dir("fw-mqtt-bad");
    Mosquitto broker(dir.path());
    const fs::path db = dir / "floorwatch.db";
    const std::string inputs = R"(        - name: json
          topic: bad/json/+
          channel: 'bad.{2}'
          value_field: v
          time_field: ts
        - name: raw
          topic: bad/raw/+
          channel: 'raw.{2}'
)";
    const std::string retired = R"(        - name: retired
          topic: retired/+
          channel: 'retired.{1}'
)";
    const auto config_with = [&](const std::string& extra_inputs) {
        return config_head(db) + "mqtt:\n  brokers:\n" +
               broker_section("plant", broker.uri(), inputs + extra_inputs,
                              "      max_payload: 64\n");
    };
    Daemon daemon = start_daemon(dir, config_with(retired));
    REQUIRE(
        eventually([&] { return daemon.text().find("subscribed to") != std::string::npos; }, 10s));

    const std::vector<std::pair<std::string, std::string>> bad_json{
        {"missing_field", R"({"x": 1})"},
        {"wrong_type", R"({"v": "12", "ts": 1795939200000})"},
        {"invalid_json", R"({"v": 1)"},
        {"invalid_utf8", "{\"v\": 1, \"s\": \"\xff\"}"},
        {"too_large", R"({"v": 1, "pad": ")" + std::string(80, 'x') + "\"}"},
        {"time_in_future", R"({"v": 1, "ts": "2999-01-01T00:00:00Z"})"},
        {"time_before_2000", R"({"v": 1, "ts": 1000})"},
        {"bad_timestamp", R"({"v": 1, "ts": "last tuesday"})"},
    };
    int good = 0;
    const auto good_message = [&] {
        const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        return R"({"v": )" + std::to_string(++good) + R"(, "ts": )" + std::to_string(now_ms) + "}";
    };
    for (const auto& [reason, payload] : bad_json) {
        CHECK(broker.publish("bad/json/a", good_message()) == 0);
        CHECK_MESSAGE(broker.publish("bad/json/a", payload) == 0, reason);
    }
    CHECK(broker.publish("bad/json/a", good_message()) == 0);
    CHECK(broker.publish("bad/raw/b", "not a number") == 0);
    CHECK(broker.publish("bad/raw/b", "") == 0);
    CHECK(broker.publish("bad/raw/b", "7") == 0);

    REQUIRE_MESSAGE(eventually(
                        [&] {
                            const auto json = input_health(db, "json");
                            const auto raw = input_health(db, "raw");
                            return json && json->rejected == bad_json.size() && raw &&
                                   raw->rejected == 2 && raw->accepted == 1;
                        },
                        15s),
                    daemon.text());
    const auto json = input_health(db, "json").value();
    CHECK(json.accepted == static_cast<std::uint64_t>(good));
    CHECK(json.received == json.accepted + json.rejected);
    for (const auto& [reason, payload] : bad_json) {
        CHECK_MESSAGE(json.rejected_by_reason.find("\"" + reason + "\":1") != std::string::npos,
                      reason << " in " << json.rejected_by_reason);
    }
    CHECK(input_health(db, "raw")->rejected_by_reason == R"({"not_numeric":2})");
    const auto mqtt = run_cli(dir, {"mqtt", "--db", db.string(), "--json"});
    CHECK(mqtt.out.find(R"("not_numeric":2)") != std::string::npos);
    CHECK(mqtt.out.find(R"("last_rejection":"not_numeric: )") != std::string::npos);

    // Counters start again at a reload or restart (they describe the running configuration).
    // The broker keeps the session's subscriptions (clean session off): after an input is removed
    // by a reload, its messages still arrive and match no input. They are counted, not stored.
    write_text_file(dir / "floorwatch.yaml", config_with(""));
    daemon.process.send_signal(SIGHUP);
    REQUIRE(eventually([&] { return count_of(daemon.text(), "subscribed to 2 topic") >= 1; }, 10s));
    CHECK(broker.publish("retired/x", "1") == 0);
    CHECK(broker.publish("retired/x", "2") == 0);
    CHECK(eventually(
        [&] {
            const auto unmatched = input_health(db, "");
            return unmatched && unmatched->received == 2;
        },
        10s));
    CHECK(samples_of(db, "retired.x").empty());

    const auto stored = samples_of(db, "bad.a");
    REQUIRE(stored.size() == static_cast<std::size_t>(good));
    for (int i = 0; i < good; ++i) CHECK(stored[static_cast<std::size_t>(i)].value == i + 1);
    CHECK(has_value(db, "raw.b", 7));

    // One log line per input per minute, with one example; the rest are counted, not logged.
    const std::string log = daemon.text();
    CHECK(count_of(log, "[mqtt:plant/json] message dropped") == 1);
    CHECK(count_of(log, "[mqtt:plant/raw] message dropped") == 1);
    CHECK(count_of(log, "matches no input") == 1);
    CHECK(daemon.process.running());
    stop_cleanly(daemon);
}

namespace {

void openssl(const TempDir& dir, const std::vector<std::string>& args) {
    fw::test::SpawnOptions options;
    options.stdout_path = dir / "openssl.log";
    options.stderr_path = dir / "openssl.log";
    auto child = ChildProcess::spawn("/usr/bin/openssl", args, options);
    REQUIRE_MESSAGE(child.wait_exit(60s) == 0, read_text_file(dir / "openssl.log"));
}

// A CA and a server certificate signed by it for `san` (e.g. "IP:127.0.0.1").
void make_ca(const TempDir& dir, const std::string& name) {
    openssl(dir, {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                  "/CN=" + name, "-keyout", (dir / (name + ".key")).string(), "-out",
                  (dir / (name + ".pem")).string()});
}

void make_server_cert(const TempDir& dir, const std::string& ca, const std::string& name,
                      const std::string& san) {
    const auto path = [&](const std::string& suffix) { return (dir / (name + suffix)).string(); };
    openssl(dir, {"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout",
                  path(".key"), "-out", path(".csr")});
    write_text_file(dir / (name + ".ext"), "subjectAltName=" + san + "\n");
    openssl(dir, {"x509", "-req", "-in", path(".csr"), "-CA", (dir / (ca + ".pem")).string(),
                  "-CAkey", (dir / (ca + ".key")).string(), "-CAcreateserial", "-days", "2",
                  "-extfile", path(".ext"), "-out", path(".pem")});
}

std::string tls_listener(const TempDir& dir, const std::string& ca, const std::string& server) {
    return "cafile " + (dir / (ca + ".pem")).string() + "\ncertfile " +
           (dir / (server + ".pem")).string() + "\nkeyfile " + (dir / (server + ".key")).string() +
           "\n";
}

}  // namespace

TEST_CASE("TLS: the right CA connects; a wrong CA and a wrong host name are refused") {
    TempDir dir("fw-mqtt-tls");
    make_ca(dir, "plant-ca");
    make_ca(dir, "other-ca");
    make_server_cert(dir, "plant-ca", "broker-ip", "IP:127.0.0.1");
    make_server_cert(dir, "plant-ca", "broker-name", "DNS:broker.elsewhere.example");
    Mosquitto right_name(dir.path(), "right-name", tls_listener(dir, "plant-ca", "broker-ip"));
    Mosquitto wrong_name(dir.path(), "wrong-name", tls_listener(dir, "plant-ca", "broker-name"));

    const fs::path db = dir / "floorwatch.db";
    const auto input = [](const std::string& name) {
        return "        - {name: " + name + ", topic: 'tls/" + name + "/+', channel: '" + name +
               ".{2}'}\n";
    };
    const auto tls = [&](const std::string& ca, bool verify_hostname = true) {
        return "      tls: {ca_file: " + (dir / (ca + ".pem")).string() +
               ", verify_hostname: " + (verify_hostname ? "true" : "false") + "}\n";
    };
    Daemon daemon = start_daemon(
        dir,
        config_head(db) + "mqtt:\n  brokers:\n" +
            broker_section("good", right_name.uri("ssl"), input("good"), tls("plant-ca")) +
            broker_section("wrong-ca", right_name.uri("ssl"), input("wrongca"), tls("other-ca")) +
            broker_section("wrong-host", wrong_name.uri("ssl"), input("wronghost"),
                           tls("plant-ca")) +
            broker_section("no-host-check", wrong_name.uri("ssl"), input("nocheck"),
                           tls("plant-ca", false)));

    const auto online = [&](const std::string& broker) {
        const auto health = broker_health(db, broker);
        return health && health->connected;
    };
    const auto refused = [&](const std::string& broker) {
        const auto health = broker_health(db, broker);
        return health && !health->connected && health->connect_attempts >= 2;
    };
    REQUIRE_MESSAGE(eventually([&] { return online("good") && online("no-host-check"); }, 15s),
                    daemon.text());
    CHECK_MESSAGE(eventually([&] { return refused("wrong-ca") && refused("wrong-host"); }, 15s),
                  daemon.text());
    CHECK_FALSE(online("wrong-ca"));
    CHECK_FALSE(online("wrong-host"));
    // Paho C++ 1.2.0 gives no OpenSSL detail (drivers/mqtt/paho_session.hpp): both say what to
    // check.
    CHECK(broker_health(db, "wrong-ca")->last_error.find("check ca_file") != std::string::npos);
    CHECK(broker_health(db, "wrong-host")->last_error.find("certificate names") !=
          std::string::npos);
    MESSAGE("wrong CA: " << broker_health(db, "wrong-ca")->last_error);
    MESSAGE("wrong host: " << broker_health(db, "wrong-host")->last_error);

    // And data flows over the verified connection.
    REQUIRE(
        eventually([&] { return right_name.log().find("tls/good/+") != std::string::npos; }, 10s));
    CHECK(right_name.publish("tls/good/x", "42", 1,
                             {"--cafile", (dir / "plant-ca.pem").string()}) == 0);
    CHECK_MESSAGE(eventually([&] { return has_value(db, "good.x", 42); }, 10s), daemon.text());
    // Stopped while two clients keep failing their handshakes: a failure that ends after the
    // attempt was abandoned once crashed the daemon here (exit 139).
    stop_cleanly(daemon);
}
