// floorwatch-mqtt-sim: a simulated MQTT plant for the demo and manual tests. Publishes measured
// values (a wireless vibration sensor, a PLC bridge's temperatures) and logistics "material
// arrival" events to a broker, as described by a small YAML file (examples/demo/mqtt-sim.yaml).
//
//   floorwatch-mqtt-sim --config FILE [--broker URI] [--ready-file FILE]
//
// Values follow the same profiles as floorwatch-sim (tests/sim/profile.hpp); SIGTERM/SIGINT stop
// it.

#include <mqtt/async_client.h>
#include <signal.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/core/log.hpp"
#include "daemon/core/time.hpp"
#include "daemon/core/units.hpp"
#include "tests/sim/profile.hpp"

namespace {

constexpr std::string_view kLog = "mqtt-sim";
std::atomic<bool> stop_requested{false};

struct Stream {
    std::string topic;
    fw::Millis every{1000};
    enum class Kind { raw, json, arrival } kind = Kind::raw;
    fw::sim::Profile profile;            // raw and json values
    std::vector<std::string> materials;  // arrival events, taken in turn
    std::chrono::steady_clock::time_point next{};
    std::uint64_t count = 0;
};

struct SimConfig {
    std::string broker = "tcp://127.0.0.1:1883";
    std::string client_id = "floorwatch-mqtt-sim";
    double time_scale = 1.0;
    std::vector<Stream> streams;
};

fw::Millis duration_of(const YAML::Node& node, const std::string& where) {
    const auto parsed = fw::parse_duration(node.as<std::string>());
    if (!parsed || parsed->count() <= 0) {
        throw std::runtime_error(where + ": '" + node.as<std::string>() +
                                 "' is not a positive duration (250ms, 1s, 2m)");
    }
    return *parsed;
}

SimConfig load(const std::string& path) {
    const YAML::Node root = YAML::LoadFile(path);
    SimConfig config;
    if (root["broker"]) config.broker = root["broker"].as<std::string>();
    if (root["client_id"]) config.client_id = root["client_id"].as<std::string>();
    if (root["time_scale"]) config.time_scale = root["time_scale"].as<double>();
    for (const auto& node : root["streams"]) {
        Stream stream;
        stream.topic = node["topic"].as<std::string>();
        const std::string where = path + ": stream " + stream.topic;
        if (node["every"]) stream.every = duration_of(node["every"], where + ".every");
        const std::string kind = node["kind"] ? node["kind"].as<std::string>() : "raw";
        if (kind == "raw") {
            stream.kind = Stream::Kind::raw;
        } else if (kind == "json") {
            stream.kind = Stream::Kind::json;
        } else if (kind == "arrival") {
            stream.kind = Stream::Kind::arrival;
        } else {
            throw std::runtime_error(where + ": kind '" + kind + "' (expected raw, json, arrival)");
        }
        if (const auto profile = node["profile"]) {
            // sine around `mean` (constant when amplitude is 0), with optional noise.
            stream.profile.kind = fw::sim::Profile::Kind::sine;
            stream.profile.mean = profile["mean"].as<double>(0.0);
            stream.profile.amplitude = profile["amplitude"].as<double>(0.0);
            if (profile["period"]) {
                stream.profile.period_seconds =
                    static_cast<double>(duration_of(profile["period"], where + ".period").count()) /
                    1000.0;
            }
            stream.profile.noise = profile["noise"].as<double>(0.0);
        }
        for (const auto& material : node["materials"]) {
            stream.materials.push_back(material.as<std::string>());
        }
        if (stream.kind == Stream::Kind::arrival && stream.materials.empty()) {
            throw std::runtime_error(where + ": an arrival stream needs 'materials'");
        }
        config.streams.push_back(std::move(stream));
    }
    if (config.streams.empty()) throw std::runtime_error(path + ": no streams");
    return config;
}

std::string iso_now() {
    return fw::format_iso_time(fw::wall_now_ms(), fw::IsoFraction::milliseconds);
}

std::string payload_of(Stream& stream, double profile_seconds, std::uint64_t index) {
    ++stream.count;
    if (stream.kind == Stream::Kind::arrival) {
        const auto& material =
            stream.materials[static_cast<std::size_t>(stream.count % stream.materials.size())];
        return fmt::format(
            R"({{"material": "{}", "lot": {{"id": "B-{}"}}, "quantity": {}, "at": "{}"}})",
            material, 1000 + stream.count, 1 + stream.count % 20, iso_now());
    }
    const double value = fw::sim::profile_value(stream.profile, profile_seconds, 42, index);
    const double rounded = std::round(value * 1000.0) / 1000.0;
    if (stream.kind == Stream::Kind::raw) return fmt::format("{}", rounded);
    return fmt::format(R"({{"data": {{"value": {}, "ts": "{}"}}}})", rounded, iso_now());
}

}  // namespace

int main(int argc, char** argv) {
    std::optional<std::string> config_path;
    std::optional<std::string> broker_override;
    std::optional<std::string> ready_file;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag == "--config")
            config_path = argv[i + 1];
        else if (flag == "--broker")
            broker_override = argv[i + 1];
        else if (flag == "--ready-file")
            ready_file = argv[i + 1];
    }
    if (!config_path) {
        std::cerr
            << "usage: floorwatch-mqtt-sim --config FILE [--broker URI] [--ready-file FILE]\n";
        return 2;
    }
    SimConfig config;
    try {
        config = load(*config_path);
    } catch (const std::exception& error) {
        std::cerr << "floorwatch-mqtt-sim: " << error.what() << '\n';
        return 1;
    }
    if (broker_override) config.broker = *broker_override;
    signal(SIGTERM, [](int) { stop_requested = true; });
    signal(SIGINT, [](int) { stop_requested = true; });

    ::mqtt::iclient_persistence* no_persistence = nullptr;
    ::mqtt::async_client client(config.broker, config.client_id, no_persistence);
    auto options = ::mqtt::connect_options_builder()
                       .clean_session(true)
                       .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(10))
                       .finalize();
    try {
        client.connect(options)->wait_for(std::chrono::seconds(10));
    } catch (const ::mqtt::exception& error) {
        fw::log_error(kLog, "cannot connect to {}: {}", config.broker, error.what());
        return 1;
    }
    fw::log_info(kLog, "publishing {} stream(s) to {}", config.streams.size(), config.broker);
    if (ready_file) std::ofstream(*ready_file) << config.broker << '\n';

    const auto start = std::chrono::steady_clock::now();
    for (auto& stream : config.streams) stream.next = start;
    while (!stop_requested) {
        const auto now = std::chrono::steady_clock::now();
        const double seconds =
            std::chrono::duration<double>(now - start).count() * config.time_scale;
        for (std::size_t i = 0; i < config.streams.size(); ++i) {
            Stream& stream = config.streams[i];
            if (now < stream.next) continue;
            stream.next += stream.every;
            if (!client.is_connected()) continue;
            try {
                client.publish(stream.topic, payload_of(stream, seconds, i), 1, false);
            } catch (const ::mqtt::exception& error) {
                fw::log_warning(kLog, "publish to {} failed: {}", stream.topic, error.what());
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    try {
        client.disconnect()->wait_for(std::chrono::seconds(2));
    } catch (const ::mqtt::exception&) {
    }
    return 0;
}
