// BrokerClient against a real Mosquitto on 127.0.0.1 (tests/support/mosquitto.hpp), when the code
// it hands data to throws: on Paho's callback thread (a sample sink) and on the client's own
// thread (a health sink).

#include "drivers/mqtt/broker_client.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/mosquitto.hpp"
#include "tests/support/stderr_capture.hpp"

namespace fw::mqtt {
namespace {

using namespace std::chrono_literals;

// What the client reports, for the test thread to wait on. A sink can be told to throw once.
class Recorder {
  public:
    std::atomic<bool> throw_from_next_sample{false};
    std::atomic<bool> throw_from_next_connected_health{false};

    Sinks sinks() {
        Sinks sinks;
        sinks.samples = [this](SampleBatch&& batch) {
            if (throw_from_next_sample.exchange(false)) {
                throw std::runtime_error("sink refused the sample");
            }
            std::lock_guard lock(mutex_);
            for (auto& sample : batch) samples_.push_back(std::move(sample));
            changed_.notify_all();
        };
        sinks.health = [this](const BrokerHealth& health) {
            if (health.connected && throw_from_next_connected_health.exchange(false)) {
                throw std::runtime_error("health sink refused the report");
            }
            std::lock_guard lock(mutex_);
            health_.push_back(health);
            changed_.notify_all();
        };
        return sinks;
    }

    // Waits until `done` holds over what arrived; false after `limit` (the test then fails).
    template <typename Predicate>
    bool wait_for(Predicate done, std::chrono::seconds limit = 15s) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [&] { return done(samples_, health_); });
    }

    std::vector<BrokerHealth> health() {
        std::lock_guard lock(mutex_);
        return health_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Sample> samples_;
    std::vector<BrokerHealth> health_;  // every report, oldest first
};

using Samples = std::vector<Sample>;
using HealthReports = std::vector<BrokerHealth>;

bool connected_with_restarts(const HealthReports& reports, std::uint64_t restarts) {
    return !reports.empty() && reports.back().connected &&
           reports.back().thread_restarts == restarts;
}

bool has_value(const Samples& samples, double value) {
    return std::any_of(samples.begin(), samples.end(),
                       [&](const Sample& sample) { return sample.value == value; });
}

BrokerConfig plant_broker(const std::string& uri) {
    InputConfig input;
    input.name = "pucks";
    input.topic = "plant/+/vibration";
    input.channel = "{1}.vibration";
    BrokerConfig broker;
    broker.name = "plant";
    broker.uri = uri;
    broker.client_id = "fw-client-test-" + std::to_string(::getpid());
    broker.connect_timeout = 2s;
    broker.keep_alive = 5s;
    broker.reconnect_min = 100ms;
    broker.reconnect_max = 400ms;
    broker.inputs = {input};
    return broker;
}

const AreaLookup kNoAreas = [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
};

}  // namespace

TEST_CASE(
    "broker client: a sink that throws on Paho's thread marks the broker disconnected, is "
    "logged, and receiving resumes") {
    test::TempDir dir("fw-mqtt-client");
    test::Mosquitto mosquitto(dir.path());
    Recorder recorder;
    test::StderrCapture log;
    BrokerClient client(plant_broker(mosquitto.uri()), kNoAreas, recorder.sinks());
    client.start();
    REQUIRE(recorder.wait_for([](const Samples&, const HealthReports& reports) {
        return connected_with_restarts(reports, 0);
    }));

    recorder.throw_from_next_sample = true;
    REQUIRE(mosquitto.publish("plant/press-1/vibration", "1.5") == 0);
    REQUIRE_MESSAGE(recorder.wait_for([](const Samples&, const HealthReports& reports) {
        return connected_with_restarts(reports, 1);
    }),
                    log.text());
    REQUIRE(mosquitto.publish("plant/press-1/vibration", "2.5") == 0);
    CHECK(recorder.wait_for(
        [](const Samples& samples, const HealthReports&) { return has_value(samples, 2.5); }));
    client.stop();

    const std::string error =
        "client thread failed: handling a message on plant/press-1/vibration: sink refused the "
        "sample";
    const auto reports = recorder.health();
    CHECK(std::any_of(reports.begin(), reports.end(), [&](const BrokerHealth& health) {
        return !health.connected && health.last_error == error;
    }));
    CHECK(reports.back().reconnects == 1);
    CHECK(log.text().find("[mqtt:plant] " + error + "; restarting it in 100ms") !=
          std::string::npos);
}

TEST_CASE(
    "broker client: a throw on the client's own thread marks the broker disconnected, is "
    "logged, and the client connects again") {
    test::TempDir dir("fw-mqtt-client");
    test::Mosquitto mosquitto(dir.path());
    Recorder recorder;
    recorder.throw_from_next_connected_health = true;
    test::StderrCapture log;
    BrokerClient client(plant_broker(mosquitto.uri()), kNoAreas, recorder.sinks());
    client.start();
    REQUIRE_MESSAGE(recorder.wait_for([](const Samples&, const HealthReports& reports) {
        return connected_with_restarts(reports, 1);
    }),
                    log.text());
    REQUIRE(mosquitto.publish("plant/press-2/vibration", "3.5") == 0);
    CHECK(recorder.wait_for(
        [](const Samples& samples, const HealthReports&) { return has_value(samples, 3.5); }));
    client.stop();

    const std::string error = "client thread failed: health sink refused the report";
    const auto reports = recorder.health();
    CHECK(std::any_of(reports.begin(), reports.end(), [&](const BrokerHealth& health) {
        return !health.connected && health.last_error == error;
    }));
    CHECK(reports.back().connect_attempts == 2);
    CHECK(log.text().find("[mqtt:plant] " + error + "; restarting it in 100ms") !=
          std::string::npos);
}

}  // namespace fw::mqtt
