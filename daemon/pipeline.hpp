#pragma once
// The running daemon's wiring: drivers → core → store.
//
//   Modbus buses ──(1 thread per bus, libmodbus)──┐
//   MQTT brokers ──(Paho callback thread each)────┤ SampleBatch per device cycle / per message
//                                                 ▼
//   ingest queue (bounded, drop oldest, counted) + plant event queue (same policy)
//                                                 │ drained on the core io_context
//                                                 ▼
//                                core (one Boost.Asio io_context)
//                                                 │
//                                                 ▼
//               store writer thread: SQLite (WAL), group commit, retention
//
// Domain logic (rules, alarms, work orders) runs on the core io_context, single-threaded; drivers
// and the store have their own threads and meet the core only through bounded queues.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/core/bounded_queue.hpp"
#include "daemon/core/health.hpp"
#include "daemon/core/sample.hpp"
#include "daemon/store/store.hpp"
#include "drivers/modbus/bus_poller.hpp"
#include "drivers/mqtt/broker_client.hpp"

namespace fw {

struct PipelineStats {
    std::uint64_t samples_received = 0;
    std::uint64_t samples_dropped_ingest = 0;  // evicted from the full ingest queue
    std::uint64_t events_received = 0;         // plant events from the drivers
    std::uint64_t events_dropped_ingest = 0;
    std::size_t brokers = 0;
    std::size_t brokers_offline = 0;
    store::WriterStats store;
    std::size_t devices = 0;
    std::size_t devices_offline = 0;
    std::size_t buses = 0;
};

class Pipeline {
  public:
    // Opens the store (throws store::StoreError) but starts nothing yet.
    Pipeline(boost::asio::io_context& core, Config config);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    void start();
    // Core thread: every batch as it leaves the ingest queues, before the store gets it (the
    // rules engine). Set before start().
    using SampleObserver = std::function<void(const SampleBatch&)>;
    using EventObserver = std::function<void(const PlantEventBatch&)>;
    void set_observers(SampleObserver samples, EventObserver events);
    store::Writer& writer() { return *writer_; }
    // Applies a new, already validated config: log level, retention and the drivers. Settings that
    // need a restart (store path, site, node) are kept and a warning says so. Core thread only.
    void reload(Config config);
    // Stops the drivers and hands everything they delivered to the observers and the store.
    void stop_inputs();
    // stop_inputs(), then waits until everything queued for the store is durable and closes it.
    void stop();

    PipelineStats stats() const;
    const Config& config() const { return config_; }

  private:
    void start_drivers();
    void stop_drivers();
    void on_samples(SampleBatch&& batch);               // bus threads
    void on_health(const DeviceHealth& health);         // bus threads
    void on_broker_health(const BrokerHealth& health);  // broker client threads
    void on_events(PlantEventBatch&& events);           // MQTT callback threads
    void post_drain();
    void drain_ingest();  // core thread
    std::vector<ChannelInfo> channel_infos() const;

    boost::asio::io_context& core_;
    Config config_;
    std::unique_ptr<store::Writer> writer_;
    SampleObserver observe_samples_;
    EventObserver observe_events_;
    BoundedQueue<SampleBatch> ingest_;
    std::atomic<bool> drain_posted_{false};
    std::atomic<std::uint64_t> samples_received_{0};
    std::atomic<std::uint64_t> samples_dropped_{0};
    std::vector<std::unique_ptr<modbus::BusPoller>> pollers_;
    BoundedQueue<PlantEventBatch> event_ingest_;
    std::atomic<std::uint64_t> events_received_{0};
    std::atomic<std::uint64_t> events_dropped_{0};
    std::vector<std::unique_ptr<mqtt::BrokerClient>> brokers_;
    mutable std::mutex health_mutex_;
    std::map<std::string, DeviceHealth> health_;         // key: driver:bus/device
    std::map<std::string, BrokerHealth> broker_health_;  // key: broker
};

}  // namespace fw
