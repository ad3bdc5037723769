#pragma once
// The sync's MQTT client (sync.broker), for both ends: it subscribes to one filter and publishes
// to any topic. The gateway agent subscribes to its own down topic and publishes on its up topic;
// a central process subscribes to every gateway's up topic (through the shared subscription
// `$share/<share_group>/floorwatch/v1/+/+/up`, so several processes split the traffic) and
// answers on their down topics.
//
//   Paho's thread ──message(topic, payload)──▶ the owner (posts to the core; never blocks)
//   core ──publish(topic, payload)──▶ queue ──▶ link thread: QoS 1, in order, a window of 64
//                                                in flight; re-subscribes after every connect
//
// QoS 1 both ways and clean_session = false, so the broker keeps messages while a client is
// briefly away; the stores are the record, not Paho (no persistence). The outgoing queue is
// bounded by bytes with the policy discard_new: every message either side sends is repeated by
// the protocol when it is lost (an ack by the next ack, events by the ack timeout and the next
// welcome, a welcome by the next hello).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "drivers/mqtt/mqtt_config.hpp"

namespace fw::sync {

struct LinkStats {
    bool connected = false;
    std::uint64_t received = 0;   // messages from the broker
    std::uint64_t published = 0;  // acknowledged by the broker
    std::uint64_t publish_failures = 0;
    std::uint64_t dropped = 0;  // refused by the full outgoing queue
    std::size_t pending = 0;    // messages waiting to be sent
    std::uint64_t connects = 0;
    std::string last_error;
};

class BrokerLink {
  public:
    struct Callbacks {
        // Paho's callback thread: copy and post, nothing more.
        std::function<void(std::string topic, std::string payload)> message;
        // The link's thread, after each subscribe that succeeded (true) and each loss (false).
        std::function<void(bool connected)> connection;
    };

    // `filter`: the subscription (down_topic, or central_subscription). `instance` prefixes log
    // lines.
    BrokerLink(mqtt::BrokerConfig broker, std::string filter, std::string instance,
               Callbacks callbacks);
    ~BrokerLink();
    BrokerLink(const BrokerLink&) = delete;
    BrokerLink& operator=(const BrokerLink&) = delete;

    void start();
    // Never blocks; any thread. QoS 1, not retained.
    void publish(std::string topic, std::string payload);
    void stop();
    LinkStats stats() const;

    // Bytes of payload the outgoing queue holds at most.
    static constexpr std::size_t kMaxPendingBytes = std::size_t{64} * 1024 * 1024;
    // Publishes awaiting the broker's acknowledgement at once.
    static constexpr std::size_t kWindow = 64;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace fw::sync
