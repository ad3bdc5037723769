#pragma once
// Publishes the latest state of each work order to an MQTT broker (QoS 1, retained), so that
// handhelds and andon boards get their orders:
//
//   floorwatch/<site>/<node>/orders/<order id>                      every order
//   floorwatch/<site>/<node>/assignees/<user>/orders/<order id>     open orders in rectification
//
// An order that leaves a person (reassigned, closed, dismissed) has that person's retained
// message cleared (empty retained payload). The store's outbox is the record: publishing is best
// effort and never holds up an order action. The core thread only hands over (topic, payload)
// under a mutex; the publisher's own thread connects, publishes and waits for the broker, and
// after every reconnect publishes every topic's latest payload again.

#include <cstdint>
#include <memory>
#include <string>

#include "drivers/mqtt/mqtt_config.hpp"

namespace fw::orders {

struct PublisherStats {
    bool connected = false;
    std::uint64_t published = 0;  // acknowledged by the broker (QoS 1)
    std::uint64_t failed = 0;     // attempts that failed (retried after reconnect)
    std::size_t pending = 0;      // topics whose latest payload is not yet acknowledged
    std::string last_error;
};

class OrderPublisher {
  public:
    // `broker` as configured (connection options, TLS, password_file); its inputs are ignored.
    // The client id is the broker's with "-orders" appended, so it never takes over the
    // subscribing client's session.
    explicit OrderPublisher(mqtt::BrokerConfig broker);
    ~OrderPublisher();
    OrderPublisher(const OrderPublisher&) = delete;
    OrderPublisher& operator=(const OrderPublisher&) = delete;

    void start();
    // Latest payload per topic wins; an empty payload clears the retained message. Never blocks.
    void publish(const std::string& topic, std::string payload);
    void stop();
    PublisherStats stats() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// "floorwatch/<site>/<node>"
std::string order_topic_root(const std::string& site, const std::string& node);

}  // namespace fw::orders
