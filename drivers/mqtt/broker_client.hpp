#pragma once
// One MQTT broker connection (Eclipse Paho C++), its subscriptions and its inputs.
//
//   broker ──Paho callback thread──▶ match topic → decode → sinks (non-blocking: bounded queues)
//   own thread: connect, subscribe after every (re)connect, backoff, health reports, disconnect
//
// An exception on either thread (a sink that throws, out of memory) marks the broker disconnected
// with the error, is logged, and the client's loop starts again after a pause that doubles with
// each failure, from reconnect_min up to reconnect_max.
//
// Paho's callbacks never block: they decode and hand samples and events to the daemon's bounded
// queues. Every blocking client call (connect, subscribe, disconnect) runs on the client's own
// thread. Paho's automatic reconnect is not used: it does not retry a first connect that fails,
// and the thread's own loop logs each attempt and re-subscribes whether or not the broker kept the
// session.

#include <functional>
#include <memory>
#include <vector>

#include "daemon/core/health.hpp"
#include "daemon/core/plant_event.hpp"
#include "daemon/core/sample.hpp"
#include "drivers/mqtt/decoder.hpp"
#include "drivers/mqtt/mqtt_config.hpp"

namespace fw::mqtt {

// Called from Paho's callback thread or the client's thread; none may block.
struct Sinks {
    std::function<void(SampleBatch&&)> samples;
    std::function<void(PlantEventBatch&&)> events;
    // Descriptions of channels seen for the first time (equipment, area, unit, source).
    std::function<void(std::vector<ChannelInfo>&&)> channels;
    // The connection: connected or not with the reason, counters. On change and every few seconds.
    std::function<void(const BrokerHealth&)> health;
    // Per input (and one row for unmatched topics), every few seconds and at stop.
    std::function<void(const std::vector<InputHealth>&)> input_health;
};

class BrokerClient {
  public:
    BrokerClient(BrokerConfig broker, const AreaLookup& areas, Sinks sinks);
    ~BrokerClient();  // stops
    BrokerClient(const BrokerClient&) = delete;
    BrokerClient& operator=(const BrokerClient&) = delete;

    void start();
    // Disconnects (waiting at most about a second for the broker) and joins the thread.
    void stop();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace fw::mqtt
