// MQTT ingest: messages/s from the broker to durable samples in floorwatchd's store, against what
// mosquitto_sub alone receives from the same publisher in the same run, plus the daemon's CPU and
// RSS while doing it. Prints figures; asserts nothing about speed.
//
//   mqtt_bench [MESSAGES] [CHANNELS]        (defaults 200000 and 100)
//
// One real Mosquitto on a free loopback port; mosquitto_sub and floorwatchd subscribe to the same
// filter; one Paho client publishes MESSAGES JSON payloads ({"value": ...}) at QoS 0 as fast as the
// broker takes them. Rates are MESSAGES / (last delivery - first publish): for mosquitto_sub its
// exit after the last message, for the daemon the moment its SQLite file holds them all.

#include <mqtt/async_client.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "daemon/store/sqlite.hpp"
#include "tests/support/mosquitto.hpp"
#include "tests/support/process.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double cpu_seconds(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long status_kib(pid_t pid, const std::string& key) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
    }
    return 0;
}

// -1 when the store cannot be read (yet).
long long stored_samples(const fs::path& db) {
    try {
        const auto connection =
            fw::store::Connection::open(db.string(), fw::store::OpenMode::read_only);
        fw::store::Statement count(connection.get(), "SELECT count(*) FROM samples");
        if (!count.next_row("counting samples")) return -1;
        const long long samples = count.column_int64(0);
        count.reset();
        return samples;
    } catch (const fw::store::StoreError&) {
        return -1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    const long messages = argc > 1 ? std::stol(argv[1]) : 200000;
    const long channels = argc > 2 ? std::stol(argv[2]) : 100;
    fw::test::TempDir dir("fw-mqtt-bench");
    fw::test::Mosquitto broker(dir.path());
    const fs::path db = dir / "floorwatch.db";

    fw::test::write_text_file(
        dir / "floorwatch.yaml",
        "gateway: {site: bench, node: gw-1, log_level: warning}\n"
        "store: {path: " +
            db.string() +
            ", commit_interval: 100ms, queue_capacity: 2000000}\n"
            "mqtt:\n  brokers:\n    - name: bench\n      uri: " +
            broker.uri() +
            "\n      inputs:\n        - {name: values, topic: 'bench/+/value', qos: 0, "
            "channel: 'bench.{1}', value_field: value}\n");
    fw::test::SpawnOptions daemon_logs;
    daemon_logs.stdout_path = dir / "floorwatchd.log";
    daemon_logs.stderr_path = dir / "floorwatchd.log";
    auto daemon = fw::test::ChildProcess::spawn(
        FW_DAEMON_BINARY, {"--config", (dir / "floorwatch.yaml").string()}, daemon_logs);

    fw::test::SpawnOptions sub_logs;
    sub_logs.stdout_path = "/dev/null";
    sub_logs.stderr_path = dir / "mosquitto_sub.log";
    auto subscriber =
        fw::test::ChildProcess::spawn("/usr/bin/mosquitto_sub",
                                      {"-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-t",
                                       "bench/+/value", "-q", "0", "-C", std::to_string(messages)},
                                      sub_logs);

    // Both subscriptions must be in place before the first message.
    const auto ready_deadline = Clock::now() + 20s;
    while (Clock::now() < ready_deadline) {
        const std::string log = broker.log();
        std::size_t subscriptions = 0;
        for (auto at = log.find("bench/+/value"); at != std::string::npos;
             at = log.find("bench/+/value", at + 1)) {
            ++subscriptions;
        }
        if (subscriptions >= 2 && stored_samples(db) == 0) break;
        std::this_thread::sleep_for(50ms);
    }

    ::mqtt::iclient_persistence* no_persistence = nullptr;
    ::mqtt::async_client publisher(broker.uri(), "bench-publisher", 100000, no_persistence);
    publisher.connect()->wait();
    const double cpu_before = cpu_seconds(daemon.pid());
    const auto start = Clock::now();
    for (long i = 0; i < messages; ++i) {
        const std::string topic = "bench/d" + std::to_string(i % channels) + "/value";
        const std::string payload = "{\"value\": " + std::to_string(i) + ".5}";
        for (;;) {
            try {
                publisher.publish(topic, payload.data(), payload.size(), 0, false);
                break;
            } catch (const ::mqtt::exception&) {
                std::this_thread::sleep_for(1ms);  // Paho's send buffer is full: let it drain
            }
        }
    }
    const auto published = Clock::now();

    std::optional<Clock::time_point> sub_done;
    std::optional<Clock::time_point> daemon_done;
    long long stored = 0;
    long rss_peak_kib = 0;
    const auto deadline = Clock::now() + 120s;
    while (Clock::now() < deadline && (!sub_done || !daemon_done)) {
        if (!sub_done && !subscriber.running()) sub_done = Clock::now();
        if (!daemon_done) {
            stored = stored_samples(db);
            rss_peak_kib = std::max(rss_peak_kib, status_kib(daemon.pid(), "VmRSS"));
            if (stored >= messages) daemon_done = Clock::now();
        }
        std::this_thread::sleep_for(10ms);
    }
    const double cpu_used = cpu_seconds(daemon.pid()) - cpu_before;
    const long hwm_kib = status_kib(daemon.pid(), "VmHWM");
    publisher.disconnect()->wait();
    daemon.stop();

    const auto seconds = [&](Clock::time_point end) {
        return std::chrono::duration<double>(end - start).count();
    };
    std::printf(
        "messages: %ld JSON payloads on %ld topics, QoS 0, one publisher (%.0f msg/s "
        "offered)\n",
        messages, channels, static_cast<double>(messages) / seconds(published));
    if (!sub_done || !daemon_done) {
        std::printf("incomplete after 120 s: mosquitto_sub %s, daemon stored %lld of %ld\n",
                    sub_done ? "done" : "not done", stored, messages);
        std::printf("daemon log:\n%s\n", fw::test::read_text_file(dir / "floorwatchd.log").c_str());
        return 1;
    }
    const double sub_rate = static_cast<double>(messages) / seconds(*sub_done);
    const double daemon_rate = static_cast<double>(messages) / seconds(*daemon_done);
    std::printf("mosquitto_sub alone received:       %10.0f msg/s\n", sub_rate);
    std::printf("floorwatchd, broker to durable:     %10.0f samples/s\n", daemon_rate);
    std::printf("ratio daemon / mosquitto_sub:       %10.2f   (target >= 0.8)\n",
                daemon_rate / sub_rate);
    std::printf("daemon CPU while ingesting:         %10.1f %% of one core (%.2f s over %.2f s)\n",
                100.0 * cpu_used / seconds(*daemon_done), cpu_used, seconds(*daemon_done));
    std::printf("daemon CPU per message:             %10.2f us\n",
                1e6 * cpu_used / static_cast<double>(messages));
    std::printf("daemon RSS: peak %ld KiB (sampled %ld KiB)\n", hwm_kib, rss_peak_kib);
    return 0;
}
