#pragma once
// The rules engine in the running daemon. Samples and plant events reach it on the core
// io_context (from the pipeline's drain), a 500 ms timer advances delays, windows and shelving,
// and operators act through the control socket. Every AlarmEvent becomes a row of alarm_events
// (and the alarm's row in `alarms`) through a store WriteJob; listeners (work orders) hear about
// the events only once they are durable, in id order, on the core io_context.
//
//   pipeline drain ──samples/events──▶ Engine ──AlarmEvents──▶ WriteJob ──durable──▶ listeners
//   control socket ──alarm.ack/...──▶   │                                   └──▶ reply to the CLI
//   tick timer (500 ms) ───────────────▶│
//   snapshot timer (10 s), stop, reload ──▶ engine_state row
//
// State that must survive a restart (delays in progress, recurrence windows, shelving) is the
// engine's snapshot, saved every 10 s, at stop and before a reload, and restored at start.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/alarms/alarm_store.hpp"
#include "daemon/config/config.hpp"
#include "daemon/control/control.hpp"
#include "daemon/core/plant_event.hpp"
#include "daemon/core/sample.hpp"
#include "daemon/store/store.hpp"
#include "rules/engine.hpp"

namespace fw::alarms {

// Called on the core io_context after the events are durable, in id order.
using AlarmListener = std::function<void(const std::vector<StoredAlarmEvent>& events)>;

struct AlarmServiceStats {
    std::size_t alarms = 0;
    std::size_t active = 0;  // condition true
    std::size_t unacknowledged = 0;
    std::uint64_t events_written = 0;
    std::uint64_t write_failures = 0;
    rules::EngineCounters engine;
};

class AlarmService {
  public:
    // Builds the engine from the config's rules (throws rules::RulesError, which the config
    // loader has already ruled out) and registers the alarm commands on `control` when given.
    AlarmService(boost::asio::io_context& core, store::Writer& writer, const Config& config,
                 control::Server* control);
    ~AlarmService();
    AlarmService(const AlarmService&) = delete;
    AlarmService& operator=(const AlarmService&) = delete;

    // Restores the saved engine state (read from the store file) and starts the timers.
    void start();
    // Core thread: feed the engine.
    void on_samples(const SampleBatch& batch);
    void on_events(const PlantEventBatch& events);
    // Core thread: a new, valid config. Snapshot, rebuild with the new rules, restore (state of
    // rules whose definition changed is dropped, operator state kept).
    void reload(const Config& config);
    // Stops the timers and queues the final snapshot; the caller then closes the store.
    void stop();

    void add_listener(AlarmListener listener);
    // True while alarm events are queued but not yet durable (shutdown waits for it).
    bool writes_in_flight() const;
    AlarmServiceStats stats() const;

  private:
    // Callbacks hold weak pointers to it (store/post_when_durable.hpp: the lifetime idiom).
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace fw::alarms
